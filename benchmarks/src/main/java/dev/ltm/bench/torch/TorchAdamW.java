package dev.ltm.bench.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;

/**
 * AdamW as torch.optim.AdamW (decoupled weight decay, bias-corrected moments), written in NDArray
 * ops on leaves whose gradients PyTorch's autograd filled. Runs outside a gradient collector, so
 * the in-place updates record nothing.
 */
final class TorchAdamW {
    /** A leaf and its weight decay. */
    record Param(NDArray value, float weightDecay) {}

    private final List<Param> params;
    private final List<NDArray> m = new ArrayList<>(), v = new ArrayList<>();
    private final float beta1, beta2, eps;
    private int step;

    /** Moments start at 0; {@code persistent} keeps them out of the current NDScope (they live with the manager). */
    TorchAdamW(List<Param> params, float beta1, float beta2, float eps, NDManager manager, boolean persistent) {
        this.params = List.copyOf(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        for (Param p : this.params) {
            NDArray m0 = manager.zeros(p.value().getShape()), v0 = manager.zeros(p.value().getShape());
            m.add(persistent ? TorchLtm.keep(m0) : m0);
            v.add(persistent ? TorchLtm.keep(v0) : v0);
        }
    }

    /**
     * p -= lr * wd * p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
     * p -= lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps).
     */
    void step(float lr) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        // Outside any gradient collector, nothing here is recorded: DJL's Number overloads are safe (TorchEngine#scalar).
        for (int i = 0; i < params.size(); i++) {
            NDArray p = params.get(i).value(), g = p.getGradient();
            float wd = params.get(i).weightDecay();
            if (wd != 0) p.muli(1 - lr * wd);
            m.get(i).muli(beta1).addi(g.mul(1 - beta1));
            v.get(i).muli(beta2).addi(g.square().mul(1 - beta2));
            NDArray denom = v.get(i).div((float) bc2).sqrt().add(eps);
            p.subi(m.get(i).div(denom).mul((float) (lr / bc1)));
        }
    }

    /** Scales all gradients by maxNorm / (norm + 1e-6) when their global L2 norm exceeds maxNorm; returns the norm. */
    double clipGlobalNorm(double maxNorm) {
        NDArray sq = null;
        for (Param p : params) {
            NDArray s = p.value().getGradient().square().sum();
            sq = sq == null ? s : sq.add(s);
        }
        double norm = Math.sqrt(sq.getFloat());
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) for (Param p : params) p.value().getGradient().muli((float) coef);
        return norm;
    }

    /** Sets every leaf's gradient to zero. */
    void zeroGrad() { for (Param p : params) TorchLtm.zeroGrad(p.value()); }
}
