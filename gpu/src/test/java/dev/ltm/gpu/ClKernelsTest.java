package dev.ltm.gpu;

import static dev.ltm.gpu.ClTest.assertClose;
import static dev.ltm.gpu.ClTest.randn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ltm.gpu.ClKernels.BinaryOp;
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
    void binaryOpsSameShapeRowAndColumnBroadcast() {
        Rng rng = new Rng(21);
        int rows = 7, cols = 13, n = rows * cols;
        float[] a = randn(rng, n), full = randn(rng, n), row = randn(rng, cols), col = randn(rng, rows);
        try (ClBuffer da = ctx.buffer(a); ClBuffer dFull = ctx.buffer(full); ClBuffer dRow = ctx.buffer(row);
             ClBuffer dCol = ctx.buffer(col); ClBuffer out = ctx.buffer(n)) {
            for (BinaryOp op : BinaryOp.values()) {
                float[] same = new float[n], byRow = new float[n], byCol = new float[n], rowFirst = new float[n];
                for (int i = 0; i < n; i++) {
                    same[i] = apply(op, a[i], full[i]);
                    byRow[i] = apply(op, a[i], row[i % cols]);
                    byCol[i] = apply(op, a[i], col[i / cols]);
                    rowFirst[i] = apply(op, row[i % cols], a[i]);
                }
                ops.binary(op, da, dFull, out, n);
                assertClose(op + " same shape", out.toFloats(), same, TOL);
                ops.binaryBroadcast(op, da, n, 1, dRow, cols, 1, out, n);
                assertClose(op + " [rows, cols] op [cols]", out.toFloats(), byRow, TOL);
                ops.binaryBroadcast(op, da, n, 1, dCol, rows, cols, out, n);
                assertClose(op + " [rows, cols] op [rows, 1]", out.toFloats(), byCol, TOL);
                ops.binaryBroadcast(op, dRow, cols, 1, da, n, 1, out, n);
                assertClose(op + " [cols] op [rows, cols]", out.toFloats(), rowFirst, TOL);
            }
        }
    }

    @Test
    void unaryOpsAndSiluPair() {
        Rng rng = new Rng(22);
        int n = 1001;
        float[] x = randn(rng, n), dy = randn(rng, n), pos = new float[n];
        for (int i = 0; i < n; i++) pos[i] = Math.abs(x[i]) + 0.1f;
        float[] scaled = new float[n], ex = new float[n], lg = new float[n], silu = new float[n], dsilu = new float[n];
        float[] axpy = dy.clone();
        for (int i = 0; i < n; i++) {
            scaled[i] = x[i] * -0.37f;
            ex[i] = (float) Math.exp(x[i]);
            lg[i] = (float) Math.log(pos[i]);
            double s = 1 / (1 + Math.exp(-x[i]));
            silu[i] = (float) (x[i] * s);
            dsilu[i] = (float) (dy[i] * (s + x[i] * s * (1 - s)));
            axpy[i] += 2.5f * x[i];
        }
        try (ClBuffer dx = ctx.buffer(x); ClBuffer dp = ctx.buffer(pos); ClBuffer ddy = ctx.buffer(dy);
             ClBuffer out = ctx.buffer(n)) {
            ops.scale(dx, -0.37f, out, n);
            assertClose("scale", out.toFloats(), scaled, TOL);
            ops.exp(dx, out, n);
            assertClose("exp", out.toFloats(), ex, TOL);
            ops.log(dp, out, n);
            assertClose("log", out.toFloats(), lg, TOL);
            ops.siluForward(dx, out, n);
            assertClose("silu", out.toFloats(), silu, TOL);
            ops.siluBackward(dx, ddy, out, n);
            assertClose("silu backward", out.toFloats(), dsilu, TOL);
            ops.axpy(2.5f, dx, ddy, n);
            assertClose("axpy", ddy.toFloats(), axpy, TOL);
        }
    }

    // ---- softmax ------------------------------------------------------------------------------

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

    @Test
    void softmaxAndLogSoftmaxForwardAndBackward() {
        Rng rng = new Rng(23);
        for (int[] s : new int[][] {{1, 1}, {5, 3}, {3, 257}, {11, 1000}}) {
            int rows = s[0], cols = s[1], n = rows * cols;
            float[] x = randn(rng, n), dy = randn(rng, n);
            for (int i = 0; i < n; i++) x[i] *= 4;
            for (boolean log : new boolean[] {false, true}) {
                float[] y = softmaxNaive(x, rows, cols, log), dx = new float[n];
                for (int r = 0; r < rows; r++) {
                    double d = 0;
                    for (int c = 0; c < cols; c++) d += log ? dy[r * cols + c] : dy[r * cols + c] * y[r * cols + c];
                    for (int c = 0; c < cols; c++) {
                        int i = r * cols + c;
                        dx[i] = (float) (log ? dy[i] - Math.exp(y[i]) * d : y[i] * (dy[i] - d));
                    }
                }
                try (ClBuffer dX = ctx.buffer(x); ClBuffer dY = ctx.buffer(n); ClBuffer dDy = ctx.buffer(dy);
                     ClBuffer dDx = ctx.buffer(n)) {
                    ops.softmaxForward(dX, dY, rows, cols, log);
                    String what = (log ? "log_softmax " : "softmax ") + rows + "x" + cols;
                    assertClose(what, dY.toFloats(), y, TOL);
                    ops.softmaxBackward(dY, dDy, dDx, rows, cols, log);
                    assertClose(what + " backward", dDx.toFloats(), dx, TOL);
                }
            }
        }
    }

    // ---- RMSNorm ------------------------------------------------------------------------------

    @Test
    void rmsNormForwardAndBackwardAccumulatingDg() {
        Rng rng = new Rng(24);
        float eps = 1e-5f;
        for (int[] s : new int[][] {{1, 1}, {3, 7}, {9, 131}, {4, 300}}) {
            int rows = s[0], cols = s[1], n = rows * cols;
            float[] x = randn(rng, n), g = randn(rng, cols), dy = randn(rng, n), dg0 = randn(rng, cols);
            float[] y = new float[n], dx = new float[n], dg = dg0.clone();
            for (int r = 0; r < rows; r++) {
                double ss = 0;
                for (int c = 0; c < cols; c++) ss += (double) x[r * cols + c] * x[r * cols + c];
                double inv = 1 / Math.sqrt(ss / cols + eps);
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
                 ClBuffer dDy = ctx.buffer(dy); ClBuffer dDx = ctx.buffer(n); ClBuffer dDg = ctx.buffer(dg0)) {
                ops.rmsNormForward(dX, dG, dY, rows, cols, eps);
                assertClose("rmsnorm " + rows + "x" + cols, dY.toFloats(), y, TOL);
                ops.rmsNormBackward(dX, dG, dDy, dDx, dDg, rows, cols, eps);
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
            ops.crossEntropy(dL, dT, dLoss, dD, rows, vocab, scale);
            assertClose("cross-entropy loss", dLoss.toFloats(), loss, TOL);
            assertClose("cross-entropy dlogits", dD.toFloats(), dlogits, TOL);
            dLoss.fill(0);
            ops.crossEntropy(dL, dT, dLoss, null, rows, vocab, scale);
            assertClose("cross-entropy loss without gradient", dLoss.toFloats(), loss, TOL);
        }
    }

    // ---- reductions ---------------------------------------------------------------------------

    @Test
    void sumRowSumsAndColumnSums() {
        Rng rng = new Rng(26);
        for (int[] s : new int[][] {{1, 1}, {7, 3}, {129, 67}, {3, 40_009}}) {
            int rows = s[0], cols = s[1], n = rows * cols;
            float[] x = randn(rng, n), colInit = randn(rng, cols);
            double total = 0;
            float[] rowSums = new float[rows], colSums = colInit.clone();
            for (int r = 0; r < rows; r++) {
                double acc = 0;
                for (int c = 0; c < cols; c++) {
                    acc += x[r * cols + c];
                    colSums[c] += x[r * cols + c];
                }
                rowSums[r] = (float) acc;
                total += acc;
            }
            try (ClBuffer dX = ctx.buffer(x); ClBuffer out = ctx.buffer(1); ClBuffer dR = ctx.buffer(rows);
                 ClBuffer dC = ctx.buffer(colInit)) {
                ops.sum(dX, n, out);
                assertClose("sum of " + n, out.toFloats(), new float[] {(float) total}, 1e-4 * Math.sqrt(n));
                ops.rowSums(dX, dR, rows, cols);
                assertClose("row sums", dR.toFloats(), rowSums, 1e-4 * Math.sqrt(cols));
                ops.columnSums(dX, dC, rows, cols, true);
                assertClose("column sums accumulated", dC.toFloats(), colSums, 1e-4 * Math.sqrt(rows));
            }
        }
    }

    // ---- RoPE ---------------------------------------------------------------------------------

    static float[] ropeNaive(float[] x, int[] pos, int tokens, int heads, int hd, float theta, int sign) {
        float[] out = new float[x.length];
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < hd / 2; i++) {
                    float freq = (float) Math.pow(theta, -2.0 * i / hd);
                    float angle = pos[t] * freq;
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
        int tokens = 13, heads = 3, hd = 10, n = tokens * heads * hd;
        float[] x = randn(rng, n);
        int[] pos = new int[tokens];
        for (int t = 0; t < tokens; t++) pos[t] = rng.nextInt(2048);
        try (ClBuffer dX = ctx.buffer(x); ClBuffer dP = ctx.buffer(pos); ClBuffer y = ctx.buffer(n);
             ClBuffer back = ctx.buffer(n)) {
            ops.ropeForward(dX, dP, y, tokens, heads, hd, 10000f);
            assertClose("rope forward", y.toFloats(), ropeNaive(x, pos, tokens, heads, hd, 10000f, 1), TOL);
            ops.ropeBackward(y, dP, back, tokens, heads, hd, 10000f);
            assertClose("rope backward of forward", back.toFloats(), x, TOL);
            ops.ropeBackward(dX, dP, dX, tokens, heads, hd, 10000f); // in place
            assertClose("rope backward in place", dX.toFloats(), ropeNaive(x, pos, tokens, heads, hd, 10000f, -1), TOL);
        }
        assertThatThrownBy(() -> ops.ropeForward(null, null, null, 1, 1, 3, 10000f))
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
            assertThatThrownBy(() -> ops.softmaxForward(a, b, 2, 5, false))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("softmax_forward [2, 5]: buffer has 3 elements, needs 10");
        }
    }
}
