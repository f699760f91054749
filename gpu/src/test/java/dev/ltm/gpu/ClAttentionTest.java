package dev.ltm.gpu;

import static dev.ltm.gpu.ClTest.assertClose;
import static dev.ltm.gpu.ClTest.randn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ltm.tensor.AttentionDims;
import dev.ltm.tensor.AttentionMask;
import dev.ltm.tensor.Rng;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Fused attention against a naive reference that builds the full score matrix. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClAttentionTest {
    private ClContext ctx;
    private ClAttention attention;

    @BeforeAll
    void open() {
        ctx = ClTest.openOrSkip();
        attention = new ClAttention(ctx);
    }

    @AfterAll
    void close() {
        if (ctx != null) ctx.close();
    }

    /** The sizes of one case; window 0 stands for no mask here, as in the kernels' encoding. */
    static AttentionDims dims(int batch, int tq, int tk, int heads, int kvHeads, int headDim, int window) {
        return new AttentionDims(batch, tq, tk, heads, kvHeads, headDim, window == 0 ? AttentionMask.none() : AttentionMask.causal(window));
    }

    static boolean visible(AttentionDims d, int i, int j) {
        return d.kernelWindow() == 0 || (j <= i && j > i - d.kernelWindow());
    }

    static int qi(AttentionDims d, int b, int t, int h) { return ((b * d.tq() + t) * d.heads() + h) * d.headDim(); }
    static int ki(AttentionDims d, int b, int s, int g) { return ((b * d.tk() + s) * d.kvHeads() + g) * d.headDim(); }

    /** Softmax probabilities P[b][h][i][j] in double (0 where masked). */
    static double[][][][] probabilities(AttentionDims d, float[] q, float[] k) {
        int hd = d.headDim(), rep = d.heads() / d.kvHeads();
        double scale = 1 / Math.sqrt(hd);
        double[][][][] p = new double[d.batch()][d.heads()][d.tq()][d.tk()];
        for (int b = 0; b < d.batch(); b++) {
            for (int h = 0; h < d.heads(); h++) {
                for (int i = 0; i < d.tq(); i++) {
                    double m = Double.NEGATIVE_INFINITY;
                    double[] s = p[b][h][i];
                    for (int j = 0; j < d.tk(); j++) {
                        if (!visible(d, i, j)) { s[j] = Double.NEGATIVE_INFINITY; continue; }
                        double dot = 0;
                        for (int c = 0; c < hd; c++) dot += (double) q[qi(d, b, i, h) + c] * k[ki(d, b, j, h / rep) + c];
                        s[j] = dot * scale;
                        m = Math.max(m, s[j]);
                    }
                    double z = 0;
                    for (int j = 0; j < d.tk(); j++) z += s[j] = Math.exp(s[j] - m);
                    for (int j = 0; j < d.tk(); j++) s[j] /= z;
                }
            }
        }
        return p;
    }

    static double[] forwardNaive(AttentionDims d, float[] q, float[] k, float[] v, double[][][][] p) {
        int hd = d.headDim(), rep = d.heads() / d.kvHeads();
        double[] out = new double[(int) d.qSize()];
        for (int b = 0; b < d.batch(); b++)
            for (int h = 0; h < d.heads(); h++)
                for (int i = 0; i < d.tq(); i++)
                    for (int j = 0; j < d.tk(); j++)
                        for (int c = 0; c < hd; c++) out[qi(d, b, i, h) + c] += p[b][h][i][j] * v[ki(d, b, j, h / rep) + c];
        return out;
    }

    /** dq, dk, dv of L = sum(out * dout) from the full matrices. */
    static float[][] backwardNaive(AttentionDims d, float[] q, float[] k, float[] v, float[] dout) {
        int hd = d.headDim(), rep = d.heads() / d.kvHeads();
        double scale = 1 / Math.sqrt(hd);
        double[][][][] p = probabilities(d, q, k);
        double[] dq = new double[(int) d.qSize()], dk = new double[(int) d.kvSize()], dv = new double[(int) d.kvSize()];
        for (int b = 0; b < d.batch(); b++) {
            for (int h = 0; h < d.heads(); h++) {
                int g = h / rep;
                for (int i = 0; i < d.tq(); i++) {
                    double[] dp = new double[d.tk()];
                    double rowDot = 0;
                    for (int j = 0; j < d.tk(); j++) {
                        for (int c = 0; c < hd; c++) dp[j] += (double) dout[qi(d, b, i, h) + c] * v[ki(d, b, j, g) + c];
                        rowDot += p[b][h][i][j] * dp[j];
                    }
                    for (int j = 0; j < d.tk(); j++) {
                        double pij = p[b][h][i][j];
                        double ds = pij * (dp[j] - rowDot) * scale;
                        for (int c = 0; c < hd; c++) {
                            dq[qi(d, b, i, h) + c] += ds * k[ki(d, b, j, g) + c];
                            dk[ki(d, b, j, g) + c] += ds * q[qi(d, b, i, h) + c];
                            dv[ki(d, b, j, g) + c] += pij * dout[qi(d, b, i, h) + c];
                        }
                    }
                }
            }
        }
        return new float[][] {toFloat(dq), toFloat(dk), toFloat(dv)};
    }

    static float[] toFloat(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) f[i] = (float) x[i];
        return f;
    }

    void checkAgainstNaive(AttentionDims d, long seed) {
        Rng rng = new Rng(seed);
        float[] q = randn(rng, (int) d.qSize()), k = randn(rng, (int) d.kvSize()), v = randn(rng, (int) d.kvSize());
        float[] dout = randn(rng, (int) d.qSize());
        float[] dq0 = randn(rng, (int) d.qSize()), dk0 = randn(rng, (int) d.kvSize()), dv0 = randn(rng, (int) d.kvSize());
        double[][][][] p = probabilities(d, q, k);
        float[] out = toFloat(forwardNaive(d, q, k, v, p));
        float[][] grads = backwardNaive(d, q, k, v, dout);
        float[] dq = dq0.clone(), dk = dk0.clone(), dv = dv0.clone();
        for (int i = 0; i < dq.length; i++) dq[i] += grads[0][i];
        for (int i = 0; i < dk.length; i++) { dk[i] += grads[1][i]; dv[i] += grads[2][i]; }
        try (ClBuffer dQ = ctx.buffer(q); ClBuffer dK = ctx.buffer(k); ClBuffer dV = ctx.buffer(v);
             ClBuffer dOut = ctx.buffer(d.qSize()); ClBuffer lse = ctx.buffer(d.lseSize());
             ClBuffer dDout = ctx.buffer(dout); ClBuffer dDq = ctx.buffer(dq0); ClBuffer dDk = ctx.buffer(dk0);
             ClBuffer dDv = ctx.buffer(dv0)) {
            attention.forward(d, dQ, dK, dV, dOut, lse);
            assertClose("attention out " + d, dOut.toFloats(), out, 1e-4);
            attention.backward(d, dQ, dK, dV, dOut, lse, dDout, dDq, dDk, dDv);
            assertClose("attention dq " + d, dDq.toFloats(), dq, 1e-4);
            assertClose("attention dk " + d, dDk.toFloats(), dk, 1e-4);
            assertClose("attention dv " + d, dDv.toFloats(), dv, 1e-4);
        }
    }

    @Test
    void slidingWindowSelfAttentionWithGroupedHeads() {
        checkAgainstNaive(dims(2, 11, 11, 4, 2, 8, 4), 31);
    }

    @Test
    void windowWiderThanTheSequenceIsPlainCausal() {
        checkAgainstNaive(dims(1, 7, 7, 3, 3, 5, 100), 32);
    }

    @Test
    void windowOfOneSeesOnlyItself() {
        checkAgainstNaive(dims(1, 5, 5, 2, 1, 6, 1), 33);
    }

    @Test
    void unmaskedCrossAttentionToFewerKeys() {
        checkAgainstNaive(dims(3, 9, 4, 2, 1, 16, 0), 34);
    }

    @Test
    void lseIsTheLogOfTheSoftmaxDenominator() {
        AttentionDims d = dims(1, 3, 3, 1, 1, 2, 2);
        float[] q = {1, 0, 0, 1, 1, 1}, k = {1, 0, 0, 1, 2, 0}, v = {1, 2, 3, 4, 5, 6};
        double s = 1 / Math.sqrt(2);
        // query 0 sees key 0; query 1 keys 0..1; query 2 keys 1..2
        float[] expected = {(float) s, (float) Math.log(Math.exp(0) + Math.exp(s)),
                (float) Math.log(Math.exp(s) + Math.exp(2 * s))};
        try (ClBuffer dQ = ctx.buffer(q); ClBuffer dK = ctx.buffer(k); ClBuffer dV = ctx.buffer(v);
             ClBuffer out = ctx.buffer(6); ClBuffer lse = ctx.buffer(3)) {
            attention.forward(d, dQ, dK, dV, out, lse);
            assertClose("lse", lse.toFloats(), expected, 1e-5);
            assertThat(out.toFloats()[0]).isEqualTo(1f);
            assertThat(out.toFloats()[1]).isEqualTo(2f);
        }
    }

    @Test
    void gradientOfTheNaiveReferenceMatchesFiniteDifferences() {
        AttentionDims d = dims(1, 4, 4, 2, 1, 3, 3);
        Rng rng = new Rng(35);
        float[] q = randn(rng, (int) d.qSize()), k = randn(rng, (int) d.kvSize()), v = randn(rng, (int) d.kvSize());
        float[] dout = randn(rng, (int) d.qSize());
        float[][] grads = backwardNaive(d, q, k, v, dout);
        float[][] inputs = {q, k, v};
        double h = 1e-3;
        for (int which = 0; which < 3; which++) {
            float[] x = inputs[which];
            for (int i = 0; i < x.length; i += 2) {
                float keep = x[i];
                x[i] = (float) (keep + h);
                double plus = loss(d, q, k, v, dout);
                x[i] = (float) (keep - h);
                double minus = loss(d, q, k, v, dout);
                x[i] = keep;
                assertThat((plus - minus) / (2 * h)).as("d%s[%d]", "qkv".charAt(which), i)
                        .isCloseTo(grads[which][i], org.assertj.core.data.Offset.offset(2e-3));
            }
        }
    }

    private static double loss(AttentionDims d, float[] q, float[] k, float[] v, float[] dout) {
        double[] out = forwardNaive(d, q, k, v, probabilities(d, q, k));
        double l = 0;
        for (int i = 0; i < out.length; i++) l += out[i] * dout[i];
        return l;
    }

    @Test
    void badDimsAreRefused() {
        assertThatThrownBy(() -> dims(1, 4, 5, 2, 1, 8, 2)).hasMessageContaining("needs tq == tk");
        assertThatThrownBy(() -> dims(1, 4, 4, 3, 2, 8, 2)).hasMessageContaining("not a multiple");
    }
}
