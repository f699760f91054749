package dev.ltm.autograd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ltm.tensor.AttentionMask;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Every backward rule against a double-precision reference ({@link DoubleRef}), two ways: the
 * reference's hand-written backward against central differences of its own forward (relative
 * error < 1e-6), and the float32 autograd gradients against the reference's (relative error < 1e-4).
 * Relative error is max|a - n| / max(max|n|, 1), n the reference; the upstream gradient is a
 * seeded random w with |w| in [0.5, 1.5], the same for both.
 */
class DoubleReferenceGradientTest {
    private static final double H = 1e-6, TOL_DOUBLE = 1e-6, TOL_FLOAT = 1e-4;
    private static final float EPS = 1e-5f;
    private final Rng rng = new Rng(31337);

    /** Forward of the reference on double inputs. */
    @FunctionalInterface
    interface Forward { double[] apply(double[][] x); }

    /** Backward of the reference: gradient of each input given the upstream dy. */
    @FunctionalInterface
    interface Backward { double[][] apply(double[][] x, double[] dy); }

    /** A named input: float values (also the reference's, widened) and shape. */
    record In(float[] data, int[] shape) {}

    private In rand(int... shape) {
        float[] d = new float[DoubleRef.size(shape)];
        for (int i = 0; i < d.length; i++) d[i] = (float) rng.normal();
        return new In(d, shape);
    }

    /** |normal| + lo: for log arguments and divisors. */
    private In positive(double lo, int... shape) {
        In in = rand(shape);
        for (int i = 0; i < in.data.length; i++) in.data[i] = (float) (Math.abs(in.data[i]) + lo);
        return in;
    }

    private void check(String name, Forward fwd, Backward bwd, Function<Var[], Var> op, In... ins) {
        int n = ins.length;
        double[][] x = new double[n][];
        for (int i = 0; i < n; i++) {
            x[i] = new double[ins[i].data.length];
            for (int e = 0; e < x[i].length; e++) x[i][e] = ins[i].data[e];
        }
        double[] y = fwd.apply(x);
        float[] wf = new float[y.length];
        double[] w = new double[y.length];
        for (int o = 0; o < y.length; o++) {
            wf[o] = (float) ((rng.uniform() < 0.5 ? -1 : 1) * (0.5 + rng.uniform()));
            w[o] = wf[o];
        }
        double[][] analytic = bwd.apply(x, w);

        // (1) the reference's backward against central differences of its forward
        double worstDouble = 0;
        for (int i = 0; i < n; i++) {
            double[] num = new double[x[i].length];
            for (int e = 0; e < num.length; e++) {
                double orig = x[i][e];
                x[i][e] = orig + H;
                double plus = dot(fwd.apply(x), w);
                x[i][e] = orig - H;
                double minus = dot(fwd.apply(x), w);
                x[i][e] = orig;
                num[e] = (plus - minus) / (2 * H);
            }
            worstDouble = Math.max(worstDouble, relErr(analytic[i], num));
        }

        // (2) the float32 autograd against the reference's analytic gradients
        Var[] vars = new Var[n];
        for (int i = 0; i < n; i++) vars[i] = Var.param(Tensor.of(ins[i].data.clone(), ins[i].shape));
        Var out = op.apply(vars);
        float[] outData = out.value().toArray();
        assertThat(outData.length).as("%s: output size", name).isEqualTo(y.length);
        double forwardErr = relErr(toDouble(outData), y);
        Tape.backward(out, Tensor.of(wf, out.shape().dims()));
        double worstFloat = 0;
        for (int i = 0; i < n; i++) {
            double[] g = vars[i].grad() == null ? new double[x[i].length] : toDouble(vars[i].grad().toArray());
            worstFloat = Math.max(worstFloat, relErr(g, analytic[i]));
        }
        System.out.printf("%-28s double-vs-fd %.2e  float-vs-double %.2e  (forward %.2e)%n", name, worstDouble, worstFloat, forwardErr);
        assertThat(worstDouble).as("%s: double reference backward vs finite differences", name).isLessThan(TOL_DOUBLE);
        assertThat(forwardErr).as("%s: float32 forward vs double reference", name).isLessThan(TOL_FLOAT);
        assertThat(worstFloat).as("%s: float32 autograd vs double reference", name).isLessThan(TOL_FLOAT);
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    /** max|a - n| / max(max|n|, 1). */
    private static double relErr(double[] a, double[] n) {
        double diff = 0, scale = 1;
        for (int i = 0; i < n.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - n[i]));
            scale = Math.max(scale, Math.abs(n[i]));
        }
        return diff / scale;
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    // ---- cases ------------------------------------------------------------------------------

    private void binary(String name, int kind, Function<Var[], Var> op, In a, In b) {
        check(name, x -> DoubleRef.binary(kind, x[0], a.shape, x[1], b.shape),
                (x, dy) -> DoubleRef.binaryBackward(kind, x[0], a.shape, x[1], b.shape, dy), op, a, b);
    }

    private void unary(String name, int kind, Function<Var[], Var> op, In a) {
        check(name, x -> DoubleRef.unary(kind, x[0]), (x, dy) -> new double[][] {DoubleRef.unaryBackward(kind, x[0], dy)}, op, a);
    }

    @Test
    void elementwiseWithBroadcasting() {
        binary("add [3,5]+[5]", 0, v -> Ops.add(v[0], v[1]), rand(3, 5), rand(5));
        binary("add [2,1,5]+[3,1]", 0, v -> Ops.add(v[0], v[1]), rand(2, 1, 5), rand(3, 1));
        binary("sub [3,1]-[2,1,7]", 1, v -> Ops.sub(v[0], v[1]), rand(3, 1), rand(2, 1, 7));
        binary("mul [2,3,5]*[3,1]", 2, v -> Ops.mul(v[0], v[1]), rand(2, 3, 5), rand(3, 1));
        binary("mul [1,7]*[5,1]", 2, v -> Ops.mul(v[0], v[1]), rand(1, 7), rand(5, 1));
        binary("div [4,3]/[3]", 3, v -> Ops.div(v[0], v[1]), rand(4, 3), positive(1, 3));
        binary("div [3,1]/[2,3,5]", 3, v -> Ops.div(v[0], v[1]), rand(3, 1), positive(1, 2, 3, 5));
        check("affine", x -> affine(x[0]), (x, dy) -> new double[][] {scaled(dy, -1.5)}, v -> Ops.affine(v[0], -1.5f, 2f), rand(7));
        unary("exp [3,4]", 0, v -> Ops.exp(v[0]), rand(3, 4));
        unary("log [9]", 1, v -> Ops.log(v[0]), positive(0.5, 9));
        unary("square [6]", 2, v -> Ops.square(v[0]), rand(6));
        unary("silu [2,9]", 3, v -> Ops.silu(v[0]), rand(2, 9));
        check("swiglu [2,9]", DoubleReferenceGradientTest::swiglu, DoubleReferenceGradientTest::swigluBackward,
                v -> Ops.swiglu(v[0], v[1]), rand(2, 9), rand(2, 9));
    }

    /** silu(a) * b in double. */
    private static double[] swiglu(double[][] x) {
        double[] y = new double[x[0].length];
        for (int i = 0; i < y.length; i++) y[i] = x[0][i] / (1 + Math.exp(-x[0][i])) * x[1][i];
        return y;
    }

    /** da = dy b s (1 + a (1 - s)), db = dy silu(a), s = sigmoid(a). */
    private static double[][] swigluBackward(double[][] x, double[] dy) {
        double[] da = new double[dy.length], db = new double[dy.length];
        for (int i = 0; i < dy.length; i++) {
            double a = x[0][i], s = 1 / (1 + Math.exp(-a));
            da[i] = dy[i] * x[1][i] * s * (1 + a * (1 - s));
            db[i] = dy[i] * a * s;
        }
        return new double[][] {da, db};
    }

    private static double[] affine(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * -1.5 + 2;
        return y;
    }

    private static double[] scaled(double[] a, double s) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) y[i] = a[i] * s;
        return y;
    }

    @Test
    void reductions() {
        check("sum [3,4]", x -> DoubleRef.sumAxis(x[0], 1, 12, 1),
                (x, dy) -> new double[][] {DoubleRef.sumAxisBackward(dy, 1, 12, 1)}, v -> Ops.sum(v[0]), rand(3, 4));
        check("mean [5]", x -> scaled(DoubleRef.sumAxis(x[0], 1, 5, 1), 0.2),
                (x, dy) -> new double[][] {DoubleRef.sumAxisBackward(scaled(dy, 0.2), 1, 5, 1)}, v -> Ops.mean(v[0]), rand(5));
    }

    @Test
    void matmulInAllLayouts() {
        int batch = 2, m = 3, k = 5, n = 4;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (boolean shared : new boolean[] {false, true}) {
                    In a = ta ? rand(batch, k, m) : rand(batch, m, k);
                    int[] bs = tb ? new int[] {n, k} : new int[] {k, n};
                    In b = shared ? rand(bs) : rand(batch, bs[0], bs[1]);
                    check("matmul " + (ta ? "T" : "N") + (tb ? "T" : "N") + (shared ? " shared" : " batched"),
                            x -> DoubleRef.matmul(x[0], x[1], batch, m, k, n, ta, tb, shared),
                            (x, dy) -> DoubleRef.matmulBackward(x[0], x[1], batch, m, k, n, ta, tb, shared, dy),
                            v -> Ops.matmul(v[0], v[1], ta, tb), a, b);
                }
            }
        }
        check("linear [2,3,7]x[5,7]^T", x -> DoubleRef.matmul(x[0], x[1], 1, 6, 7, 5, false, true, true),
                (x, dy) -> DoubleRef.matmulBackward(x[0], x[1], 1, 6, 7, 5, false, true, true, dy),
                v -> Ops.linear(v[0], v[1]), rand(2, 3, 7), rand(5, 7));
    }

    @Test
    void rmsNormOfInputAndGain() {
        check("rmsNorm [4,9]", x -> DoubleRef.rmsNorm(x[0], x[1], 4, 9, EPS),
                (x, dy) -> DoubleRef.rmsNormBackward(x[0], x[1], 4, 9, EPS, dy), v -> Ops.rmsNorm(v[0], v[1], EPS), rand(4, 9), rand(9));
        check("rmsNorm [2,3,5]", x -> DoubleRef.rmsNorm(x[0], x[1], 6, 5, EPS),
                (x, dy) -> DoubleRef.rmsNormBackward(x[0], x[1], 6, 5, EPS, dy), v -> Ops.rmsNorm(v[0], v[1], EPS), rand(2, 3, 5), rand(5));
    }

    @Test
    void embeddingWithRepeatedIds() {
        int[] ids = {3, 0, 3, 5, 3};
        check("embedding [6,4] ids x5", x -> DoubleRef.embedding(x[0], 4, ids),
                (x, dy) -> new double[][] {DoubleRef.embeddingBackward(6, 4, ids, dy)}, v -> Ops.embedding(v[0], ids), rand(6, 4));
    }

    @Test
    void rope() {
        int[] p1 = {0, 3, 7};
        check("rope [2,3,2,4]", x -> DoubleRef.rope(x[0], 2, 3, 2, 4, p1, 10000, false),
                (x, dy) -> new double[][] {DoubleRef.ropeBackward(2, 3, 2, 4, p1, 10000, dy)},
                v -> Ops.rope(v[0], p1, 10000f), rand(2, 3, 2, 4));
        int[] p2 = {0, 1, 2, 5, 11};
        check("rope [1,5,3,6]", x -> DoubleRef.rope(x[0], 1, 5, 3, 6, p2, 500, false),
                (x, dy) -> new double[][] {DoubleRef.ropeBackward(1, 5, 3, 6, p2, 500, dy)},
                v -> Ops.rope(v[0], p2, 500f), rand(1, 5, 3, 6));
    }

    @Test
    void crossEntropyWithIgnoredRowAndWeights() {
        int[] t1 = {2, -1, 0, 4};
        float[] w1 = {0.7f, 1.3f, 0.5f, 2f};
        crossEntropy("crossEntropy [4,5]", t1, w1, rand(4, 5));
        int[] t2 = {6, 0, -1, -1, 3};
        float[] w2 = {1.5f, 0.25f, 1f, 3f, 0.8f};
        crossEntropy("crossEntropy [5,7]", t2, w2, rand(5, 7));
    }

    private void crossEntropy(String name, int[] targets, float[] wf, In logits) {
        int rows = logits.shape[0], v = logits.shape[1];
        double[] w = toDouble(wf);
        check(name, x -> new double[] {DoubleRef.crossEntropy(x[0], rows, v, targets, w)},
                (x, dy) -> new double[][] {DoubleRef.crossEntropyBackward(x[0], rows, v, targets, w, dy[0])},
                vs -> Ops.crossEntropy(vs[0], targets, Tensor.of(wf.clone(), wf.length)), logits);
    }

    @Test
    void attention() {
        attention("self window 3", 2, 5, 5, 2, 2, 4, 3);
        attention("self window 2 gqa", 1, 6, 6, 4, 2, 3, 2);
        attention("self full causal gqa", 1, 7, 7, 3, 1, 2, 7);
        attention("cross", 2, 5, 3, 2, 1, 4, 0);
        attention("cross gqa", 1, 3, 7, 6, 3, 2, 0);
    }

    private void attention(String name, int b, int tq, int tk, int nh, int nkv, int hd, int window) {
        check("attention " + name, x -> DoubleRef.attention(x[0], x[1], x[2], b, tq, tk, nh, nkv, hd, window),
                (x, dy) -> DoubleRef.attentionBackward(x[0], x[1], x[2], b, tq, tk, nh, nkv, hd, window, dy),
                v -> Ops.attention(v[0], v[1], v[2], window == 0 ? AttentionMask.none() : AttentionMask.causal(window)),
                rand(b, tq, nh, hd), rand(b, tk, nkv, hd), rand(b, tk, nkv, hd));
    }
}
