package dev.ltm.model;

import dev.ltm.autograd.Var;
import dev.ltm.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The model's weights seen as autograd leaves, by name. {@link #trainable} makes each one a
 * parameter (the slow step), {@link #frozen} a constant (the fast fit: no weight gradient is ever
 * computed). Both wrap the model's own tensors, so an optimizer's in-place update is seen by all.
 */
public final class Params {
    private final LinkedHashMap<String, Var> vars;

    private Params(LinkedHashMap<String, Var> vars) { this.vars = vars; }

    /** Every weight of {@code model} as a leaf that requires gradients. */
    public static Params trainable(LatentThoughtModel model) {
        LinkedHashMap<String, Var> v = new LinkedHashMap<>();
        model.parameters().forEach((name, t) -> v.put(name, Var.param(t)));
        return new Params(v);
    }

    /** Every weight of {@code model} as a constant. */
    public static Params frozen(LatentThoughtModel model) {
        LinkedHashMap<String, Var> v = new LinkedHashMap<>();
        model.parameters().forEach((name, t) -> v.put(name, Var.constant(t)));
        return new Params(v);
    }

    /** Given leaves by name (gradient checks build their own). */
    public static Params of(Map<String, Var> vars) { return new Params(new LinkedHashMap<>(vars)); }

    /** The leaf named {@code name}. */
    public Var get(String name) {
        Var v = vars.get(name);
        if (v == null) throw new IllegalArgumentException("Params: no weight named '" + name + "'");
        return v;
    }

    /** All leaves, in the model's parameter order. */
    public LinkedHashMap<String, Var> vars() { return new LinkedHashMap<>(vars); }

    /** The accumulated gradient of each leaf by name (null where none arrived). */
    public LinkedHashMap<String, Tensor> grads() {
        LinkedHashMap<String, Tensor> g = new LinkedHashMap<>();
        vars.forEach((name, v) -> g.put(name, v.grad()));
        return g;
    }

    /** Forgets every leaf's gradient. */
    public void zeroGrad() { vars.values().forEach(Var::zeroGrad); }
}
