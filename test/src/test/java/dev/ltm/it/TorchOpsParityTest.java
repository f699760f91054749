package dev.ltm.it;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.ltm.autograd.Ops;
import dev.ltm.autograd.Tape;
import dev.ltm.autograd.Var;
import dev.ltm.bench.torch.TorchEngine;
import dev.ltm.bench.torch.TorchLtm;
import dev.ltm.tensor.AttentionMask;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Each of our autograd ops against the same computation in PyTorch ops (through DJL): the value,
 * and the gradient of every input for a random upstream gradient, to a relative error below 1e-4
 * (max |ours - torch| / max |torch| per tensor, see {@link Parity#relErr}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TorchOpsParityTest {
    private final Parity.Worst worst = new Parity.Worst();

    @AfterAll
    void printWorst() { System.out.print(worst.report("TorchOpsParityTest")); }

    @Test
    void linearMatchesTorch() {
        check("linear", new Rng(11),
                v -> Ops.linear(v[0], v[1]),
                (m, a) -> TorchLtm.linear(a[0], a[1]),
                new int[] {2, 5, 7}, new int[] {3, 7});
    }

    @Test
    void rmsNormMatchesTorch() {
        Rng rng = new Rng(12);
        Tensor x = Tensor.randn(rng, 0.3, 1.7, 3, 5, 11), g = Tensor.randn(rng, 1, 0.3, 11);
        check("rmsNorm", rng,
                v -> Ops.rmsNorm(v[0], v[1], 1e-5f),
                (m, a) -> TorchLtm.rmsNorm(a[0], a[1], 1e-5f),
                x, g);
    }

    @Test
    void swiGluMatchesTorch() {
        check("swiGlu", new Rng(13),
                v -> Ops.linear(Ops.mul(Ops.silu(Ops.linear(v[0], v[1])), Ops.linear(v[0], v[3])), v[2]),
                (m, a) -> TorchLtm.swiGlu(a[0], a[1], a[2], a[3]),
                new int[] {2, 3, 7}, new int[] {13, 7}, new int[] {7, 13}, new int[] {13, 7});
    }

    @Test
    void ropeRotatesInterleavedPairsLikeTorch() {
        int[] positions = {0, 3, 7, 12, 40};
        check("rope", new Rng(14),
                v -> Ops.rope(v[0], positions, 10000f),
                (m, a) -> TorchLtm.rope(m, a[0], positions, 10000f),
                new int[] {2, 5, 3, 6});
    }

    @Test
    void windowedSelfAttentionWithGroupedHeadsMatchesTorch() {
        for (int window : new int[] {1, 3, 9}) {
            Rng rng = new Rng(15 + window);
            check("attention.self", rng,
                    v -> Ops.attention(v[0], v[1], v[2], AttentionMask.causal(window)),
                    (m, a) -> TorchLtm.attention(m, a[0], a[1], a[2], AttentionMask.causal(window)),
                    new int[] {2, 9, 4, 6}, new int[] {2, 9, 2, 6}, new int[] {2, 9, 2, 6});
        }
        // Full causal (window = T) with one K/V head shared by three query heads.
        check("attention.self", new Rng(19),
                v -> Ops.attention(v[0], v[1], v[2], AttentionMask.causal(11)),
                (m, a) -> TorchLtm.attention(m, a[0], a[1], a[2], AttentionMask.causal(11)),
                new int[] {1, 11, 3, 4}, new int[] {1, 11, 1, 4}, new int[] {1, 11, 1, 4});
    }

    @Test
    void unmaskedCrossAttentionMatchesTorch() {
        check("attention.cross", new Rng(20),
                v -> Ops.attention(v[0], v[1], v[2], AttentionMask.none()),
                (m, a) -> TorchLtm.attention(m, a[0], a[1], a[2], AttentionMask.none()),
                new int[] {2, 7, 4, 6}, new int[] {2, 5, 2, 6}, new int[] {2, 5, 2, 6});
        check("attention.cross", new Rng(21),
                v -> Ops.attention(v[0], v[1], v[2], AttentionMask.none()),
                (m, a) -> TorchLtm.attention(m, a[0], a[1], a[2], AttentionMask.none()),
                new int[] {3, 5, 3, 8}, new int[] {3, 1, 3, 8}, new int[] {3, 1, 3, 8});
    }

    @Test
    void crossEntropyMatchesLogSoftmaxPick() {
        Rng rng = new Rng(22);
        int[] targets = {3, 0, 10, -1, 7, 7, 2};
        float[] weights = new float[targets.length];
        for (int i = 0; i < weights.length; i++) weights[i] = (float) (0.5 + rng.uniform());
        Tensor logits = Tensor.randn(rng, 0, 2, 7, 11);
        check("crossEntropy", rng,
                v -> Ops.crossEntropy(v[0], targets, weights),
                (m, a) -> TorchLtm.crossEntropyRows(m, a[0], targets).mul(TorchEngine.owned(m.create(weights))).sum(),
                logits);
    }

    @Test
    void diagonalGaussianKlMatchesTorch() {
        Rng rng = new Rng(23);
        Tensor mu = Tensor.randn(rng, 0, 0.7, 2, 3, 5), logvar = Tensor.randn(rng, -1, 0.8, 2, 3, 5);
        // Our KL is composed from primitives exactly as Posterior.kl writes it.
        check("kl", rng,
                v -> Ops.scale(Ops.sum(Ops.sub(Ops.sub(Ops.affine(v[1], 1f, 1f), Ops.square(v[0])), Ops.exp(v[1]))), -0.5f),
                (m, a) -> TorchLtm.klPerSequence(a[0], a[1]).sum(),
                mu, logvar);
    }

    // ---- the comparison ---------------------------------------------------------------------

    private void check(String name, Rng rng, Function<Var[], Var> ours, BiFunction<NDManager, NDArray[], NDArray> torch,
                       int[]... shapes) {
        Tensor[] inputs = new Tensor[shapes.length];
        for (int i = 0; i < shapes.length; i++) inputs[i] = Tensor.randn(rng, 0, 1, shapes[i]);
        check(name, rng, ours, torch, inputs);
    }

    /** Runs both sides on the same inputs and upstream gradient and compares value and every input gradient. */
    private void check(String name, Rng rng, Function<Var[], Var> ours, BiFunction<NDManager, NDArray[], NDArray> torch,
                       Tensor... inputs) {
        Var[] vars = new Var[inputs.length];
        for (int i = 0; i < inputs.length; i++) vars[i] = Var.param(inputs[i].copy());
        Var out = ours.apply(vars);
        Tensor seed = Tensor.randn(rng, 0, 1, out.shape().dims());
        Tape.backward(out, seed);

        try (NDManager m = NDManager.newBaseManager("PyTorch");
             GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray[] arrays = new NDArray[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                arrays[i] = TorchEngine.nd(m, inputs[i]);
                arrays[i].setRequiresGradient(true);
            }
            NDArray want = torch.apply(m, arrays);
            assertThat(want.getShape().getShape()).as(name + " shape").containsExactly(toLong(out.shape().dims()));
            Parity.backward(gc, want.mul(TorchEngine.nd(m, seed)).sum());

            float[] value = out.value().data(), wantValue = want.toFloatArray();
            double e = worst.note(name + " value", Parity.relErr(value, wantValue));
            assertThat(e).as(() -> name + " value (" + Parity.worstEntry(value, wantValue) + ")").isLessThan(Parity.TOLERANCE);
            for (int i = 0; i < inputs.length; i++) {
                float[] grad = vars[i].grad().data(), wantGrad = arrays[i].getGradient().toFloatArray();
                double g = worst.note(name + " grad", Parity.relErr(grad, wantGrad));
                int input = i;
                assertThat(g).as(() -> name + " gradient of input " + input + " (" + Parity.worstEntry(grad, wantGrad) + ")")
                        .isLessThan(Parity.TOLERANCE);
            }
        }
    }

    private static long[] toLong(int[] d) {
        long[] l = new long[d.length];
        for (int i = 0; i < d.length; i++) l[i] = d[i];
        return l;
    }
}
