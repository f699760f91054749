package dev.ltm.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.ltm.autograd.Ops;
import dev.ltm.autograd.Tape;
import dev.ltm.autograd.Var;
import dev.ltm.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdamWTest {

    private static Var withGrad(Var p, float... g) {
        p.zeroGrad();
        // A leaf's gradient is set through the tape: d(sum(p * g))/dp = g.
        Tape.backward(Ops.sum(Ops.mul(p, Var.constant(Tensor.of(g.clone(), g.length)))));
        return p;
    }

    @Test
    void matchesAHandComputedTwoStepReference() {
        Var p = Var.param(Tensor.of(new float[] {1f, -2f, 0.5f}, 3));
        AdamW opt = new AdamW(List.of(new AdamW.Group(Map.of("p", p), 0.1f, 0.9f, 0.999f, 1e-8f, 0.01f)));
        withGrad(p, 0.5f, -1f, 0f);
        opt.step();
        // Step 1: the bias-corrected update is lr * sign(g) (0 where g = 0), after decay by 1 - lr*wd.
        assertThat(p.value().data()).containsExactly(new float[] {0.899f, -1.898f, 0.4995f}, within(1e-6f));
        withGrad(p, 0.1f, 0.3f, -0.2f);
        opt.step();
        // Step 2, element 0 by hand: m = 0.9*0.05 + 0.1*0.1 = 0.055, v = 0.999*0.00025 + 0.001*0.01 = 0.00025975,
        // p = 0.899*0.999 - 0.1 * (0.055/0.19) / (sqrt(0.00025975/0.001999) + 1e-8) = 0.8177969.
        assertThat(p.value().data()[0]).isCloseTo(0.8177969f, within(2e-6f));
        double[] ref = reference(new double[] {1, -2, 0.5}, new double[][] {{0.5, -1, 0}, {0.1, 0.3, -0.2}}, 0.1, 0.9, 0.999, 1e-8, 0.01);
        for (int i = 0; i < 3; i++) assertThat((double) p.value().data()[i]).isCloseTo(ref[i], within(2e-6));
        assertThat(opt.stepCount()).isEqualTo(2);
    }

    /** torch.optim.AdamW's update in double precision. */
    private static double[] reference(double[] p, double[][] grads, double lr, double b1, double b2, double eps, double wd) {
        double[] m = new double[p.length], v = new double[p.length];
        for (int t = 1; t <= grads.length; t++) {
            for (int i = 0; i < p.length; i++) {
                double g = grads[t - 1][i];
                p[i] *= 1 - lr * wd;
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                p[i] -= lr * (m[i] / (1 - Math.pow(b1, t))) / (Math.sqrt(v[i] / (1 - Math.pow(b2, t))) + eps);
            }
        }
        return p;
    }

    @Test
    void groupsKeepTheirOwnSettingsAndParamsWithoutGradientsStayPut() {
        Var a = Var.param(Tensor.of(new float[] {1f}, 1)), b = Var.param(Tensor.of(new float[] {1f}, 1));
        Var untouched = Var.param(Tensor.of(new float[] {3f}, 1));
        LinkedHashMap<String, Var> first = new LinkedHashMap<>();
        first.put("a", a);
        first.put("u", untouched);
        AdamW opt = new AdamW(List.of(new AdamW.Group(first, 0.1f, 0.9f, 0.95f, 1e-8f, 0.5f),
                new AdamW.Group(Map.of("b", b), 0.2f, 0.9f, 0.95f, 1e-8f, 0f)));
        withGrad(a, 1f);
        withGrad(b, 1f);
        opt.step();
        assertThat(a.value().item()).isCloseTo(1f * (1 - 0.05f) - 0.1f, within(1e-6f));
        assertThat(b.value().item()).isCloseTo(1f - 0.2f, within(1e-6f));
        assertThat(untouched.value().item()).isEqualTo(3f);
        opt.step(0.01f); // a shared lr for every group
        assertThat(b.value().item()).isCloseTo(0.8f - 0.01f, within(1e-6f));
    }

    @Test
    void stateRoundTripsAndResumesExactly() {
        Var p = Var.param(Tensor.of(new float[] {1f, 2f}, 2));
        AdamW opt = new AdamW(List.of(new AdamW.Group(Map.of("w", p), 0.05f, 0.9f, 0.95f, 1e-8f, 0.1f)));
        withGrad(p, 0.3f, -0.7f);
        opt.step();
        assertThat(opt.state().keySet()).containsExactly("m.w", "v.w");
        LinkedHashMap<String, Tensor> saved = new LinkedHashMap<>();
        opt.state().forEach((k, t) -> saved.put(k, t.copy()));
        Var q = Var.param(p.value().copy());
        AdamW resumed = new AdamW(List.of(new AdamW.Group(Map.of("w", q), 0.05f, 0.9f, 0.95f, 1e-8f, 0.1f)));
        resumed.loadState(1, saved);
        withGrad(p, 0.2f, 0.1f);
        withGrad(q, 0.2f, 0.1f);
        opt.step();
        resumed.step();
        assertThat(q.value().data()).containsExactly(p.value().data());
        assertThatThrownBy(() -> resumed.loadState(1, Map.of("m.w", Tensor.zeros(2)))).hasMessageContaining("moment 'v.w' is missing");
        assertThatThrownBy(() -> new AdamW(List.of(new AdamW.Group(Map.of("w", p), 0.1f, 0.9f, 0.95f, 1e-8f, 0f),
                new AdamW.Group(Map.of("w", q), 0.1f, 0.9f, 0.95f, 1e-8f, 0f)))).hasMessageContaining("'w' is in two groups");
    }
}
