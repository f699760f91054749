package dev.ltm.autograd;

/**
 * Double-precision naive references of the autograd ops: each forward beside its hand-written
 * backward, in plain loops over flat row-major arrays. Backwards take the upstream gradient dy
 * and return the gradient of each input.
 */
final class DoubleRef {
    private DoubleRef() {}

    // ---- broadcasting -----------------------------------------------------------------------

    /** The numpy broadcast of two shapes (right-aligned, 1 stretches). */
    static int[] broadcastShape(int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i < r - a.length ? 1 : a[i - (r - a.length)], db = i < r - b.length ? 1 : b[i - (r - b.length)];
            if (da != db && da != 1 && db != 1) throw new IllegalArgumentException("broadcast: dims " + da + " and " + db);
            out[i] = Math.max(da, db);
        }
        return out;
    }

    /** For each flat index of {@code out}, the flat index of the broadcast input of shape {@code in}. */
    static int[] broadcastIndex(int[] out, int[] in) {
        int n = size(out), r = out.length, off = r - in.length;
        int[] idx = new int[n];
        int[] coord = new int[r];
        for (int o = 0; o < n; o++) {
            int rem = o;
            for (int d = r - 1; d >= 0; d--) { coord[d] = rem % out[d]; rem /= out[d]; }
            int flat = 0;
            for (int d = 0; d < in.length; d++) flat = flat * in[d] + (in[d] == 1 ? 0 : coord[d + off]);
            idx[o] = flat;
        }
        return idx;
    }

    static int size(int[] shape) {
        int n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    /** Elementwise binary op: 0 add, 1 sub, 2 mul, 3 div. */
    static double[] binary(int kind, double[] a, int[] as, double[] b, int[] bs) {
        int[] os = broadcastShape(as, bs);
        int[] ia = broadcastIndex(os, as), ib = broadcastIndex(os, bs);
        double[] y = new double[size(os)];
        for (int o = 0; o < y.length; o++) {
            double x = a[ia[o]], z = b[ib[o]];
            y[o] = switch (kind) { case 0 -> x + z; case 1 -> x - z; case 2 -> x * z; default -> x / z; };
        }
        return y;
    }

    static double[][] binaryBackward(int kind, double[] a, int[] as, double[] b, int[] bs, double[] dy) {
        int[] os = broadcastShape(as, bs);
        int[] ia = broadcastIndex(os, as), ib = broadcastIndex(os, bs);
        double[] da = new double[a.length], db = new double[b.length];
        for (int o = 0; o < dy.length; o++) {
            double x = a[ia[o]], z = b[ib[o]], g = dy[o];
            switch (kind) {
                case 0 -> { da[ia[o]] += g; db[ib[o]] += g; }
                case 1 -> { da[ia[o]] += g; db[ib[o]] -= g; }
                case 2 -> { da[ia[o]] += g * z; db[ib[o]] += g * x; }
                default -> { da[ia[o]] += g / z; db[ib[o]] -= g * x / (z * z); }
            }
        }
        return new double[][] {da, db};
    }

    // ---- unary ------------------------------------------------------------------------------

    /** Elementwise unary op: 0 exp, 1 log, 2 square, 3 silu. */
    static double[] unary(int kind, double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            y[i] = switch (kind) { case 0 -> Math.exp(v); case 1 -> Math.log(v); case 2 -> v * v; default -> v / (1 + Math.exp(-v)); };
        }
        return y;
    }

    static double[] unaryBackward(int kind, double[] x, double[] dy) {
        double[] dx = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double v = x[i], s = 1 / (1 + Math.exp(-v));
            double d = switch (kind) { case 0 -> Math.exp(v); case 1 -> 1 / v; case 2 -> 2 * v; default -> s * (1 + v * (1 - s)); };
            dx[i] = dy[i] * d;
        }
        return dx;
    }

    // ---- reductions: x viewed as [outer, n, inner], summed over n ----------------------------

    static double[] sumAxis(double[] x, int outer, int n, int inner) {
        double[] y = new double[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < n; j++)
                for (int i = 0; i < inner; i++) y[o * inner + i] += x[(o * n + j) * inner + i];
        return y;
    }

    static double[] sumAxisBackward(double[] dy, int outer, int n, int inner) {
        double[] dx = new double[outer * n * inner];
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < n; j++)
                for (int i = 0; i < inner; i++) dx[(o * n + j) * inner + i] = dy[o * inner + i];
        return dx;
    }

    // ---- matmul: a [batch, M, K] (or [batch, K, M] when transA), b likewise or shared [.., ..] ---

    private static double at(double[] m, int base, int rows, int cols, boolean trans, int i, int j) {
        // element (i, j) of op(m), where m is stored [rows, cols] and op transposes when trans
        return trans ? m[base + j * cols + i] : m[base + i * cols + j];
    }

    /** C[batch, M, N] = op(A) op(B); bShared: B has no batch axis. */
    static double[] matmul(double[] a, double[] b, int batch, int m, int k, int n, boolean ta, boolean tb, boolean bShared) {
        double[] c = new double[batch * m * n];
        for (int t = 0; t < batch; t++) {
            int ab = t * m * k, bb = bShared ? 0 : t * k * n;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        s += at(a, ab, ta ? k : m, ta ? m : k, ta, i, p) * at(b, bb, tb ? n : k, tb ? k : n, tb, p, j);
                    }
                    c[(t * m + i) * n + j] = s;
                }
        }
        return c;
    }

    static double[][] matmulBackward(double[] a, double[] b, int batch, int m, int k, int n, boolean ta, boolean tb,
                                     boolean bShared, double[] dc) {
        double[] da = new double[a.length], db = new double[b.length];
        for (int t = 0; t < batch; t++) {
            int ab = t * m * k, bb = bShared ? 0 : t * k * n;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double g = dc[(t * m + i) * n + j];
                    for (int p = 0; p < k; p++) {
                        // d op(A)[i,p] += g op(B)[p,j];  d op(B)[p,j] += op(A)[i,p] g
                        double av = at(a, ab, ta ? k : m, ta ? m : k, ta, i, p), bv = at(b, bb, tb ? n : k, tb ? k : n, tb, p, j);
                        da[ta ? ab + p * m + i : ab + i * k + p] += g * bv;
                        db[tb ? bb + j * k + p : bb + p * n + j] += av * g;
                    }
                }
        }
        return new double[][] {da, db};
    }

    // ---- softmax over rows of x [R, C] (cross-entropy's reference) ----------------------------

    static double[] logSoftmax(double[] x, int rows, int cols) {
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double mx = Double.NEGATIVE_INFINITY, s = 0;
            for (int c = 0; c < cols; c++) mx = Math.max(mx, x[r * cols + c]);
            for (int c = 0; c < cols; c++) s += Math.exp(x[r * cols + c] - mx);
            double lse = mx + Math.log(s);
            for (int c = 0; c < cols; c++) y[r * cols + c] = x[r * cols + c] - lse;
        }
        return y;
    }

    static double[] softmax(double[] x, int rows, int cols) { return unary(0, logSoftmax(x, rows, cols)); }

    // ---- rmsNorm: x [R, H], g [H] --------------------------------------------------------------

    static double[] rmsNorm(double[] x, double[] g, int rows, int h, double eps) {
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < h; i++) ss += x[r * h + i] * x[r * h + i];
            double s = 1 / Math.sqrt(ss / h + eps);
            for (int i = 0; i < h; i++) y[r * h + i] = x[r * h + i] * s * g[i];
        }
        return y;
    }

    static double[][] rmsNormBackward(double[] x, double[] g, int rows, int h, double eps, double[] dy) {
        // s = (mean x^2 + eps)^-1/2: dx_i = s g_i dy_i - s^3 / H x_i sum_j g_j dy_j x_j;  dg_i = sum_r dy x s
        double[] dx = new double[x.length], dg = new double[h];
        for (int r = 0; r < rows; r++) {
            double ss = 0, dot = 0;
            for (int i = 0; i < h; i++) {
                ss += x[r * h + i] * x[r * h + i];
                dot += g[i] * dy[r * h + i] * x[r * h + i];
            }
            double s = 1 / Math.sqrt(ss / h + eps);
            for (int i = 0; i < h; i++) {
                dx[r * h + i] = s * g[i] * dy[r * h + i] - s * s * s / h * x[r * h + i] * dot;
                dg[i] += dy[r * h + i] * x[r * h + i] * s;
            }
        }
        return new double[][] {dx, dg};
    }

    // ---- embedding: table [V, H], ids [N] -> [N, H] --------------------------------------------

    static double[] embedding(double[] table, int h, int[] ids) {
        double[] y = new double[ids.length * h];
        for (int n = 0; n < ids.length; n++) System.arraycopy(table, ids[n] * h, y, n * h, h);
        return y;
    }

    static double[] embeddingBackward(int vocab, int h, int[] ids, double[] dy) {
        double[] dt = new double[vocab * h];
        for (int n = 0; n < ids.length; n++)
            for (int i = 0; i < h; i++) dt[ids[n] * h + i] += dy[n * h + i];
        return dt;
    }

    // ---- rope: x [B, T, nH, hd], pairs (2i, 2i+1) rotated by pos * theta^(-2i/hd) ------------------

    static double[] rope(double[] x, int b, int t, int nh, int hd, int[] pos, double theta, boolean inverse) {
        double[] y = new double[x.length];
        for (int bt = 0; bt < b * t; bt++)
            for (int h = 0; h < nh; h++)
                for (int i = 0; i < hd / 2; i++) {
                    double angle = pos[bt % t] * Math.pow(theta, -2.0 * i / hd);
                    double c = Math.cos(angle), s = inverse ? -Math.sin(angle) : Math.sin(angle);
                    int off = (bt * nh + h) * hd + 2 * i;
                    y[off] = x[off] * c - x[off + 1] * s;
                    y[off + 1] = x[off] * s + x[off + 1] * c;
                }
        return y;
    }

    /** The rotation is orthogonal: its gradient is the inverse rotation of dy. */
    static double[] ropeBackward(int b, int t, int nh, int hd, int[] pos, double theta, double[] dy) {
        return rope(dy, b, t, nh, hd, pos, theta, true);
    }

    // ---- crossEntropy: logits [R, V], targets [R] (negative = ignored), weights [R] -> scalar ------

    static double crossEntropy(double[] x, int rows, int v, int[] targets, double[] w) {
        double[] ls = logSoftmax(x, rows, v);
        double loss = 0;
        for (int r = 0; r < rows; r++) if (targets[r] >= 0) loss -= w[r] * ls[r * v + targets[r]];
        return loss;
    }

    static double[] crossEntropyBackward(double[] x, int rows, int v, int[] targets, double[] w, double dy) {
        // dlogits_r = dy w_r (softmax_r - onehot(t_r)), zero on ignored rows
        double[] p = softmax(x, rows, v), dx = new double[x.length];
        for (int r = 0; r < rows; r++) {
            if (targets[r] < 0) continue;
            for (int c = 0; c < v; c++) dx[r * v + c] = dy * w[r] * (p[r * v + c] - (c == targets[r] ? 1 : 0));
        }
        return dx;
    }

    // ---- attention: q [B, Tq, nH, hd], k, v [B, Tk, nKv, hd]; window > 0 causal, 0 unmasked ------

    private static boolean visible(int i, int j, int window) { return window == 0 || (j <= i && j > i - window); }

    /** Probabilities P [B, nH, Tq, Tk] of the masked, scaled scores (0 where masked). */
    static double[] attentionProbs(double[] q, double[] k, int b, int tq, int tk, int nh, int nkv, int hd, int window) {
        double scale = 1 / Math.sqrt(hd);
        double[] p = new double[b * nh * tq * tk];
        for (int bb = 0; bb < b; bb++)
            for (int h = 0; h < nh; h++) {
                int g = h / (nh / nkv);
                for (int i = 0; i < tq; i++) {
                    int row = ((bb * nh + h) * tq + i) * tk;
                    double mx = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < tk; j++) {
                        if (!visible(i, j, window)) continue;
                        double s = 0;
                        for (int d = 0; d < hd; d++) s += q[((bb * tq + i) * nh + h) * hd + d] * k[((bb * tk + j) * nkv + g) * hd + d];
                        p[row + j] = s * scale;
                        mx = Math.max(mx, p[row + j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < tk; j++) if (visible(i, j, window)) sum += p[row + j] = Math.exp(p[row + j] - mx);
                    for (int j = 0; j < tk; j++) p[row + j] = visible(i, j, window) ? p[row + j] / sum : 0;
                }
            }
        return p;
    }

    static double[] attention(double[] q, double[] k, double[] v, int b, int tq, int tk, int nh, int nkv, int hd, int window) {
        double[] p = attentionProbs(q, k, b, tq, tk, nh, nkv, hd, window), out = new double[q.length];
        for (int bb = 0; bb < b; bb++)
            for (int h = 0; h < nh; h++)
                for (int i = 0; i < tq; i++)
                    for (int j = 0; j < tk; j++) {
                        double pij = p[((bb * nh + h) * tq + i) * tk + j];
                        for (int d = 0; d < hd; d++) {
                            out[((bb * tq + i) * nh + h) * hd + d] += pij * v[((bb * tk + j) * nkv + h / (nh / nkv)) * hd + d];
                        }
                    }
        return out;
    }

    static double[][] attentionBackward(double[] q, double[] k, double[] v, int b, int tq, int tk, int nh, int nkv, int hd,
                                        int window, double[] dout) {
        // dv_j += p_ij do_i;  dp_ij = do_i . v_j;  ds_ij = p_ij (dp_ij - sum_j p_ij dp_ij);
        // dq_i += scale sum_j ds_ij k_j;  dk_j += scale ds_ij q_i
        double scale = 1 / Math.sqrt(hd);
        double[] p = attentionProbs(q, k, b, tq, tk, nh, nkv, hd, window);
        double[] dq = new double[q.length], dk = new double[k.length], dv = new double[v.length], dp = new double[tk];
        for (int bb = 0; bb < b; bb++)
            for (int h = 0; h < nh; h++) {
                int g = h / (nh / nkv);
                for (int i = 0; i < tq; i++) {
                    int row = ((bb * nh + h) * tq + i) * tk, qo = ((bb * tq + i) * nh + h) * hd;
                    double rowDot = 0;
                    for (int j = 0; j < tk; j++) {
                        int ko = ((bb * tk + j) * nkv + g) * hd;
                        double s = 0;
                        for (int d = 0; d < hd; d++) {
                            s += dout[qo + d] * v[ko + d];
                            dv[ko + d] += p[row + j] * dout[qo + d];
                        }
                        dp[j] = s;
                        rowDot += p[row + j] * s;
                    }
                    for (int j = 0; j < tk; j++) {
                        int ko = ((bb * tk + j) * nkv + g) * hd;
                        double ds = p[row + j] * (dp[j] - rowDot) * scale;
                        for (int d = 0; d < hd; d++) {
                            dq[qo + d] += ds * k[ko + d];
                            dk[ko + d] += ds * q[qo + d];
                        }
                    }
                }
            }
        return new double[][] {dq, dk, dv};
    }
}
