package dev.ltm.autograd;

import dev.ltm.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Reverse-mode differentiation over the graph recorded by the ops (define-by-run): orders the
 * nodes that lead to the loss and runs their backward rules from the loss back to the leaves.
 * Leaf gradients accumulate across calls; intermediate gradients are released as soon as used.
 */
public final class Tape {
    private Tape() {}

    /** Back-propagates from a one-element {@code loss} (seed gradient 1). */
    public static void backward(Var loss) {
        if (loss.value().size() != 1) {
            throw new IllegalArgumentException("backward: loss must have one element, got shape " + loss.shape());
        }
        backward(loss, loss.value().backend().full(loss.shape(), 1f));
    }

    /** Back-propagates {@code seed} = d(loss)/d(output) from {@code output}. */
    public static void backward(Var output, Tensor seed) {
        if (!output.requiresGrad()) {
            throw new IllegalArgumentException("backward: " + output + " does not require gradients (no parameter reaches it)");
        }
        List<Var> order = topologicalOrder(output);
        output.accumulate(seed);
        for (int i = order.size() - 1; i >= 0; i--) {
            Var node = order.get(i);
            if (node.isLeaf() || node.grad() == null) continue;
            node.backward.apply(node.grad());
            node.releaseIntermediateGrad();
        }
    }

    /** Nodes that require gradients, each after all of its parents (iterative DFS, no recursion limit). */
    static List<Var> topologicalOrder(Var root) {
        List<Var> order = new ArrayList<>();
        Set<Var> done = Collections.newSetFromMap(new IdentityHashMap<>());
        Set<Var> entered = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayList<Var> stack = new ArrayList<>();
        stack.add(root);
        while (!stack.isEmpty()) {
            Var v = stack.get(stack.size() - 1);
            if (done.contains(v)) {
                stack.remove(stack.size() - 1);
                continue;
            }
            if (entered.add(v)) {
                for (Var p : v.parents) if (p.requiresGrad() && !done.contains(p)) stack.add(p);
            } else {
                stack.remove(stack.size() - 1);
                done.add(v);
                order.add(v);
            }
        }
        return order;
    }
}
