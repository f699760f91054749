package dev.ltm.autograd;

import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;

/**
 * A node of the autograd graph: a tensor value, and for nodes that require gradients, the op
 * that made it (its parents and backward rule) and the accumulated gradient. Leaves made by
 * {@link #param} collect gradients across backward passes until {@link #zeroGrad}.
 */
public final class Var {
    /** A backward rule: receives d(loss)/d(this node) and adds its parents' shares. */
    @FunctionalInterface
    interface Backward {
        void apply(Tensor gradOut);
    }

    private final Tensor value;
    private final boolean requiresGrad;
    final String op;
    final Var[] parents;
    final Backward backward;
    private Tensor grad;
    private boolean gradOwned;

    private Var(Tensor value, boolean requiresGrad, String op, Var[] parents, Backward backward) {
        this.value = value;
        this.requiresGrad = requiresGrad;
        this.op = op;
        this.parents = parents;
        this.backward = backward;
    }

    /** A leaf that requires gradients (a weight, or mu/logvar during a fast fit). */
    public static Var param(Tensor value) { return new Var(value, true, "param", new Var[0], null); }

    /** A leaf that never requires gradients. */
    public static Var constant(Tensor value) { return new Var(value, false, "const", new Var[0], null); }

    /**
     * The result of an op: requires gradients if any parent does and recording is on; the
     * backward rule is kept only then.
     */
    static Var op(String op, Tensor value, Backward backward, Var... parents) {
        boolean needs = false;
        if (NoGrad.recording()) {
            for (Var p : parents) needs |= p.requiresGrad;
        }
        return needs ? new Var(value, true, op, parents, backward) : new Var(value, false, op, new Var[0], null);
    }

    /** The value. */
    public Tensor value() { return value; }

    /** Shape of the value. */
    public Shape shape() { return value.shape(); }

    /** Whether gradients flow to this node. */
    public boolean requiresGrad() { return requiresGrad; }

    /** The accumulated gradient, or null if none has reached this node. */
    public Tensor grad() { return grad; }

    /** Forgets the accumulated gradient. */
    public void zeroGrad() { grad = null; }

    /** Whether this node is a leaf (made by {@link #param} or {@link #constant}). */
    public boolean isLeaf() { return backward == null; }

    /**
     * Adds {@code g} to this node's gradient (no-op for nodes that need none). Leaves copy the first
     * gradient (users and optimizers may scale it in place); intermediate nodes keep a reference to
     * it and copy only when a second contribution arrives, so a single-consumer chain never copies.
     */
    void accumulate(Tensor g) {
        if (!requiresGrad) return;
        if (!g.shape().equals(value.shape())) {
            throw new IllegalStateException("gradient of " + op + ": shape " + g.shape() + " for a value of shape " + value.shape());
        }
        if (grad == null) {
            grad = isLeaf() ? g.copy() : g;
            gradOwned = isLeaf();
        } else if (!gradOwned) {
            grad = grad.add(g);
            gradOwned = true;
        } else {
            grad.backend().addInPlace(grad, g, 1f);
        }
    }

    /** Drops the gradient of an intermediate node once its backward rule has run. */
    void releaseIntermediateGrad() {
        if (!isLeaf()) grad = null;
    }

    @Override public String toString() { return "Var(" + op + ", " + value.shape() + (requiresGrad ? ", grad" : "") + ")"; }
}
