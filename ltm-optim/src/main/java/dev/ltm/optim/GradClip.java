package dev.ltm.optim;

import dev.ltm.tensor.Tensor;
import dev.ltm.tensor.UnaryOp;

/** Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_. */
public final class GradClip {
    private GradClip() {}

    /**
     * Scales every gradient in place by maxNorm / (norm + 1e-6) when the global L2 norm over all
     * of them exceeds {@code maxNorm}; null entries are skipped. Returns the norm before clipping.
     * The squares are summed on the gradients' backend, so only the total comes to the host.
     */
    public static double clipGlobalNorm(Iterable<Tensor> grads, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("clipGlobalNorm: maxNorm " + maxNorm + " must be > 0");
        Tensor sq = null;
        for (Tensor g : grads) {
            if (g == null) continue;
            Tensor s = g.backend().sumAll(g.map(UnaryOp.SQUARE));
            sq = sq == null ? s : sq.add(s);
        }
        double norm = sq == null ? 0 : Math.sqrt(sq.item());
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) {
            // g += (coef - 1) g, in place on the gradient's backend
            for (Tensor g : grads) if (g != null) g.backend().addInPlace(g, g, (float) (coef - 1));
        }
        return norm;
    }
}
