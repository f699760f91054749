package dev.ltm.optim;

import dev.ltm.autograd.Var;
import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW with torch.optim.AdamW semantics (decoupled weight decay, bias-corrected moments) over
 * groups of named leaves, each group with its own settings. The moments are named tensors
 * ({@code m.<name>}, {@code v.<name>}) so that a checkpoint can save and restore them.
 */
public final class AdamW {
    /** One parameter group: its leaves by name and its lr, betas, eps and weight decay. */
    public record Group(Map<String, Var> params, float lr, float beta1, float beta2, float eps, float weightDecay) {
        /** Copies the map (keeping its order) and checks the settings. */
        public Group {
            params = new LinkedHashMap<>(params);
            if (!(lr >= 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps > 0) || !(weightDecay >= 0)) {
                throw new IllegalArgumentException("AdamW.Group: lr " + lr + ", betas (" + beta1 + ", " + beta2 + "), eps " + eps
                        + ", weightDecay " + weightDecay + ": expected lr >= 0, betas in [0, 1), eps > 0, weightDecay >= 0");
            }
        }
    }

    private final List<Group> groups;
    private final LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
    private final LinkedHashMap<String, Tensor> v = new LinkedHashMap<>();
    private int step;

    /** An optimizer over {@code groups}; parameter names must be unique across groups. Moments start at 0. */
    public AdamW(List<Group> groups) {
        this.groups = List.copyOf(groups);
        for (Group g : this.groups) {
            g.params().forEach((name, p) -> {
                if (m.containsKey(name)) throw new IllegalArgumentException("AdamW: parameter '" + name + "' is in two groups");
                m.put(name, p.value().backend().zeros(p.shape()));
                v.put(name, p.value().backend().zeros(p.shape()));
            });
        }
    }

    /** One step at each group's own lr. */
    public void step() { update(Float.NaN); }

    /** One step with every group at {@code lr} (a schedule shared by all groups). */
    public void step(float lr) {
        if (!(lr >= 0)) throw new IllegalArgumentException("AdamW.step: lr " + lr + " must be >= 0");
        update(lr);
    }

    private void update(float lrOverride) {
        step++;
        for (Group g : groups) {
            float lr = Float.isNaN(lrOverride) ? g.lr() : lrOverride;
            g.params().forEach((name, p) -> {
                // Like torch: a parameter that received no gradient is left alone (no decay either).
                if (p.grad() == null) return;
                Tensor value = p.value();
                value.backend().adamw(value, p.grad(), m.get(name), v.get(name), lr, g.beta1(), g.beta2(), g.eps(), g.weightDecay(), step);
            });
        }
    }

    /** Forgets the gradients of every parameter. */
    public void zeroGrad() { for (Group g : groups) g.params().values().forEach(Var::zeroGrad); }

    /** Steps taken so far (the t of the bias correction). */
    public int stepCount() { return step; }

    /** The groups. */
    public List<Group> groups() { return groups; }

    /** The moments by name: {@code m.<param>} and {@code v.<param>} (the optimizer's own tensors). */
    public LinkedHashMap<String, Tensor> state() {
        LinkedHashMap<String, Tensor> s = new LinkedHashMap<>();
        m.forEach((name, t) -> s.put("m." + name, t));
        v.forEach((name, t) -> s.put("v." + name, t));
        return s;
    }

    /** Restores the step count and copies the moments from {@code state} (as written by {@link #state}). */
    public void loadState(int stepCount, Map<String, Tensor> state) {
        if (stepCount < 0) throw new IllegalArgumentException("AdamW.loadState: step count " + stepCount + " must be >= 0");
        LinkedHashMap<String, Tensor> own = state();
        for (var e : own.entrySet()) {
            Tensor t = state.get(e.getKey());
            if (t == null) throw new IllegalArgumentException("AdamW.loadState: moment '" + e.getKey() + "' is missing");
            Shape want = e.getValue().shape();
            if (!t.shape().equals(want)) {
                throw new IllegalArgumentException("AdamW.loadState: moment '" + e.getKey() + "' has shape " + t.shape() + ", expected "
                        + want);
            }
        }
        for (String name : state.keySet()) {
            if (!own.containsKey(name)) throw new IllegalArgumentException("AdamW.loadState: unexpected moment '" + name + "'");
        }
        own.forEach((name, t) -> System.arraycopy(state.get(name).read(), 0, t.data(), 0, t.size()));
        step = stepCount;
    }
}
