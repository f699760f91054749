package dev.ltm.model;

import static dev.ltm.autograd.Ops.add;
import static dev.ltm.autograd.Ops.affine;
import static dev.ltm.autograd.Ops.exp;
import static dev.ltm.autograd.Ops.mul;
import static dev.ltm.autograd.Ops.scale;
import static dev.ltm.autograd.Ops.square;
import static dev.ltm.autograd.Ops.sub;
import static dev.ltm.autograd.Ops.sum;

import dev.ltm.autograd.Var;
import dev.ltm.tensor.Backend;
import dev.ltm.tensor.CpuBackend;
import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;
import dev.ltm.tensor.Rng;

/**
 * The local Gaussian posterior q(z|x) = N(mu, diag(exp(logvar))) of a batch (spec section 2):
 * {@code mu} and {@code logvar} are leaves requiring gradients, shaped like z [B, L, m, H]; the
 * reparametrisation noise {@code eps} is drawn once per fit and stays fixed.
 */
public final class Posterior {
    private final Var mu;
    private final Var logvar;
    private final Tensor eps;

    private Posterior(Var mu, Var logvar, Tensor eps) {
        if (!mu.shape().equals(logvar.shape()) || !mu.shape().equals(eps.shape()) || mu.shape().rank() != 4) {
            throw new IllegalArgumentException("Posterior: mu " + mu.shape() + ", logvar " + logvar.shape() + ", eps " + eps.shape()
                    + ": expected one shape [B, L, m, H]");
        }
        this.mu = mu;
        this.logvar = logvar;
        this.eps = eps;
    }

    /** The spec's start: mu = 0.01 N(0,1), logvar = -5 + 0.1 N(0,1), eps ~ N(0,1), drawn in that order from rng. */
    public static Posterior init(LtmConfig c, int batch, Rng rng) {
        return init(c, batch, rng, CpuBackend.INSTANCE);
    }

    /** {@link #init(LtmConfig, int, Rng)} with mu, logvar and eps on {@code backend} (the same draws). */
    public static Posterior init(LtmConfig c, int batch, Rng rng, Backend backend) {
        int[] dims = zDims(c, batch);
        Tensor mu = Tensor.randn(rng, 0, 0.01, dims).to(backend);
        return persistent(c, mu, rng);
    }

    /**
     * Persistent init: mu continues from {@code initialMu} (copied); logvar and eps are drawn fresh from
     * rng, on initialMu's backend.
     */
    public static Posterior persistent(LtmConfig c, Tensor initialMu, Rng rng) {
        int[] dims = zDims(c, initialMu.shape().dim(0));
        if (!initialMu.shape().equals(Shape.of(dims))) {
            throw new IllegalArgumentException("Posterior: initial mu " + initialMu.shape() + ", expected [B, L, m, H] = "
                    + Shape.of(dims));
        }
        Tensor logvar = Tensor.randn(rng, -5, 0.1, dims).to(initialMu.backend());
        Tensor eps = Tensor.randn(rng, 0, 1, dims).to(initialMu.backend());
        return new Posterior(Var.param(initialMu.copy()), Var.param(logvar), eps);
    }

    /** A posterior over given leaves (gradient checks pass their own). */
    public static Posterior of(Var mu, Var logvar, Tensor eps) { return new Posterior(mu, logvar, eps); }

    private static int[] zDims(LtmConfig c, int batch) {
        if (batch <= 0) throw new IllegalArgumentException("Posterior: batch " + batch + " must be > 0");
        return new int[] {batch, c.layers(), c.latentsPerLayer(), c.width()};
    }

    /** mu [B, L, m, H]. */
    public Var mu() { return mu; }

    /** logvar = log sigma^2 [B, L, m, H]. */
    public Var logvar() { return logvar; }

    /** The fixed noise eps [B, L, m, H]. */
    public Tensor eps() { return eps; }

    /** B, the number of sequences. */
    public int batchSize() { return mu.shape().dim(0); }

    /** z = mu + eps * exp(logvar / 2), the reparametrised sample (spec section 2). */
    public Var z() {
        return add(mu, mul(Var.constant(eps), exp(scale(logvar, 0.5f))));
    }

    /** KL(q || N(0, I)) = -1/2 sum(1 + logvar - mu^2 - exp(logvar)), summed over the batch. */
    public Var kl() {
        Var inner = sub(sub(affine(logvar, 1f, 1f), square(mu)), exp(logvar));
        return scale(sum(inner), -0.5f);
    }

    /** The KL of each sequence, accumulated in double (for reporting). */
    public double[] klPerSequence() {
        int b = batchSize(), per = mu.value().size() / b;
        float[] m = mu.value().read(), lv = logvar.value().read();
        double[] kl = new double[b];
        for (int i = 0; i < b; i++) {
            double s = 0;
            for (int j = i * per; j < (i + 1) * per; j++) s += 1 + lv[j] - (double) m[j] * m[j] - Math.exp(lv[j]);
            kl[i] = -0.5 * s;
        }
        return kl;
    }
}
