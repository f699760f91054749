package dev.ltm.optim;

import static dev.ltm.autograd.Ops.scale;

import dev.ltm.autograd.Tape;
import dev.ltm.autograd.Var;
import dev.ltm.model.Elbo;
import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.Params;
import dev.ltm.model.TokenBatch;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The dual-rate algorithm (spec section 2): per batch, a fast fit of the posterior, then one slow
 * AdamW step on the decoder weights on the mean next-token NLL given z = mu + eps * sigma, held
 * fixed. All randomness of step s comes from {@link #fitRng(long, int)}, so the trainer's whole
 * state is the weights, the optimizer moments and the step count.
 */
public final class DualRateTrainer {
    /**
     * The slow step's AdamW settings and schedule (peak lr, warm-up and total steps), the gradient
     * clipping norm, the fast fit's settings and the seed of every fit.
     */
    public record Settings(float peakLr, int warmupSteps, int totalSteps, float beta1, float beta2, float eps,
                           float weightDecay, float clipNorm, FastFitter.Settings fast, long seed) {
        /** Checks the schedule's ranges. */
        public Settings {
            if (totalSteps <= 0 || warmupSteps < 0) {
                throw new IllegalArgumentException("DualRateTrainer.Settings: warmup " + warmupSteps + ", total " + totalSteps
                        + ": expected warmup >= 0 and total > 0");
            }
            if (!(clipNorm > 0)) throw new IllegalArgumentException("DualRateTrainer.Settings: clipNorm " + clipNorm + " must be > 0");
        }

        /** The spec's values: peak lr 4e-4, betas (0.9, 0.95), eps 1e-8, weight decay 0.1, clip 1.0, default fast fit. */
        public static Settings defaults(int warmupSteps, int totalSteps, long seed) {
            return new Settings(4e-4f, warmupSteps, totalSteps, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f, FastFitter.Settings.defaults(), seed);
        }

        /** These settings with another peak lr. */
        public Settings withPeakLr(float lr) {
            return new Settings(lr, warmupSteps, totalSteps, beta1, beta2, eps, weightDecay, clipNorm, fast, seed);
        }

        /** These settings with other fast-fit settings. */
        public Settings withFast(FastFitter.Settings f) {
            return new Settings(peakLr, warmupSteps, totalSteps, beta1, beta2, eps, weightDecay, clipNorm, f, seed);
        }
    }

    /**
     * What one step did: its index and lr, the slow loss (mean NLL per token given z, before the
     * update), the gradient norm before clipping, the fit's NELBO per token and mean KL per
     * sequence, and the number of predicted tokens.
     */
    public record Step(int step, float lr, double loss, double gradNorm, double nelboPerToken, double klPerSequence, long tokens) {}

    private final LatentThoughtModel model;
    private final Settings settings;
    private final FastFitter fitter;
    private final Params trainable;
    private final AdamW optimizer;

    /** A trainer at step 0 over {@code model}'s weights (updated in place). */
    public DualRateTrainer(LatentThoughtModel model, Settings settings) {
        this.model = model;
        this.settings = settings;
        this.fitter = new FastFitter(model, settings.fast());
        this.trainable = Params.trainable(model);
        // Weight decay on every matrix, the tied embedding included; none on the RMSNorm gains.
        LinkedHashMap<String, Var> decay = new LinkedHashMap<>(), noDecay = new LinkedHashMap<>();
        trainable.vars().forEach((name, v) -> (v.shape().rank() >= 2 ? decay : noDecay).put(name, v));
        this.optimizer = new AdamW(List.of(
                new AdamW.Group(decay, settings.peakLr(), settings.beta1(), settings.beta2(), settings.eps(), settings.weightDecay()),
                new AdamW.Group(noDecay, settings.peakLr(), settings.beta1(), settings.beta2(), settings.eps(), 0f)));
    }

    /** The generator of step {@code step}'s fast fit, derived from (seed, step) alone. */
    public static Rng fitRng(long seed, int step) {
        return new Rng(seed ^ (0x9E3779B97F4A7C15L * (step + 1L)));
    }

    /**
     * One dual-rate step on {@code batch}: fast fit, then a slow AdamW step with z fixed. A loss, fit
     * bound or gradient norm that is not finite throws {@link NonFiniteException} before the update,
     * so the weights, the moments and the step count stay as they were.
     */
    public Step step(TokenBatch batch) {
        int s = optimizer.stepCount();
        long tokens = batch.tokenCount();
        if (tokens == 0) throw new IllegalArgumentException("DualRateTrainer.step: the batch has no predicted tokens");
        // Fast learning: the local posterior of this batch.
        FastFitter.Result fit = fitter.fit(batch, fitRng(settings.seed(), s));
        Var z = model.config().latentCount() == 0 ? null : Var.constant(fit.z());
        // Slow learning: mean next-token NLL given z; only this step's own gradient reaches the weights.
        optimizer.zeroGrad();
        Var loss = scale(Elbo.nllSum(model.logits(trainable, batch.inputs(), z), batch), 1f / tokens);
        Tape.backward(loss);
        double norm = GradClip.clipGlobalNorm(trainable.grads().values(), settings.clipNorm());
        checkFinite(s, loss.value().item(), norm, fit.elbo().nelboPerToken());
        float lr = Schedules.warmupCosine(s, settings.warmupSteps(), settings.totalSteps(), settings.peakLr());
        optimizer.step(lr);
        optimizer.zeroGrad();
        Elbo elbo = fit.elbo();
        return new Step(s, lr, loss.value().item(), norm, elbo.nelboPerToken(), elbo.totalKl() / batch.batchSize(), tokens);
    }

    private void checkFinite(int s, double loss, double norm, double nelbo) {
        if (Double.isFinite(loss) && Double.isFinite(norm) && Double.isFinite(nelbo)) return;
        optimizer.zeroGrad();
        throw new NonFiniteException(s, String.format("training: step %d of %d is not finite (loss %s, gradient norm %s, fit NELBO/token %s):"
                + " stopped before updating the weights (lower the learning rates, or skip such batches: train --skip-nonfinite)", s + 1,
                settings.totalSteps(), loss, norm, nelbo));
    }

    /** Steps taken so far. */
    public int stepCount() { return optimizer.stepCount(); }

    /** The settings. */
    public Settings settings() { return settings; }

    /** The model being trained. */
    public LatentThoughtModel model() { return model; }

    /** The slow optimizer (tests inspect its groups). */
    AdamW optimizer() { return optimizer; }

    /** The AdamW moments by name ({@code m.<param>}, {@code v.<param>}), for a checkpoint. */
    public LinkedHashMap<String, Tensor> optimizerState() { return optimizer.state(); }

    /** Resumes from a checkpoint: the step count and the moments (the weights are the model's). */
    public void restore(int stepCount, Map<String, Tensor> optimizerState) { optimizer.loadState(stepCount, optimizerState); }
}
