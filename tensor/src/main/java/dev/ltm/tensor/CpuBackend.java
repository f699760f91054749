package dev.ltm.tensor;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;

/**
 * The reference backend: kernels on heap float arrays, vectorised with the Vector API where it
 * pays, and parallel over {@link Parallel}'s pool for large work. GEMM and attention live in
 * their own files ({@link Gemm}, {@link Attention}), each with its naive twin.
 */
public final class CpuBackend implements Backend {
    /** The single CPU backend. */
    public static final CpuBackend INSTANCE = new CpuBackend();

    /** Below this many elements an op runs on the calling thread. */
    private static final int PARALLEL_GRAIN = 1 << 15;

    private CpuBackend() {}

    @Override public String name() { return "cpu"; }

    @Override public Tensor zeros(Shape shape) { return Tensor.zeroed(shape); }

    @Override public Tensor fromArray(float[] values, Shape shape) { return Tensor.of(values.clone(), shape); }

    // ---- matmul: a [..., M, K] x b [..., K, N] -> [..., M, N] -------------------------------

    @Override
    public Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB) {
        Shape as = a.shape(), bs = b.shape(), os = Shape.matmulResult(as, bs, transA, transB);
        int m = os.dim(-2), n = os.dim(-1), k = transA ? as.dim(-2) : as.dim(-1);
        int batch = as.sizeOf(0, as.rank() - 2);
        Tensor out = Tensor.output(os);
        boolean sharedB = bs.rank() == 2;
        int ldb = bs.dim(-1);
        if (sharedB && !transA) {
            // The batch folds into M: one GEMM over all rows (the common linear-layer case).
            Gemm.sgemm(false, transB, batch * m, n, k, a.data(), 0, k, b.data(), 0, ldb, out.data(), 0, n, false);
            return out;
        }
        int lda = as.dim(-1);
        for (int i = 0; i < batch; i++) {
            Gemm.sgemm(transA, transB, m, n, k, a.data(), i * m * k, lda,
                    b.data(), sharedB ? 0 : i * k * n, ldb, out.data(), i * m * n, n, false);
        }
        return out;
    }

    // ---- elementwise ------------------------------------------------------------------------

    /** Strides of {@code s} seen through broadcasting to {@code out} (0 on broadcast axes). */
    static int[] broadcastStrides(Shape s, Shape out) {
        int r = out.rank(), off = r - s.rank();
        int[] st = new int[r];
        int[] own = s.strides();
        for (int i = 0; i < s.rank(); i++) st[off + i] = s.dim(i) == 1 ? 0 : own[i];
        return st;
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b, Shape outShape) {
        Tensor out = Tensor.output(outShape);
        float[] x = a.data(), y = b.data(), o = out.data();
        if (a.shape().equals(outShape) && b.shape().equals(outShape)) {
            parallelChunks(o.length, (lo, hi) -> binaryRun(op, x, lo, 1, y, lo, 1, o, lo, hi - lo));
            return out;
        }
        int r = outShape.rank();
        if (r == 0) {
            o[0] = op.apply(x[0], y[0]);
            return out;
        }
        int[] sa = broadcastStrides(a.shape(), outShape), sb = broadcastStrides(b.shape(), outShape);
        int inner = outShape.dim(r - 1), rows = outShape.size() / Math.max(1, inner);
        int[] dims = outShape.dims();
        parallelChunks(rows * (long) inner, rows, (lo, hi) -> {
            for (int row = lo; row < hi; row++) {
                int oa = 0, ob = 0, rem = row;
                for (int d = r - 2; d >= 0; d--) {
                    int idx = rem % dims[d];
                    rem /= dims[d];
                    oa += idx * sa[d];
                    ob += idx * sb[d];
                }
                binaryRun(op, x, oa, sa[r - 1], y, ob, sb[r - 1], o, row * inner, inner);
            }
        });
        return out;
    }

    /** o[oOff + i] = x[xOff + i*xs] op y[yOff + i*ys] for i < n, where xs and ys are 0 or 1. */
    static void binaryRun(BinaryOp op, float[] x, int xOff, int xs, float[] y, int yOff, int ys, float[] o, int oOff, int n) {
        int i = 0;
        if (Simd.ENABLED && xs == 1 && ys == 1) {
            int len = Simd.F.length(), bound = Simd.F.loopBound(n);
            for (; i < bound; i += len) {
                FloatVector va = FloatVector.fromArray(Simd.F, x, xOff + i), vb = FloatVector.fromArray(Simd.F, y, yOff + i);
                FloatVector vr = switch (op) {
                    case ADD -> va.add(vb);
                    case SUB -> va.sub(vb);
                    case MUL -> va.mul(vb);
                    case DIV -> va.div(vb);
                };
                vr.intoArray(o, oOff + i);
            }
        }
        for (; i < n; i++) o[oOff + i] = op.apply(x[xOff + i * xs], y[yOff + i * ys]);
    }

    @Override
    public Tensor unary(UnaryOp op, Tensor a) {
        Tensor out = Tensor.output(a.shape());
        float[] x = a.data(), o = out.data();
        parallelChunks(x.length, (lo, hi) -> {
            if (VectorMath.transcendental(op, x, o, lo, hi)) return;
            int i = lo;
            if (Simd.ENABLED && (op == UnaryOp.NEG || op == UnaryOp.SQUARE || op == UnaryOp.ABS || op == UnaryOp.SQRT)) {
                int len = Simd.F.length();
                for (; i + len <= hi; i += len) {
                    FloatVector v = FloatVector.fromArray(Simd.F, x, i);
                    FloatVector r = switch (op) {
                        case NEG -> v.neg();
                        case SQUARE -> v.mul(v);
                        case ABS -> v.abs();
                        default -> v.sqrt();
                    };
                    r.intoArray(o, i);
                }
            }
            for (; i < hi; i++) o[i] = op.apply(x[i]);
        });
        return out;
    }

    @Override
    public Tensor affine(Tensor a, float mul, float add) {
        Tensor out = Tensor.output(a.shape());
        float[] x = a.data(), o = out.data();
        parallelChunks(x.length, (lo, hi) -> {
            int i = lo;
            if (Simd.ENABLED) {
                int len = Simd.F.length();
                for (; i + len <= hi; i += len) {
                    FloatVector.fromArray(Simd.F, x, i).fma(mul, add).intoArray(o, i);
                }
            }
            for (; i < hi; i++) o[i] = x[i] * mul + add;
        });
        return out;
    }

    /**
     * {@link Backend#siluBackward} in one pass instead of six (sigmoid, two affines, three products),
     * the same bits: the elements split as {@link #unary} splits them, so sigmoid's vector body and
     * scalar tail fall on the same elements, and every later step rounds once, as the separate ops do.
     */
    @Override
    public Tensor siluBackward(Tensor a, Tensor g) {
        if (!a.shape().equals(g.shape())) return Backend.super.siluBackward(a, g);
        return fused(a, g, (x, gd, o, lo, hi) -> {
            int i = lo;
            if (Simd.ENABLED) {
                int len = Simd.F.length();
                FloatVector one = FloatVector.broadcast(Simd.F, 1f);
                for (; i + len <= hi; i += len) {
                    FloatVector v = FloatVector.fromArray(Simd.F, x, i);
                    FloatVector sig = one.div(Simd.exp(v.neg()).add(1f));
                    FloatVector ds = sig.mul(v.mul(sig.fma(-1f, 1f)).fma(1f, 1f));
                    FloatVector.fromArray(Simd.F, gd, i).mul(ds).intoArray(o, i);
                }
            }
            for (; i < hi; i++) {
                float sig = UnaryOp.SIGMOID.apply(x[i]);
                o[i] = gd[i] * (sig * ((x[i] * (sig * -1f + 1f)) * 1f + 1f));
            }
        });
    }

    /**
     * {@link Backend#swiglu} in one pass instead of two, the same bits: silu's vector body and scalar tail
     * fall on the elements {@link #unary} gives them (the same chunks), and the product rounds once.
     */
    @Override
    public Tensor swiglu(Tensor a, Tensor b) {
        if (!a.shape().equals(b.shape())) return Backend.super.swiglu(a, b);
        return fused(a, b, (x, y, o, lo, hi) -> {
            int i = lo;
            if (Simd.ENABLED) {
                for (int len = Simd.F.length(); i + len <= hi; i += len) {
                    FloatVector v = FloatVector.fromArray(Simd.F, x, i);
                    v.div(Simd.exp(v.neg()).add(1f)).mul(FloatVector.fromArray(Simd.F, y, i)).intoArray(o, i);
                }
            }
            for (; i < hi; i++) o[i] = UnaryOp.SILU.apply(x[i]) * y[i];
        });
    }

    /** The body of a fused elementwise op of two same-shape inputs: fills o[lo, hi) from x and y. */
    private interface FusedBody { void run(float[] x, float[] y, float[] o, int lo, int hi); }

    /** A new tensor of a's shape filled by {@code body}, the elements chunked over the threads as {@link #unary} chunks them. */
    private static Tensor fused(Tensor a, Tensor b, FusedBody body) {
        Tensor out = Tensor.output(a.shape());
        float[] x = a.data(), y = b.data(), o = out.data();
        parallelChunks(x.length, (lo, hi) -> body.run(x, y, o, lo, hi));
        return out;
    }

    /**
     * {@link Backend#swigluBackward} in one pass instead of four (g * b, silu's backward, silu again, g * silu),
     * the same bits, split as {@link #unary} and {@link #siluBackward} split theirs.
     */
    @Override
    public Tensor[] swigluBackward(Tensor a, Tensor b, Tensor g) {
        if (!a.shape().equals(b.shape()) || !a.shape().equals(g.shape())) return Backend.super.swigluBackward(a, b, g);
        Tensor da = Tensor.output(a.shape()), db = Tensor.output(a.shape());
        float[] x = a.data(), y = b.data(), gd = g.data(), dx = da.data(), dy = db.data();
        parallelChunks(x.length, (lo, hi) -> {
            int i = lo;
            if (Simd.ENABLED) {
                int len = Simd.F.length();
                FloatVector one = FloatVector.broadcast(Simd.F, 1f);
                for (; i + len <= hi; i += len) {
                    FloatVector v = FloatVector.fromArray(Simd.F, x, i), gv = FloatVector.fromArray(Simd.F, gd, i);
                    FloatVector e = Simd.exp(v.neg()).add(1f);
                    gv.mul(v.div(e)).intoArray(dy, i);
                    FloatVector sig = one.div(e);
                    FloatVector ds = sig.mul(v.mul(sig.fma(-1f, 1f)).fma(1f, 1f));
                    gv.mul(FloatVector.fromArray(Simd.F, y, i)).mul(ds).intoArray(dx, i);
                }
            }
            for (; i < hi; i++) {
                dy[i] = gd[i] * UnaryOp.SILU.apply(x[i]);
                float sig = UnaryOp.SIGMOID.apply(x[i]);
                dx[i] = (gd[i] * y[i]) * (sig * ((x[i] * (sig * -1f + 1f)) * 1f + 1f));
            }
        });
        return new Tensor[] {da, db};
    }

    // ---- reductions -------------------------------------------------------------------------

    @Override
    public Tensor sumAll(Tensor a) { return Tensor.scalar((float) a.sumAll()); }

    @Override
    public Tensor sumTo(Tensor a, Shape target) {
        if (a.shape().equals(target)) return a.copy();
        Shape s = a.shape();
        int r = s.rank();
        int[] st = broadcastStrides(target, s);
        Tensor out = Tensor.zeroed(target);
        float[] x = a.data(), o = out.data();
        int inner = r == 0 ? 1 : s.dim(r - 1), rows = s.size() / Math.max(1, inner);
        int[] dims = s.dims();
        int innerStride = r == 0 ? 0 : st[r - 1];
        for (int row = 0; row < rows; row++) {
            int ot = 0, rem = row;
            for (int d = r - 2; d >= 0; d--) {
                int idx = rem % dims[d];
                rem /= dims[d];
                ot += idx * st[d];
            }
            int base = row * inner;
            if (innerStride == 0) {
                float acc = 0;
                for (int q = 0; q < inner; q++) acc += x[base + q];
                o[ot] += acc;
            } else {
                for (int q = 0; q < inner; q++) o[ot + q] += x[base + q];
            }
        }
        return out;
    }

    // ---- layout -----------------------------------------------------------------------------

    @Override
    public Tensor permute(Tensor a, int[] perm) {
        int r = perm.length;
        Shape os = a.shape().permute(perm);
        int[] od = os.dims(), ps = a.shape().permutedStrides(perm);
        Tensor out = Tensor.output(os);
        float[] x = a.data(), o = out.data();
        if (r == 0) {
            o[0] = x[0];
            return out;
        }
        int inner = od[r - 1], innerStride = ps[r - 1], rows = out.size() / Math.max(1, inner);
        for (int row = 0; row < rows; row++) {
            int src = 0, rem = row;
            for (int d = r - 2; d >= 0; d--) {
                src += (rem % od[d]) * ps[d];
                rem /= od[d];
            }
            int dst = row * inner;
            if (innerStride == 1) System.arraycopy(x, src, o, dst, inner);
            else for (int q = 0; q < inner; q++) o[dst + q] = x[src + q * innerStride];
        }
        return out;
    }

    @Override
    public Tensor slice(Tensor a, int axis, int start, int end) {
        Shape s = a.shape();
        int ax = s.axis(axis);
        int outer = s.sizeOf(0, ax), n = s.dim(ax), inner = s.sizeOf(ax + 1, s.rank()), len = end - start;
        Tensor out = Tensor.output(s.withDim(ax, len));
        for (int p = 0; p < outer; p++) {
            System.arraycopy(a.data(), (p * n + start) * inner, out.data(), p * len * inner, len * inner);
        }
        return out;
    }

    @Override
    public Tensor concat(int axis, Tensor... parts) {
        Shape s0 = parts[0].shape();
        int ax = s0.axis(axis);
        int total = 0;
        for (Tensor t : parts) total += t.dim(ax);
        Shape os = s0.withDim(ax, total);
        Tensor out = Tensor.output(os);
        int outer = s0.sizeOf(0, ax), inner = s0.sizeOf(ax + 1, s0.rank());
        int at = 0;
        for (Tensor t : parts) {
            int n = t.dim(ax);
            for (int p = 0; p < outer; p++) {
                System.arraycopy(t.data(), p * n * inner, out.data(), (p * total + at) * inner, n * inner);
            }
            at += n;
        }
        return out;
    }

    // ---- RMSNorm over the last axis: x [R, H], g [H] ----------------------------------------

    @Override
    public Tensor rmsNorm(Tensor x, Tensor g, float eps, Tensor rstdOut) {
        int h = x.dim(-1), rows = x.size() / h;
        Tensor out = Tensor.output(x.shape());
        float[] xs = x.data(), gs = g.data(), o = out.data(), rstd = rstdOut.data();
        parallelChunks((long) rows * h, rows, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int off = r * h;
                float s = (float) (1 / Math.sqrt(dot(xs, off, xs, off, null, 0, h) / h + eps));
                rstd[r] = s;
                int i = 0;
                if (Simd.ENABLED) {
                    for (int len = Simd.F.length(); i + len <= h; i += len) {
                        FloatVector.fromArray(Simd.F, xs, off + i).mul(s).mul(FloatVector.fromArray(Simd.F, gs, i)).intoArray(o, off + i);
                    }
                }
                for (; i < h; i++) o[off + i] = xs[off + i] * s * gs[i];
            }
        });
        return out;
    }

    /**
     * The sum over i < n of a[aOff+i] b[bOff+i] (times c[cOff+i] when c is not null) in float: products
     * accumulated lane by lane, the lanes summed by {@link Simd#sumLanes}, then the tail in order. One row
     * of RMSNorm; a single double accumulator, as before, was a chain of dependent adds (about 4 cycles
     * an element) that took most of the op's time.
     */
    private static double dot(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int n) {
        int i = 0;
        float sum = 0f;
        if (Simd.ENABLED) {
            FloatVector acc = FloatVector.zero(Simd.F);
            for (int len = Simd.F.length(); i + len <= n; i += len) {
                FloatVector p = FloatVector.fromArray(Simd.F, a, aOff + i).mul(FloatVector.fromArray(Simd.F, b, bOff + i));
                if (c != null) p = p.mul(FloatVector.fromArray(Simd.F, c, cOff + i));
                acc = acc.add(p);
            }
            sum = Simd.sumLanes(acc);
        }
        for (; i < n; i++) sum += c == null ? a[aOff + i] * b[bOff + i] : a[aOff + i] * b[bOff + i] * c[cOff + i];
        return sum;
    }

    @Override
    public Tensor rmsNormBackward(Tensor x, Tensor g, Tensor rstdIn, Tensor dy, Tensor dg) {
        // y = x * s * g with s = (mean(x^2)+eps)^-1/2:  dx = s*g*dy - s^3/H * x * sum(g*dy*x)
        int h = x.dim(-1), rows = x.size() / h;
        Tensor dx = Tensor.output(x.shape());
        float[] xs = x.data(), gs = g.data(), d = dy.data(), o = dx.data(), rstd = rstdIn.data();
        parallelChunks((long) rows * h, rows, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int off = r * h;
                float s = rstd[r];
                float c = (float) (dot(gs, 0, d, off, xs, off, h) * s * s * s / h);
                int i = 0;
                if (Simd.ENABLED) {
                    for (int len = Simd.F.length(); i + len <= h; i += len) {
                        FloatVector.fromArray(Simd.F, gs, i).mul(s).mul(FloatVector.fromArray(Simd.F, d, off + i))
                                .sub(FloatVector.fromArray(Simd.F, xs, off + i).mul(c)).intoArray(o, off + i);
                    }
                }
                for (; i < h; i++) o[off + i] = s * gs[i] * d[off + i] - c * xs[off + i];
            }
        });
        if (dg != null) {
            float[] dgs = dg.data();
            for (int r = 0; r < rows; r++) {
                int off = r * h;
                float s = rstd[r];
                int i = 0;
                if (Simd.ENABLED) {
                    for (int len = Simd.F.length(); i + len <= h; i += len) {
                        FloatVector.fromArray(Simd.F, dgs, i)
                                .add(FloatVector.fromArray(Simd.F, d, off + i).mul(FloatVector.fromArray(Simd.F, xs, off + i)).mul(s))
                                .intoArray(dgs, i);
                    }
                }
                for (; i < h; i++) dgs[i] += d[off + i] * xs[off + i] * s;
            }
        }
        return dx;
    }

    // ---- embedding --------------------------------------------------------------------------

    @Override
    public Tensor embedding(Tensor table, int[] ids) {
        int v = table.dim(0), h = table.dim(1);
        Tensor out = Tensor.output(Shape.of(ids.length, h));
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= v) {
                throw new IllegalArgumentException("embedding: id " + ids[i] + " at " + i + " outside vocabulary [0, " + v + ")");
            }
            System.arraycopy(table.data(), ids[i] * h, out.data(), i * h, h);
        }
        return out;
    }

    @Override
    public void embeddingBackward(Tensor dTable, int[] ids, Tensor dy) {
        int h = dTable.dim(1);
        float[] dt = dTable.data(), d = dy.data();
        for (int i = 0; i < ids.length; i++) {
            int row = ids[i] * h;
            for (int q = 0; q < h; q++) dt[row + q] += d[i * h + q];
        }
    }

    // ---- RoPE: x [B, T, nH, hd], interleaved pairs ------------------------------------------

    /** Swaps the two lanes of every pair: (x0, x1, x2, x3, ...) -> (x1, x0, x3, x2, ...). */
    private static final VectorShuffle<Float> PAIR_SWAP = VectorShuffle.fromOp(Simd.F, i -> i ^ 1);

    /** RoPE's cos and sin, kept between calls (per head width and theta). */
    private final RopeTables ropeTables = new RopeTables();

    @Override
    public Tensor rope(Tensor x, int[] positions, float theta, boolean inverse) {
        int b = x.dim(0), t = x.dim(1), nh = x.dim(2), hd = x.dim(3), half = hd / 2;
        int maxPosition = 0;
        for (int p : positions) {
            if (p < 0) throw new IllegalArgumentException("rope: negative position " + p);
            maxPosition = Math.max(maxPosition, p);
        }
        RopeTables.Table table = ropeTables.get(hd, theta, maxPosition);
        float[] cosPairs = table.cosPairs(), sinPairs = table.sinPairs();
        float sign = inverse ? -1f : 1f;
        Tensor out = Tensor.output(x.shape());
        float[] xs = x.data(), o = out.data();
        parallelChunks((long) b * t * nh * hd, b * t, (lo, hi) -> {
            for (int bt = lo; bt < hi; bt++) {
                int at = positions[bt % t] * half;
                for (int h = 0; h < nh; h++) {
                    int off = (bt * nh + h) * hd;
                    // Pairs in whole vectors: o = x * (c, c) + swap(x) * (-s, s), which rounds as the scalar
                    // x0 c - x1 s and x0 s + x1 c do (negation is exact, addition commutes, no fused multiply-add).
                    int i = 0;
                    if (Simd.ENABLED) {
                        for (int len = Simd.F.length(); 2 * i + len <= 2 * half; i += len / 2) {
                            FloatVector v = FloatVector.fromArray(Simd.F, xs, off + 2 * i);
                            FloatVector s = FloatVector.fromArray(Simd.F, sinPairs, 2 * (at + i));
                            if (inverse) s = s.neg();
                            v.mul(FloatVector.fromArray(Simd.F, cosPairs, 2 * (at + i))).add(v.rearrange(PAIR_SWAP).mul(s))
                                    .intoArray(o, off + 2 * i);
                        }
                    }
                    for (; i < half; i++) {
                        float c = cosPairs[2 * (at + i)], s = sign * sinPairs[2 * (at + i) + 1];
                        float x0 = xs[off + 2 * i], x1 = xs[off + 2 * i + 1];
                        o[off + 2 * i] = x0 * c - x1 * s;
                        o[off + 2 * i + 1] = x0 * s + x1 * c;
                    }
                }
            }
        });
        return out;
    }

    // ---- attention --------------------------------------------------------------------------

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, AttentionMask mask, Tensor lse) {
        Tensor out = Tensor.output(q.shape());
        Attention.forward(q.data(), k.data(), v.data(), out.data(), lse.data(), AttentionDims.of(q.shape(), k.shape(), v.shape(), mask));
        return out;
    }

    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut,
                                  Tensor dq, Tensor dk, Tensor dv, AttentionMask mask) {
        Attention.backward(q.data(), k.data(), v.data(), out.data(), lse.data(), dOut.data(),
                dq == null ? null : dq.data(), dk == null ? null : dk.data(), dv == null ? null : dv.data(),
                AttentionDims.of(q.shape(), k.shape(), v.shape(), mask));
    }

    // ---- cross-entropy: logits [R, V] -------------------------------------------------------

    @Override
    public Tensor crossEntropy(Tensor logits, int[] targets) {
        int v = logits.dim(-1), rows = targets.length;
        Tensor out = Tensor.zeroed(Shape.of(rows));
        float[] x = logits.data(), loss = out.data();
        parallelChunks((long) rows * v, rows, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                if (targets[r] < 0) continue;
                int off = r * v;
                float mx = VectorMath.max(x, off, v);
                double sum = VectorMath.sumExpShifted(x, off, mx, v);
                loss[r] = (float) (mx + Math.log(sum) - x[off + targets[r]]);
            }
        });
        return out;
    }

    @Override
    public Tensor crossEntropyBackward(Tensor logits, int[] targets, Tensor rowScale, Tensor upstream) {
        int v = logits.dim(-1), rows = targets.length;
        Tensor d = Tensor.zeroed(logits.shape());
        float[] x = logits.data(), o = d.data(), w = rowScale.read();
        float g = upstream.item();
        parallelChunks((long) rows * v, rows, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                float k = w[r] * g;
                if (targets[r] < 0 || k == 0) continue;
                int off = r * v;
                float mx = VectorMath.max(x, off, v);
                double sum = VectorMath.expShifted(x, off, mx, o, off, v);
                VectorMath.scale(o, off, (float) (k / sum), v);
                o[off + targets[r]] -= k;
            }
        });
        return d;
    }

    // ---- in-place updates -------------------------------------------------------------------

    @Override
    public void addInPlace(Tensor a, Tensor b, float s) {
        float[] x = a.data(), y = b.data();
        parallelChunks(x.length, (lo, hi) -> {
            int i = lo;
            if (Simd.ENABLED) {
                int len = Simd.F.length();
                for (; i + len <= hi; i += len) {
                    FloatVector.fromArray(Simd.F, y, i).fma(FloatVector.broadcast(Simd.F, s),
                            FloatVector.fromArray(Simd.F, x, i)).intoArray(x, i);
                }
            }
            for (; i < hi; i++) x[i] += s * y[i];
        });
    }

    @Override
    public void adamw(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                      float weightDecay, int step) {
        float[] ps = p.data(), gs = g.data(), ms = m.data(), vs = v.data();
        float bc1 = (float) (1 - Math.pow(beta1, step)), bc2 = (float) (1 - Math.pow(beta2, step));
        float decay = 1 - lr * weightDecay, stepSize = lr / bc1;
        float sqrtBc2 = (float) Math.sqrt(bc2);
        parallelChunks(ps.length, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                float gi = gs[i];
                ms[i] = beta1 * ms[i] + (1 - beta1) * gi;
                vs[i] = beta2 * vs[i] + (1 - beta2) * gi * gi;
                float denom = (float) Math.sqrt(vs[i]) / sqrtBc2 + eps;
                ps[i] = ps[i] * decay - stepSize * ms[i] / denom;
            }
        });
    }

    // ---- helpers ----------------------------------------------------------------------------

    /** Splits [0, n) into contiguous chunks run in parallel when n is large. */
    static void parallelChunks(int n, Parallel.Chunk body) { parallelChunks(n, n, body); }

    /** Splits [0, units) into chunks in parallel when the total work {@code work} is large. */
    static void parallelChunks(long work, int units, Parallel.Chunk body) {
        Parallel.forChunks(units, work < PARALLEL_GRAIN ? 1 : Parallel.threads(), body);
    }
}
