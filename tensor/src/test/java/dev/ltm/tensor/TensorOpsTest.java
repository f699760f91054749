package dev.ltm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Every CPU op against a naive double-precision reference, on seeded random odd shapes. */
class TensorOpsTest {
    private final Rng rng = new Rng(42);

    private Tensor rand(int... dims) { return Tensor.randn(rng, 0, 1, dims); }

    /** Largest |a - b| relative to the larger of 1 and the reference's max magnitude. */
    static double relErr(float[] got, double[] want) {
        assertThat(got).hasSize(want.length);
        double scale = 1, err = 0;
        for (double w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
        return err / scale;
    }

    /** Multi-index of flat offset {@code i} in {@code dims}. */
    static int[] unravel(int i, int[] dims) {
        int[] idx = new int[dims.length];
        for (int d = dims.length - 1; d >= 0; d--) {
            idx[d] = i % dims[d];
            i /= dims[d];
        }
        return idx;
    }

    /** Element of {@code t} seen through broadcasting at output index {@code idx}. */
    static double bget(Tensor t, int[] idx) {
        int r = t.rank(), off = idx.length - r, flat = 0;
        for (int d = 0; d < r; d++) flat = flat * t.dim(d) + (t.dim(d) == 1 ? 0 : idx[off + d]);
        return t.data()[flat];
    }

    @Test
    void broadcastingBinaryOpsMatchReference() {
        int[][][] cases = {
            {{3, 5}, {3, 5}}, {{2, 3, 7}, {7}}, {{2, 1, 7}, {1, 5, 1}}, {{1}, {4, 3}}, {{13, 17}, {13, 1}}, {{}, {3}},
            {{2, 3, 4, 5}, {3, 1, 5}}, {{33}, {33}}};
        for (int[][] c : cases) {
            Tensor a = rand(c[0]), b = rand(c[1]);
            Shape out = Tensor.broadcastShape("t", a.shape(), b.shape());
            for (BinaryOp op : BinaryOp.values()) {
                Tensor bb = op == BinaryOp.DIV ? b.map(UnaryOp.ABS).affine(1, 0.5f) : b;
                Tensor got = switch (op) {
                    case ADD -> a.add(bb);
                    case SUB -> a.sub(bb);
                    case MUL -> a.mul(bb);
                    case DIV -> a.div(bb);
                };
                double[] want = new double[out.size()];
                for (int i = 0; i < want.length; i++) {
                    int[] idx = unravel(i, out.dims());
                    double x = bget(a, idx), y = bget(bb, idx);
                    want[i] = switch (op) { case ADD -> x + y; case SUB -> x - y; case MUL -> x * y; case DIV -> x / y; };
                }
                assertThat(got.shape()).isEqualTo(out);
                assertThat(relErr(got.data(), want)).as(op + " " + a.shape() + " " + b.shape()).isLessThan(1e-6);
            }
        }
    }

    @Test
    void unaryAndAffineMatchReference() {
        Tensor a = rand(3, 37);
        for (UnaryOp op : UnaryOp.values()) {
            Tensor in = (op == UnaryOp.LOG || op == UnaryOp.SQRT) ? a.map(UnaryOp.ABS).affine(1, 0.1f) : a;
            double[] want = new double[in.size()];
            for (int i = 0; i < want.length; i++) {
                double x = in.data()[i];
                want[i] = switch (op) {
                    case NEG -> -x; case EXP -> Math.exp(x); case LOG -> Math.log(x); case SQRT -> Math.sqrt(x);
                    case SQUARE -> x * x; case SILU -> x / (1 + Math.exp(-x)); case SIGMOID -> 1 / (1 + Math.exp(-x));
                    case TANH -> Math.tanh(x); case ABS -> Math.abs(x);
                };
            }
            assertThat(relErr(in.map(op).data(), want)).as(op.name()).isLessThan(1e-6);
        }
        double[] want = new double[a.size()];
        for (int i = 0; i < want.length; i++) want[i] = a.data()[i] * 1.5 - 0.25;
        assertThat(relErr(a.affine(1.5f, -0.25f).data(), want)).isLessThan(1e-6);
    }

    @Test
    void reductionsMatchReference() {
        Tensor a = rand(3, 7, 5);
        for (int axis = 0; axis < 3; axis++) {
            int[] kept = a.shape().dims();
            kept[axis] = 1;
            Tensor s = a.sumTo(Shape.of(kept));
            double[] ws = new double[s.size()];
            for (int i = 0; i < a.size(); i++) {
                int[] idx = unravel(i, a.shape().dims());
                idx[axis] = 0;
                ws[(idx[0] * kept[1] + idx[1]) * kept[2] + idx[2]] += a.data()[i];
            }
            assertThat(relErr(s.data(), ws)).isLessThan(1e-6);
        }
        assertThat(a.sumAll()).isCloseTo(java.util.stream.IntStream.range(0, a.size()).mapToDouble(i -> a.data()[i]).sum(),
                org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void sumToInvertsBroadcasting() {
        Tensor g = rand(2, 3, 5);
        Tensor s = g.sumTo(Shape.of(3, 1));
        double[] want = new double[3];
        for (int i = 0; i < g.size(); i++) want[unravel(i, g.shape().dims())[1]] += g.data()[i];
        assertThat(relErr(s.data(), want)).isLessThan(1e-6);
        assertThat(g.sumTo(Shape.of()).item()).isCloseTo((float) g.sumAll(), org.assertj.core.data.Offset.offset(1e-4f));
        assertThatThrownBy(() -> g.sumTo(Shape.of(4))).hasMessageContaining("sumTo").hasMessageContaining("[4]");
    }

    @Test
    void batchedMatmulMatchesReferenceInAllTransposeCombinations() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (boolean shared : new boolean[] {false, true}) {
                    int batch = 3, m = 7, k = 13, n = 5;
                    Tensor a = ta ? rand(batch, k, m) : rand(batch, m, k);
                    Tensor b = shared ? (tb ? rand(n, k) : rand(k, n)) : (tb ? rand(batch, n, k) : rand(batch, k, n));
                    Tensor c = a.matmul(b, ta, tb);
                    assertThat(c.shape()).isEqualTo(Shape.of(batch, m, n));
                    double[] want = new double[batch * m * n];
                    for (int q = 0; q < batch; q++) for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                        double acc = 0;
                        for (int p = 0; p < k; p++) {
                            double x = ta ? a.get(q, p, i) : a.get(q, i, p);
                            double y = shared ? (tb ? b.get(j, p) : b.get(p, j)) : (tb ? b.get(q, j, p) : b.get(q, p, j));
                            acc += x * y;
                        }
                        want[(q * m + i) * n + j] = acc;
                    }
                    assertThat(relErr(c.data(), want)).as("ta=%s tb=%s shared=%s", ta, tb, shared).isLessThan(1e-5);
                }
            }
        }
    }

    @Test
    void layoutOpsMoveTheRightElements() {
        Tensor a = rand(2, 3, 5);
        Tensor p = a.permute(2, 0, 1);
        assertThat(p.shape()).isEqualTo(Shape.of(5, 2, 3));
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 5; k++) {
            assertThat(p.get(k, i, j)).isEqualTo(a.get(i, j, k));
            assertThat(a.transpose(0, 2).get(k, j, i)).isEqualTo(a.get(i, j, k));
        }
        Tensor s = a.slice(1, 1, 3);
        assertThat(s.shape()).isEqualTo(Shape.of(2, 2, 5));
        assertThat(s.get(1, 0, 4)).isEqualTo(a.get(1, 1, 4));
        Tensor[] parts = a.split(2, 1, 3, 1);
        assertThat(Tensor.concat(2, parts).data()).containsExactly(a.data());
        assertThat(Tensor.concat(0, a, a).get(3, 2, 1)).isEqualTo(a.get(1, 2, 1));
        Tensor r = a.reshape(6, -1);
        assertThat(r.shape()).isEqualTo(Shape.of(6, 5));
        r.set(9f, 0, 0);
        assertThat(a.get(0, 0, 0)).as("reshape is a view").isEqualTo(9f);
    }

    @Test
    void rmsNormMatchesReference() {
        Tensor x = rand(5, 19), g = rand(19);
        Tensor rstd = Tensor.zeros(5);
        Tensor y = x.backend().rmsNorm(x, g, 1e-5f, rstd);
        double[] want = new double[x.size()];
        for (int r = 0; r < 5; r++) {
            double ss = 0;
            for (int i = 0; i < 19; i++) ss += x.get(r, i) * (double) x.get(r, i);
            double s = 1 / Math.sqrt(ss / 19 + 1e-5);
            for (int i = 0; i < 19; i++) want[r * 19 + i] = x.get(r, i) * s * g.get(i);
        }
        assertThat(relErr(y.data(), want)).isLessThan(1e-6);
    }

    @Test
    void ropeRotatesInterleavedPairsAndInverts() {
        Tensor x = rand(2, 3, 2, 6);
        int[] pos = {0, 5, 11};
        Tensor y = x.backend().rope(x, pos, 10000f, false);
        double[] want = new double[x.size()];
        for (int i = 0; i < x.size(); i++) {
            int[] idx = unravel(i, x.shape().dims());
            int pair = idx[3] / 2;
            double ang = pos[idx[1]] * Math.pow(10000, -2.0 * pair / 6);
            int base = i - (idx[3] % 2);
            double x0 = x.data()[base], x1 = x.data()[base + 1];
            want[i] = idx[3] % 2 == 0 ? x0 * Math.cos(ang) - x1 * Math.sin(ang) : x0 * Math.sin(ang) + x1 * Math.cos(ang);
        }
        assertThat(relErr(y.data(), want)).isLessThan(1e-5);
        Tensor back = x.backend().rope(y, pos, 10000f, true);
        double[] orig = new double[x.size()];
        for (int i = 0; i < orig.length; i++) orig[i] = x.data()[i];
        assertThat(relErr(back.data(), orig)).isLessThan(1e-5);
    }

    @Test
    void crossEntropyAndEmbeddingMatchReference() {
        Tensor logits = rand(4, 9);
        int[] t = {3, -1, 8, 0};
        float[] loss = logits.backend().crossEntropy(logits, t).read();
        for (int r = 0; r < 4; r++) {
            if (t[r] < 0) {
                assertThat(loss[r]).isZero();
                continue;
            }
            double sum = 0;
            for (int i = 0; i < 9; i++) sum += Math.exp(logits.get(r, i));
            assertThat((double) loss[r]).isCloseTo(Math.log(sum) - logits.get(r, t[r]), org.assertj.core.data.Offset.offset(1e-5));
        }
        Tensor table = rand(7, 3);
        Tensor e = table.backend().embedding(table, new int[] {6, 0, 6});
        assertThat(e.get(2, 1)).isEqualTo(table.get(6, 1));
        assertThatThrownBy(() -> table.backend().embedding(table,
                new int[] {7})).hasMessageContaining("embedding").hasMessageContaining("7");
    }

    @Test
    void adamwMatchesHandComputedSteps() {
        Tensor p = Tensor.of(new float[] {1f, -2f}, 2), m = Tensor.zeros(2), v = Tensor.zeros(2);
        double[] pd = {1, -2}, md = new double[2], vd = new double[2];
        double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
        for (int step = 1; step <= 3; step++) {
            Tensor g = Tensor.of(new float[] {0.5f * step, -0.25f}, 2);
            p.backend().adamw(p, g, m, v, (float) lr, (float) b1, (float) b2, (float) eps, (float) wd, step);
            for (int i = 0; i < 2; i++) {
                double gi = g.data()[i];
                pd[i] *= 1 - lr * wd;
                md[i] = b1 * md[i] + (1 - b1) * gi;
                vd[i] = b2 * vd[i] + (1 - b2) * gi * gi;
                pd[i] -= lr * (md[i] / (1 - Math.pow(b1, step))) / (Math.sqrt(vd[i] / (1 - Math.pow(b2, step))) + eps);
            }
        }
        assertThat(relErr(p.data(), pd)).isLessThan(1e-6);
    }

    @Test
    void writeReplacesARangeInPlaceAndKeepsTheRest() {
        Tensor cache = rand(5, 2, 3);
        float[] before = cache.toArray();
        Tensor row = rand(1, 2, 3);
        cache.write(2 * 6, row);
        float[] after = cache.toArray(), r = row.toArray();
        for (int i = 0; i < before.length; i++) {
            float want = i >= 12 && i < 18 ? r[i - 12] : before[i];
            assertThat(after[i]).as("element %d", i).isEqualTo(want);
        }
        cache.write(cache.size() - 1, Tensor.scalar(7f));
        assertThat(cache.toArray()[cache.size() - 1]).isEqualTo(7f);
    }

    @Test
    void badInputNamesTheOpAndBothShapes() {
        Tensor a = rand(4, 8), b = rand(7, 3);
        assertThatThrownBy(() -> a.matmul(b)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("matmul").hasMessageContaining("[4, 8]").hasMessageContaining("[7, 3]")
                .hasMessageContaining("8 and 7");
        assertThatThrownBy(() -> a.add(rand(3))).hasMessageContaining("add").hasMessageContaining("[4, 8]").hasMessageContaining("[3]");
        assertThatThrownBy(() -> rand(8).matmul(a)).hasMessageContaining("matmul").hasMessageContaining("rank");
        assertThatThrownBy(() -> Tensor.zeros(3, -1)).hasMessageContaining("negative size -1");
        assertThatThrownBy(() -> Tensor.randn(rng, Double.NaN, 1, 3)).hasMessageContaining("randn").hasMessageContaining("NaN");
        assertThatThrownBy(() -> a.reshape(5, -1)).hasMessageContaining("reshape").hasMessageContaining("[4, 8]");
        assertThatThrownBy(() -> Tensor.concat(0, a, rand(2, 7))).hasMessageContaining("concat").hasMessageContaining("[2, 7]");
        assertThatThrownBy(() -> a.slice(1, 3, 9)).hasMessageContaining("slice");
        assertThatThrownBy(() -> a.write(30, rand(1, 3))).hasMessageContaining("write").hasMessageContaining("[1, 3]")
                .hasMessageContaining("[4, 8]").hasMessageContaining("offset 30");
        assertThatThrownBy(() -> a.write(-1, rand(1))).hasMessageContaining("write").hasMessageContaining("offset -1");
        assertThatThrownBy(() -> a.permute(0, 0)).hasMessageContaining("permute");
        assertThatThrownBy(() -> Tensor.of(new float[5], 2, 3)).hasMessageContaining("[2, 3]");
    }

    @Test
    void seededRngIsReproducible() {
        Tensor a = Tensor.randn(new Rng(7), 0, 1, 100), b = Tensor.randn(new Rng(7), 0, 1, 100);
        assertThat(a.data()).containsExactly(b.data());
        double mean = a.sumAll() / 100;
        assertThat(mean).isBetween(-0.4, 0.4);
    }

    @Test
    void fusedSiluBackwardEqualsTheComposedOpsToTheBit() {
        // Sizes below and above the parallel grain, with and without a vector tail.
        for (int n : new int[] {1, 7, 16, 333, 70_001, 262_147}) {
            Tensor a = Tensor.randn(rng, 0, 3, n), g = rand(n);
            Tensor fused = CpuBackend.INSTANCE.siluBackward(a, g);
            Tensor s = a.map(UnaryOp.SIGMOID);
            Tensor composed = g.mul(s.mul(a.mul(s.affine(-1f, 1f)).affine(1f, 1f)));
            assertThat(fused.data()).as("n = " + n).containsExactly(composed.data());
            // and against the derivative in double: g * s (1 + a (1 - s))
            double[] want = new double[n];
            for (int i = 0; i < n; i++) {
                double x = a.data()[i], sig = 1 / (1 + Math.exp(-x));
                want[i] = g.data()[i] * sig * (1 + x * (1 - sig));
            }
            assertThat(relErr(fused.data(), want)).as("n = " + n).isLessThan(1e-5);
        }
    }

    @Test
    void fusedSwigluAndItsBackwardEqualTheComposedOpsBitForBit() {
        Rng rng = new Rng(41);
        // Sizes below and above the parallel grain, with and without a vector tail.
        for (int n : new int[] {1, 7, 16, 333, 70_001, 262_147}) {
            Tensor a = Tensor.randn(rng, 0, 3, n), b = Tensor.randn(rng, 0, 1, n), g = rand(n);
            Tensor fused = CpuBackend.INSTANCE.swiglu(a, b);
            assertThat(fused.data()).as("forward, n = " + n).containsExactly(a.silu().mul(b).data());
            Tensor[] d = CpuBackend.INSTANCE.swigluBackward(a, b, g);
            assertThat(d[0].data()).as("da, n = " + n).containsExactly(CpuBackend.INSTANCE.siluBackward(a, g.mul(b)).data());
            assertThat(d[1].data()).as("db, n = " + n).containsExactly(g.mul(a.silu()).data());
            // and against the derivatives in double: db = g silu(a), da = g b s (1 + a (1 - s))
            double[] wantA = new double[n], wantB = new double[n];
            for (int i = 0; i < n; i++) {
                double x = a.data()[i], sig = 1 / (1 + Math.exp(-x));
                wantB[i] = g.data()[i] * x * sig;
                wantA[i] = g.data()[i] * b.data()[i] * sig * (1 + x * (1 - sig));
            }
            assertThat(relErr(d[0].data(), wantA)).as("da, n = " + n).isLessThan(1e-5);
            assertThat(relErr(d[1].data(), wantB)).as("db, n = " + n).isLessThan(1e-5);
        }
    }
}
