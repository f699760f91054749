package dev.ltm.autograd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ltm.tensor.AttentionMask;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import dev.ltm.tensor.UnaryOp;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Every backward rule against central finite differences (float32, relative error < 1e-3). */
class GradientRulesTest {
    private static final double H = 1e-2, TOL = 1e-3;
    private final Rng rng = new Rng(2024);

    private Tensor rand(int... dims) { return Tensor.randn(rng, 0, 1, dims); }

    private void check(String name, Function<Var[], Var> f, Tensor... inputs) { check(name, H, f, inputs); }

    /** A larger step for scalar outputs whose float32 rounding (about 1e-7 of the total) dominates at h = 1e-2. */
    private void check(String name, double h, Function<Var[], Var> f, Tensor... inputs) {
        GradCheck.Result r = GradCheck.check(f, inputs, h, 200, 7);
        assertThat(r.maxRelativeError()).as("%s: worst at input %d index %d analytic %f numeric %f", name,
                r.input(), r.index(), r.analytic(), r.numeric()).isLessThan(TOL);
    }

    @Test
    void elementwiseRulesWithBroadcasting() {
        check("add", v -> Ops.add(v[0], v[1]), rand(3, 5), rand(5));
        check("sub", v -> Ops.sub(v[0], v[1]), rand(2, 1, 5), rand(3, 1));
        check("mul", v -> Ops.mul(v[0], v[1]), rand(2, 3, 5), rand(3, 1));
        check("div", v -> Ops.div(v[0], v[1]), rand(4, 3), rand(3).map(UnaryOp.ABS).affine(1, 1));
        check("affine", v -> Ops.affine(v[0], -1.5f, 2f), rand(7));
        check("exp", v -> Ops.exp(v[0]), rand(3, 4));
        check("log", v -> Ops.log(v[0]), rand(9).map(UnaryOp.ABS).affine(1, 0.5f));
        check("square", v -> Ops.square(v[0]), rand(6));
        check("silu", v -> Ops.silu(v[0]), rand(2, 9));
        check("swiglu", v -> Ops.swiglu(v[0], v[1]), rand(2, 9), rand(2, 9));
    }

    @Test
    void swigluNamesMismatchedShapes() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Ops.swiglu(Var.param(rand(2, 9)), Var.param(rand(9))))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("swiglu: shapes [2, 9] and [9] differ");
    }

    @Test
    void reductionRules() {
        check("sum", v -> Ops.sum(v[0]), rand(3, 4));
        check("mean", v -> Ops.mean(v[0]), rand(5));
    }

    @Test
    void matmulRulesInAllLayouts() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                Tensor a = ta ? rand(2, 5, 3) : rand(2, 3, 5);
                check("matmul batched " + ta + tb, v -> Ops.matmul(v[0], v[1], ta, tb), a, tb ? rand(2, 4, 5) : rand(2, 5, 4));
                check("matmul shared " + ta + tb, v -> Ops.matmul(v[0], v[1], ta, tb), a, tb ? rand(4, 5) : rand(5, 4));
            }
        }
        check("linear", v -> Ops.linear(v[0], v[1]), rand(2, 3, 7), rand(5, 7));
    }

    @Test
    void layoutRules() {
        check("reshape", v -> Ops.mul(Ops.reshape(v[0], 4, 3), v[1]), rand(2, 6), rand(3));
        check("permute", v -> Ops.permute(v[0], 2, 0, 1), rand(2, 3, 4));
        check("slice", v -> Ops.slice(v[0], 1, 1, 3), rand(2, 4, 3));
        check("concat", v -> Ops.concat(1, v[0], v[1]), rand(2, 3), rand(2, 5));
    }

    @Test
    void modelOpRules() {
        check("rmsNorm", v -> Ops.rmsNorm(v[0], v[1], 1e-5f), rand(4, 9), rand(9));
        int[] ids = {3, 0, 3, 5};
        check("embedding", v -> Ops.embedding(v[0], ids), rand(6, 4));
        check("rope", v -> Ops.rope(v[0], new int[] {0, 3, 7}, 10000f), rand(2, 3, 2, 4));
        int[] targets = {2, -1, 0, 4};
        float[] w = {1f, 1f, 0.5f, 2f};
        check("crossEntropy", 5e-2, v -> Ops.crossEntropy(v[0], targets, w), rand(4, 5));
    }

    @Test
    void attentionRules() {
        check("self window", v -> Ops.attention(v[0], v[1], v[2], AttentionMask.causal(3)), rand(2, 5, 2, 4), rand(2, 5, 2, 4),
                rand(2, 5, 2, 4));
        check("self full gqa", v -> Ops.attention(v[0], v[1], v[2], AttentionMask.causal(6)), rand(1, 6, 4, 3), rand(1, 6, 2, 3),
                rand(1, 6, 2, 3));
        check("cross", v -> Ops.attention(v[0], v[1], v[2], AttentionMask.none()), rand(2, 5, 2, 4), rand(2, 3, 1, 4), rand(2, 3, 1, 4));
    }

    @Test
    void onlyRequestedGradientsAreComputed() {
        Var x = Var.param(rand(3, 4)), w = Var.constant(rand(5, 4));
        Var loss = Ops.sum(Ops.linear(x, w));
        Tape.backward(loss);
        assertThat(x.grad()).isNotNull();
        assertThat(w.grad()).as("a constant weight gets no gradient").isNull();
        Var c = Ops.linear(Var.constant(rand(3, 4)), w);
        assertThat(c.requiresGrad()).isFalse();
        assertThatThrownBy(() -> Tape.backward(Ops.sum(c))).hasMessageContaining("does not require gradients");
    }

    @Test
    void gradientsAccumulateAcrossBackwardPasses() {
        Tensor xv = rand(4);
        Var x = Var.param(xv);
        Tape.backward(Ops.sum(Ops.square(x)));
        float[] once = x.grad().toArray();
        Tape.backward(Ops.sum(Ops.square(x)));
        for (int i = 0; i < 4; i++) assertThat(x.grad().data()[i]).isEqualTo(2 * once[i]);
        assertThat(once[1]).isEqualTo(2 * xv.data()[1]);
        x.zeroGrad();
        assertThat(x.grad()).isNull();
    }

    @Test
    void sharedSubexpressionsSumTheirGradients() {
        Var x = Var.param(Tensor.of(new float[] {3f}, 1));
        Var y = Ops.mul(x, x);
        Var z = Ops.add(y, Ops.mul(y, x));
        Tape.backward(Ops.sum(z));
        // z = x^2 + x^3: dz/dx = 2x + 3x^2 = 33 at x = 3
        assertThat(x.grad().item()).isEqualTo(33f);
    }

    @Test
    void noGradScopeRecordsNothing() {
        Var x = Var.param(rand(3));
        try (NoGrad _ = NoGrad.enter()) {
            Var y = Ops.exp(x);
            assertThat(y.requiresGrad()).isFalse();
            assertThat(NoGrad.recording()).isFalse();
        }
        assertThat(NoGrad.recording()).isTrue();
        assertThat(Ops.exp(x).requiresGrad()).isTrue();
    }

    @Test
    void badShapesNameTheOp() {
        assertThatThrownBy(() -> Ops.rmsNorm(Var.constant(rand(2, 3)), Var.constant(rand(4)), 1e-5f))
                .hasMessageContaining("rmsNorm").hasMessageContaining("[2, 3]").hasMessageContaining("[4]");
        assertThatThrownBy(() -> Ops.attention(Var.constant(rand(1, 4, 3, 2)), Var.constant(rand(1, 4, 2, 2)),
                Var.constant(rand(1, 4, 2, 2)),
                        AttentionMask.causal(2))).hasMessageContaining("attention").hasMessageContaining("[1, 4, 3, 2]");
        assertThatThrownBy(() -> Ops.crossEntropy(Var.constant(rand(2, 3)), new int[] {0, 3}, new float[] {1, 1}))
                .hasMessageContaining("crossEntropy").hasMessageContaining("target 3");
        assertThatThrownBy(() -> Tape.backward(Ops.exp(Var.param(rand(2))))).hasMessageContaining("one element");
    }
}
