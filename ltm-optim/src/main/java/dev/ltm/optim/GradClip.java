package dev.ltm.optim;

import dev.ltm.tensor.Tensor;

/** Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_. */
public final class GradClip {
    private GradClip() {}

    /**
     * Scales every gradient in place by maxNorm / (norm + 1e-6) when the global L2 norm over all
     * of them exceeds {@code maxNorm}; null entries are skipped. Returns the norm before clipping.
     */
    public static double clipGlobalNorm(Iterable<Tensor> grads, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("clipGlobalNorm: maxNorm " + maxNorm + " must be > 0");
        double sq = 0;
        for (Tensor g : grads) {
            if (g == null) continue;
            for (float x : g.data()) sq += (double) x * x;
        }
        double norm = Math.sqrt(sq);
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) {
            for (Tensor g : grads) {
                if (g == null) continue;
                float[] d = g.data();
                for (int i = 0; i < d.length; i++) d[i] = (float) (d[i] * coef);
            }
        }
        return norm;
    }
}
