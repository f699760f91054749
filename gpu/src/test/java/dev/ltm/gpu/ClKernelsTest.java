package dev.ltm.gpu;

import static dev.ltm.gpu.ClTest.assertClose;
import static dev.ltm.gpu.ClTest.randn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ltm.gpu.ClKernels.BinaryOp;
import dev.ltm.gpu.ClKernels.UnaryOp;
import dev.ltm.tensor.Rng;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Each device op against a plain-Java loop of the same formula, on seeded random odd shapes. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClKernelsTest {
    private static final double TOL = 1e-4;
    private ClContext ctx;
    private ClKernels ops;

    @BeforeAll
    void open() {
        ctx = ClTest.openOrSkip();
        ops = new ClKernels(ctx);
    }

    @AfterAll
    void close() {
        if (ctx != null) ctx.close();
    }

    // ---- elementwise --------------------------------------------------------------------------

    static float apply(BinaryOp op, float x, float y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
        };
    }

    @Test
    void binaryOpsOnSameShapes() {
        Rng rng = new Rng(21);
        int rows = 7, cols = 13, n = rows * cols;
        float[] a = randn(rng, n), full = randn(rng, n);
        try (ClBuffer da = ctx.buffer(a); ClBuffer dFull = ctx.buffer(full); ClBuffer out = ctx.buffer(n)) {
            for (BinaryOp op : BinaryOp.values()) {
                float[] same = new float[n];
                for (int i = 0; i < n; i++) same[i] = apply(op, a[i], full[i]);
                ops.binary(op, da, dFull, out, n);
                assertClose(op + " same shape", out.toFloats(), same, TOL);
            }
        }
    }

    @Test
    void affineUnaryOpsAndAxpy() {
        Rng rng = new Rng(22);
        int n = 1001;
        float[] x = randn(rng, n), dy = randn(rng, n), pos = new float[n];
        for (int i = 0; i < n; i++) pos[i] = Math.abs(x[i]) + 0.1f;
        float[] scaled = new float[n], ex = new float[n], lg = new float[n], silu = new float[n];
        float[] axpy = dy.clone();
        for (int i = 0; i < n; i++) {
            scaled[i] = x[i] * -0.37f;
            ex[i] = (float) Math.exp(x[i]);
            lg[i] = (float) Math.log(pos[i]);
            double s = 1 / (1 + Math.exp(-x[i]));
            silu[i] = (float) (x[i] * s);
            axpy[i] += 2.5f * x[i];
        }
        try (ClBuffer dx = ctx.buffer(x); ClBuffer dp = ctx.buffer(pos); ClBuffer ddy = ctx.buffer(dy);
             ClBuffer out = ctx.buffer(n)) {
            ops.affine(dx, -0.37f, 0f, out, n);
            assertClose("scale", out.toFloats(), scaled, TOL);
            ops.unary(ClKernels.UnaryOp.EXP, dx, out, n);
            assertClose("exp", out.toFloats(), ex, TOL);
            ops.unary(ClKernels.UnaryOp.LOG, dp, out, n);
            assertClose("log", out.toFloats(), lg, TOL);
            ops.unary(ClKernels.UnaryOp.SILU, dx, out, n);
            assertClose("silu", out.toFloats(), silu, TOL);
            ops.axpy(2.5f, dx, ddy, n);
            assertClose("axpy", ddy.toFloats(), axpy, TOL);
        }
    }

    @Test
    void everyUnaryOpMatchesItsScalarDefinition() {
        Rng rng = new Rng(40);
        int n = 517;
        float[] x = randn(rng, n);
        for (int i = 0; i < n; i++) x[i] *= 3;
        try (ClBuffer dx = ctx.buffer(x); ClBuffer out = ctx.buffer(n)) {
            for (UnaryOp op : UnaryOp.values()) {
                float[] expected = new float[n];
                for (int i = 0; i < n; i++) {
                    double v = op == UnaryOp.LOG || op == UnaryOp.SQRT ? Math.abs(x[i]) : x[i];
                    expected[i] = (float) switch (op) {
                        case NEG -> -v;
                        case EXP -> Math.exp(v);
                        case LOG -> Math.log(v);
                        case SQRT -> Math.sqrt(v);
                        case SQUARE -> v * v;
                        case SILU -> v / (1 + Math.exp(-v));
                        case SIGMOID -> 1 / (1 + Math.exp(-v));
                        case TANH -> Math.tanh(v);
                        case ABS -> Math.abs(v);
                    };
                }
                ClBuffer in = dx;
                if (op == UnaryOp.LOG || op == UnaryOp.SQRT) ops.unary(UnaryOp.ABS, dx, in = out, n);
                ops.unary(op, in, out, n);
                assertClose("unary " + op, out.toFloats(), expected, TOL);
            }
            float[] affine = new float[n];
            for (int i = 0; i < n; i++) affine[i] = x[i] * 0.5f - 2f;
            ops.affine(dx, 0.5f, -2f, out, n);
            assertClose("affine", out.toFloats(), affine, TOL);
        }
    }

    @Test
    void stridedBinaryBroadcastsBothOperandsLikeNumPy() {
        Rng rng = new Rng(41);
        // a [3, 1, 5] op b [4, 1] -> out [3, 4, 5]
        int[] dims = {3, 4, 5};
        float[] a = randn(rng, 15), b = randn(rng, 4);
        for (BinaryOp op : BinaryOp.values()) {
            float[] expected = new float[60];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 4; j++)
                    for (int k = 0; k < 5; k++) expected[(i * 4 + j) * 5 + k] = apply(op, a[i * 5 + k], b[j]);
            try (ClBuffer da = ctx.buffer(a); ClBuffer db = ctx.buffer(b); ClBuffer out = ctx.buffer(60)) {
                ops.binaryStrided(op, dims, da, 0, new int[] {5, 0, 1}, db, 0, new int[] {0, 1, 0}, out);
                assertClose("strided " + op, out.toFloats(), expected, TOL);
            }
        }
    }

    @Test
    void stridedCopyPermutesSlicesAndConcatenates() {
        Rng rng = new Rng(42);
        int b = 2, t = 3, h = 5, d = 7;
        float[] x = randn(rng, b * t * h * d);
        try (ClBuffer dx = ctx.buffer(x); ClBuffer out = ctx.buffer(x.length); ClBuffer cat = ctx.buffer(2L * x.length)) {
            // permute [B, T, H, D] -> [B, H, T, D]
            int[] perm = {0, 2, 1, 3};
            int[] src = ClKernels.contiguousStrides(new int[] {b, t, h, d});
            int[] outDims = {b, h, t, d};
            int[] srcStrides = new int[4];
            for (int k = 0; k < 4; k++) srcStrides[k] = src[perm[k]];
            ops.copyStrided(outDims, dx, 0, srcStrides, out, 0, ClKernels.contiguousStrides(outDims));
            float[] expected = new float[x.length];
            for (int i0 = 0; i0 < b; i0++)
                for (int i1 = 0; i1 < h; i1++)
                    for (int i2 = 0; i2 < t; i2++)
                        for (int i3 = 0; i3 < d; i3++)
                            expected[((i0 * h + i1) * t + i2) * d + i3] = x[((i0 * t + i2) * h + i1) * d + i3];
            assertClose("permute", out.toFloats(), expected, 0);
            // slice x[:, 1:3, :, :] (a copy)
            int[] sliceDims = {b, 2, h, d};
            ops.copyStrided(sliceDims, dx, h * d, src, out, 0, ClKernels.contiguousStrides(sliceDims));
            float[] slice = new float[b * 2 * h * d];
            for (int i0 = 0; i0 < b; i0++)
                System.arraycopy(x, (i0 * t + 1) * h * d, slice, i0 * 2 * h * d, 2 * h * d);
            float[] got = new float[slice.length];
            out.download(0, got, 0, got.length);
            assertClose("slice", got, slice, 0);
            // concat [x, x] along the last axis -> [B, T, H, 2D]
            int[] catStrides = ClKernels.contiguousStrides(new int[] {b, t, h, 2 * d});
            ops.copyStrided(new int[] {b, t, h, d}, dx, 0, src, cat, 0, catStrides);
            ops.copyStrided(new int[] {b, t, h, d}, dx, 0, src, cat, d, catStrides);
            float[] both = new float[2 * x.length];
            for (int r = 0; r < b * t * h; r++) {
                System.arraycopy(x, r * d, both, r * 2 * d, d);
                System.arraycopy(x, r * d, both, r * 2 * d + d, d);
            }
            assertClose("concat", cat.toFloats(), both, 0);
        }
    }

    @Test
    void sumOverAnyAxis() {
        Rng rng = new Rng(43);
        int outer = 3, len = 11, inner = 6;
        float[] x = randn(rng, outer * len * inner);
        float[] sum = new float[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int a = 0; a < len; a++)
                for (int i = 0; i < inner; i++) sum[o * inner + i] += x[(o * len + a) * inner + i];
        try (ClBuffer dx = ctx.buffer(x); ClBuffer out = ctx.buffer(outer * inner)) {
            ops.sumAxis(dx, out, outer, len, inner);
            assertClose("sum over the middle axis", out.toFloats(), sum, TOL);
        }
    }

    // ---- softmax (cross-entropy's reference) ------------------------------------------------

    static float[] softmaxNaive(float[] x, int rows, int cols, boolean log) {
        float[] y = new float[x.length];
        for (int r = 0; r < rows; r++) {
            double m = Double.NEGATIVE_INFINITY, z = 0;
            for (int c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]);
            for (int c = 0; c < cols; c++) z += Math.exp(x[r * cols + c] - m);
            for (int c = 0; c < cols; c++) {
                double v = x[r * cols + c] - m;
                y[r * cols + c] = (float) (log ? v - Math.log(z) : Math.exp(v) / z);
            }
        }
        return y;
    }

    // ---- RMSNorm ------------------------------------------------------------------------------

    @Test
    void rmsNormForwardAndBackwardAccumulatingDg() {
        Rng rng = new Rng(24);
        float eps = 1e-5f;
        for (int[] s : new int[][] {{1, 1}, {3, 7}, {9, 131}, {4, 300}}) {
            int rows = s[0], cols = s[1], n = rows * cols;
            float[] x = randn(rng, n), g = randn(rng, cols), dy = randn(rng, n), dg0 = randn(rng, cols);
            float[] y = new float[n], dx = new float[n], dg = dg0.clone(), rstd = new float[rows];
            for (int r = 0; r < rows; r++) {
                double ss = 0;
                for (int c = 0; c < cols; c++) ss += (double) x[r * cols + c] * x[r * cols + c];
                double inv = 1 / Math.sqrt(ss / cols + eps);
                rstd[r] = (float) inv;
                double dot = 0; // sum dy * g * xhat
                for (int c = 0; c < cols; c++) {
                    int i = r * cols + c;
                    y[i] = (float) (x[i] * inv * g[c]);
                    dot += dy[i] * g[c] * x[i] * inv;
                    dg[c] += (float) (dy[i] * x[i] * inv);
                }
                for (int c = 0; c < cols; c++) {
                    int i = r * cols + c;
                    dx[i] = (float) (inv * (dy[i] * g[c] - x[i] * inv * dot / cols));
                }
            }
            try (ClBuffer dX = ctx.buffer(x); ClBuffer dG = ctx.buffer(g); ClBuffer dY = ctx.buffer(n);
                 ClBuffer dDy = ctx.buffer(dy); ClBuffer dDx = ctx.buffer(n); ClBuffer dDg = ctx.buffer(dg0);
                 ClBuffer dR = ctx.buffer(rows)) {
                ops.rmsNormForward(dX, dG, dY, dR, rows, cols, eps);
                assertClose("rmsnorm " + rows + "x" + cols, dY.toFloats(), y, TOL);
                assertClose("rmsnorm rstd", dR.toFloats(), rstd, TOL);
                ops.rmsNormBackwardSaved(dX, dG, dR, dDy, dDx, dDg, rows, cols);
                assertClose("rmsnorm dx", dDx.toFloats(), dx, TOL);
                assertClose("rmsnorm dg", dDg.toFloats(), dg, TOL);
            }
        }
    }

    // ---- cross-entropy ------------------------------------------------------------------------

    @Test
    void crossEntropyLossAndScaledGradientWithAnIgnoredRow() {
        Rng rng = new Rng(25);
        int rows = 6, vocab = 503;
        float scale = 1f / 5;
        float[] logits = randn(rng, rows * vocab);
        int[] targets = new int[rows];
        for (int r = 0; r < rows; r++) targets[r] = rng.nextInt(vocab);
        targets[3] = -1;
        float[] p = softmaxNaive(logits, rows, vocab, true);
        float[] loss = new float[rows], dlogits = new float[rows * vocab];
        for (int r = 0; r < rows; r++) {
            if (targets[r] < 0) continue;
            loss[r] = -p[r * vocab + targets[r]];
            for (int c = 0; c < vocab; c++) {
                dlogits[r * vocab + c] = (float) ((Math.exp(p[r * vocab + c]) - (c == targets[r] ? 1 : 0)) * scale);
            }
        }
        try (ClBuffer dL = ctx.buffer(logits); ClBuffer dT = ctx.buffer(targets); ClBuffer dLoss = ctx.buffer(rows);
             ClBuffer dD = ctx.buffer(rows * vocab)) {
            dD.fill(Float.NaN);
            ops.crossEntropy(dL, dT, dLoss, dD, null, null, rows, vocab, scale);
            assertClose("cross-entropy loss", dLoss.toFloats(), loss, TOL);
            assertClose("cross-entropy dlogits", dD.toFloats(), dlogits, TOL);
            dLoss.fill(0);
            ops.crossEntropy(dL, dT, dLoss, null, null, null, rows, vocab, scale);
            assertClose("cross-entropy loss without gradient", dLoss.toFloats(), loss, TOL);
            float[] rowScale = randn(rng, rows), scaled = dlogits.clone();
            for (int i = 0; i < scaled.length; i++) scaled[i] *= rowScale[i / vocab];
            try (ClBuffer dS = ctx.buffer(rowScale); ClBuffer dU = ctx.buffer(new float[] {-1.5f})) {
                ops.crossEntropy(dL, dT, dLoss, dD, dS, null, rows, vocab, scale);
                assertClose("cross-entropy dlogits with row scales", dD.toFloats(), scaled, TOL);
                for (int i = 0; i < scaled.length; i++) scaled[i] *= -1.5f;
                ops.crossEntropy(dL, dT, dLoss, dD, dS, dU, rows, vocab, scale);
                assertClose("cross-entropy dlogits with row scales and an upstream gradient", dD.toFloats(), scaled, TOL);
            }
        }
    }

    // ---- reductions ---------------------------------------------------------------------------

    @Test
    void sumOfAllElements() {
        Rng rng = new Rng(26);
        for (int[] s : new int[][] {{1, 1}, {7, 3}, {129, 67}, {3, 40_009}}) {
            int rows = s[0], cols = s[1], n = rows * cols;
            float[] x = randn(rng, n);
            double total = 0;
            for (float v : x) total += v;
            try (ClBuffer dX = ctx.buffer(x); ClBuffer out = ctx.buffer(1)) {
                ops.sum(dX, n, out);
                assertClose("sum of " + n, out.toFloats(), new float[] {(float) total}, 1e-4 * Math.sqrt(n));
            }
        }
    }

    // ---- RoPE ---------------------------------------------------------------------------------

    static float[] ropeNaive(float[] x, int[] pos, int batch, int seq, int heads, int hd, float theta, int sign) {
        float[] out = new float[x.length];
        for (int t = 0; t < batch * seq; t++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < hd / 2; i++) {
                    float freq = (float) (1.0 / Math.pow(theta, (float) (2 * i) / hd));
                    float angle = pos[t % seq] * freq;
                    double c = Math.cos(angle), s = sign * Math.sin(angle);
                    int e = (t * heads + h) * hd + 2 * i;
                    out[e] = (float) (x[e] * c - x[e + 1] * s);
                    out[e + 1] = (float) (x[e] * s + x[e + 1] * c);
                }
            }
        }
        return out;
    }

    @Test
    void ropeRotatesPairsAndBackwardUndoesIt() {
        Rng rng = new Rng(27);
        int batch = 2, seq = 13, heads = 3, hd = 10, n = batch * seq * heads * hd;
        float[] x = randn(rng, n);
        int[] pos = new int[seq];
        for (int t = 0; t < seq; t++) pos[t] = rng.nextInt(2048);
        try (ClBuffer dX = ctx.buffer(x); ClBuffer dP = ctx.buffer(pos); ClBuffer y = ctx.buffer(n);
             ClBuffer back = ctx.buffer(n); ClBuffer freq = ctx.buffer(ClKernels.ropeInverseFrequencies(hd, 10000f))) {
            ops.rope("rope_forward", 1f, dX, dP, freq, y, batch, seq, heads, hd);
            assertClose("rope forward", y.toFloats(), ropeNaive(x, pos, batch, seq, heads, hd, 10000f, 1), TOL);
            ops.rope("rope_backward", -1f, y, dP, freq, back, batch, seq, heads, hd);
            assertClose("rope backward of forward", back.toFloats(), x, TOL);
            ops.rope("rope_backward", -1f, dX, dP, freq, dX, batch, seq, heads, hd); // in place
            assertClose("rope backward in place", dX.toFloats(),
                    ropeNaive(x, pos, batch, seq, heads, hd, 10000f, -1), TOL);
        }
        assertThatThrownBy(() -> ops.rope("rope_forward", 1f, null, null, null, null, 1, 1, 1, 3))
                .hasMessageContaining("head dim 3 is odd");
    }

    // ---- AdamW --------------------------------------------------------------------------------

    @Test
    void adamwMatchesTorchFormulaOverSeveralSteps() {
        Rng rng = new Rng(28);
        int n = 777;
        float lr = 3e-3f, b1 = 0.9f, b2 = 0.95f, eps = 1e-8f, wd = 0.1f;
        float[] p = randn(rng, n), m = new float[n], v = new float[n];
        try (ClBuffer dP = ctx.buffer(p); ClBuffer dG = ctx.buffer(n); ClBuffer dM = ctx.buffer(m);
             ClBuffer dV = ctx.buffer(v)) {
            for (int t = 1; t <= 3; t++) {
                float[] g = randn(rng, n);
                dG.upload(g);
                ops.adamw(dP, dG, dM, dV, n, lr, b1, b2, eps, wd, t);
                double bc1 = 1 - Math.pow(b1, t), bc2 = 1 - Math.pow(b2, t);
                for (int i = 0; i < n; i++) {
                    p[i] -= lr * wd * p[i];
                    m[i] = b1 * m[i] + (1 - b1) * g[i];
                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                    p[i] -= (float) (lr * (m[i] / bc1) / (Math.sqrt(v[i] / bc2) + eps));
                }
                assertClose("adamw p step " + t, dP.toFloats(), p, TOL);
                assertClose("adamw m step " + t, dM.toFloats(), m, TOL);
                assertClose("adamw v step " + t, dV.toFloats(), v, TOL);
            }
        }
    }

    // ---- embedding ----------------------------------------------------------------------------

    @Test
    void embeddingGatherAndScatterAddWithRepeatedIds() {
        Rng rng = new Rng(29);
        int vocab = 31, dim = 19, n = 47;
        float[] table = randn(rng, vocab * dim), dout = randn(rng, n * dim), dtable0 = randn(rng, vocab * dim);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = rng.nextInt(7); // many repeats
        float[] out = new float[n * dim], dtable = dtable0.clone();
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < dim; d++) {
                out[i * dim + d] = table[ids[i] * dim + d];
                dtable[ids[i] * dim + d] += dout[i * dim + d];
            }
        }
        try (ClBuffer dT = ctx.buffer(table); ClBuffer dI = ctx.buffer(ids); ClBuffer dO = ctx.buffer(n * dim);
             ClBuffer dDo = ctx.buffer(dout); ClBuffer dDt = ctx.buffer(dtable0)) {
            ops.embeddingForward(dT, dI, dO, n, dim);
            assertThat(dO.toFloats()).containsExactly(out);
            ops.embeddingBackward(dDo, dI, dDt, n, dim);
            assertClose("embedding backward", dDt.toFloats(), dtable, TOL);
        }
    }

    @Test
    void shortBuffersAreRefusedWithOpAndSizes() {
        try (ClBuffer a = ctx.buffer(10); ClBuffer b = ctx.buffer(3)) {
            assertThatThrownBy(() -> ops.rmsNormForward(a, a, b, null, 2, 5, 1e-5f))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("rmsnorm_forward [2, 5]: buffer has 3 elements, needs 10");
        }
    }
}
