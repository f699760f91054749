package dev.ltm.optim;

import static dev.ltm.autograd.Ops.scale;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import dev.ltm.autograd.Tape;
import dev.ltm.autograd.Var;
import dev.ltm.model.Elbo;
import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.Params;
import dev.ltm.model.Posterior;
import dev.ltm.model.TokenBatch;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import dev.ltm.tensor.TensorArena;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The dual-rate algorithm (spec section 2): per batch, a fast fit of the posterior, then one slow
 * AdamW step on the decoder weights on the mean next-token NLL given z = mu + eps * sigma, held
 * fixed. A batch may be processed in micro-batches (spec section 5: 512 sequences per step as
 * micro-batches of 64), each with its own fast fit and backward pass; their weight gradients add up
 * to the whole batch's, so the step is the same and only one micro-batch's activations live at a
 * time. All randomness of step s comes from {@link #fitRng(long, int)}, so the trainer's whole
 * state is the weights, the optimizer moments and the step count.
 */
public final class DualRateTrainer {
    /**
     * The slow step's AdamW settings and schedule (peak lr, warm-up and total steps), the gradient
     * clipping norm, the fast fit's settings, the seed of every fit, and the sequences per micro-batch
     * (0: the whole batch at once; a trainer.json written before micro-batches has none and reads as 0).
     */
    public record Settings(float peakLr, int warmupSteps, int totalSteps, float beta1, float beta2, float eps,
                           float weightDecay, float clipNorm, FastFitter.Settings fast, long seed,
                           @JsonSetter(nulls = Nulls.AS_EMPTY) int microBatch) {
        /** Checks the schedule's ranges. */
        public Settings {
            if (microBatch < 0) {
                throw new IllegalArgumentException("DualRateTrainer.Settings: microBatch " + microBatch + " must be >= 0 (0: whole batch)");
            }
            if (totalSteps <= 0 || warmupSteps < 0) {
                throw new IllegalArgumentException("DualRateTrainer.Settings: warmup " + warmupSteps + ", total " + totalSteps
                        + ": expected warmup >= 0 and total > 0");
            }
            if (!(clipNorm > 0)) throw new IllegalArgumentException("DualRateTrainer.Settings: clipNorm " + clipNorm + " must be > 0");
        }

        /** The spec's values: peak lr 4e-4, betas (0.9, 0.95), eps 1e-8, weight decay 0.1, clip 1.0, default fast fit. */
        public static Settings defaults(int warmupSteps, int totalSteps, long seed) {
            return new Settings(4e-4f, warmupSteps, totalSteps, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f, FastFitter.Settings.defaults(), seed, 0);
        }

        /** These settings with another peak lr. */
        public Settings withPeakLr(float lr) {
            return new Settings(lr, warmupSteps, totalSteps, beta1, beta2, eps, weightDecay, clipNorm, fast, seed, microBatch);
        }

        /** These settings with other fast-fit settings. */
        public Settings withFast(FastFitter.Settings f) {
            return new Settings(peakLr, warmupSteps, totalSteps, beta1, beta2, eps, weightDecay, clipNorm, f, seed, microBatch);
        }

        /** These settings with {@code m} sequences per micro-batch (0: the whole batch); m must divide the batch size. */
        public Settings withMicroBatch(int m) {
            return new Settings(peakLr, warmupSteps, totalSteps, beta1, beta2, eps, weightDecay, clipNorm, fast, seed, m);
        }

        /** The micro-batch size for a batch of {@code batchSize} sequences, or a one-line error if it does not divide it. */
        public int microBatchFor(int batchSize) {
            int m = microBatch == 0 ? batchSize : microBatch;
            if (batchSize % m != 0) {
                throw new IllegalArgumentException("micro-batch " + m + " does not divide the batch of " + batchSize
                        + " sequences: expected a divisor of " + batchSize);
            }
            return m;
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
    /**
     * Where the steps' tensors are recycled: every micro-batch of every step builds the same ones (its fit's steps and
     * its slow pass), so after the first step none allocates anything large (see FastFitter's arena). It holds one
     * micro-batch's tensors for the trainer's life.
     */
    private final TensorArena arena = TensorArena.open();

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
     * What one micro-batch adds to its step's report: its share of the slow loss (its NLL sum over the
     * whole batch's token count), the fit's NELBO sum and KL sum. Shares of one step add up.
     */
    public record Share(double loss, double nelbo, double kl) {
        /** Nothing yet: the start of a sum. */
        public static final Share NONE = new Share(0, 0, 0);

        /** The sum of this share and {@code other}. */
        public Share plus(Share other) { return new Share(loss + other.loss, nelbo + other.nelbo, kl + other.kl); }
    }

    /**
     * Where a step's weight gradient is computed: {@link #IN_PROCESS} runs its micro-batches here, one
     * after another; a distributed source (ltm-spark) runs them elsewhere with {@link #microBatch} and leaves
     * their sum in the trainer's gradients ({@link #loadGradients}). Either way the driver then clips and steps.
     */
    public interface GradientSource {
        /**
         * Accumulates the whole of step {@code step}'s weight gradient on {@code batch} into {@code trainer}'s
         * gradients (zero on entry) and returns the micro-batches' summed share.
         */
        Share accumulate(DualRateTrainer trainer, TokenBatch batch, int step);
    }

    /** The micro-batches of a step one after another in this process, each accumulating into the trainer's gradients. */
    public static final GradientSource IN_PROCESS = (trainer, batch, step) -> {
        int b = batch.batchSize(), micro = trainer.settings.microBatchFor(b);
        long tokens = batch.tokenCount();
        // The whole batch's fresh start is drawn at once and sliced, so a sequence's mu, logvar and eps
        // do not depend on the micro-batch it lands in (and one micro-batch draws what the plain step drew).
        Posterior start = freshStart(trainer.model, trainer.settings, b, step);
        Share sum = Share.NONE;
        for (int from = 0; from < b; from += micro) {
            TokenBatch part = micro == b ? batch : rows(batch, from, from + micro);
            Posterior partStart = slice(trainer.model, start, from, from + micro);
            sum = sum.plus(microBatch(trainer.model, trainer.fitter, trainer.trainable, part, partStart, tokens, trainer.arena));
        }
        return sum;
    };

    private GradientSource gradients = IN_PROCESS;

    /** Computes each step's gradient with {@code source} from now on (the default is {@link #IN_PROCESS}). */
    public void useGradients(GradientSource source) { this.gradients = java.util.Objects.requireNonNull(source, "source"); }

    /**
     * One dual-rate step on {@code batch}: per micro-batch a fast fit and the backward pass of its share
     * of the slow loss, then one clip and one AdamW step with z fixed. A loss, fit bound or gradient norm
     * that is not finite throws {@link NonFiniteException} before the update, so the weights, the moments
     * and the step count stay as they were.
     */
    public Step step(TokenBatch batch) {
        int s = optimizer.stepCount();
        long tokens = batch.tokenCount();
        if (tokens == 0) throw new IllegalArgumentException("DualRateTrainer.step: the batch has no predicted tokens");
        int b = batch.batchSize();
        settings.microBatchFor(b); // refuses a micro-batch that does not divide b before any source computes
        optimizer.zeroGrad();
        Share share = gradients.accumulate(this, batch, s);
        double norm = GradClip.clipGlobalNorm(trainable.grads().values(), settings.clipNorm());
        checkFinite(s, share.loss(), norm, share.nelbo() / tokens);
        float lr = Schedules.warmupCosine(s, settings.warmupSteps(), settings.totalSteps(), settings.peakLr());
        optimizer.step(lr);
        optimizer.zeroGrad();
        return new Step(s, lr, share.loss(), norm, share.nelbo() / tokens, share.kl() / b, tokens);
    }

    /**
     * Spec 2 for one micro-batch {@code part} of a batch of {@code batchTokens} predicted tokens: the fast fit
     * of its posterior from {@code start}, then the backward pass of its share of the slow loss, accumulated into
     * the gradients of {@code into} (the trainable weights of {@code model}).
     */
    public static Share microBatch(LatentThoughtModel model, FastFitter fitter, Params into, TokenBatch part, Posterior start,
                                   long batchTokens) {
        try (TensorArena arena = TensorArena.open()) {
            return microBatch(model, fitter, into, part, start, batchTokens, arena);
        }
    }

    /**
     * As the other overload, every pass's tensors made in scopes of the caller's {@code arena} (which serves one thread at a
     * time): the slow pass builds the tensors of the fit's steps and more, and the micro-batches of a step build the same ones.
     */
    public static Share microBatch(LatentThoughtModel model, FastFitter fitter, Params into, TokenBatch part, Posterior start,
                                   long batchTokens, TensorArena arena) {
        boolean thoughts = model.config().latentCount() > 0;
        // Fast learning: the local posterior of this micro-batch (with N_z = 0 there is nothing to fit,
        // and the bound is the NLL, which the slow forward pass computes anyway).
        FastFitter.Result fit = thoughts ? fitter.fit(part, start, arena) : null;
        Var z = thoughts ? Var.constant(fit.z()) : null;
        // Slow learning: this micro-batch's NLL sum over the whole batch's token count, so the gradients
        // accumulated over the micro-batches are those of the batch's mean next-token NLL (spec 2).
        // Only this step's own gradient reaches the weights (the leaves keep copies, made outside the scope).
        try (TensorArena.Scope _ = arena.scope()) {
            Var partLoss = scale(Elbo.nllSum(model.logits(into, part.inputs(), z), part), 1f / batchTokens);
            Tape.backward(partLoss);
            double loss = partLoss.value().item();
            return new Share(loss, thoughts ? fit.elbo().totalNelbo() : loss * batchTokens, thoughts ? fit.elbo().totalKl() : 0);
        }
    }

    /**
     * Spec 2 for rows {@code [from, to)} of step {@code step}'s {@code batch}, wherever it runs: the rows' slice of
     * the step's fresh start (the same draw the in-process step makes), their fit, and their gradient into {@code into}.
     */
    public static Share microBatch(LatentThoughtModel model, Settings settings, Params into, TokenBatch batch, int step, int from, int to) {
        int b = batch.batchSize();
        Posterior start = slice(model, freshStart(model, settings, b, step), from, to);
        TokenBatch part = from == 0 && to == b ? batch : rows(batch, from, to);
        return microBatch(model, new FastFitter(model, settings.fast()), into, part, start, batch.tokenCount());
    }

    /**
     * Sets the trainer's gradients to {@code summed} (by weight name, a value for every trainable weight): the
     * gradient a distributed source summed elsewhere, which the step then clips and applies as its own.
     */
    public void loadGradients(Map<String, Tensor> summed) {
        trainable.zeroGrad();
        trainable.vars().forEach((name, v) -> {
            Tensor g = summed.get(name);
            if (g == null) throw new IllegalArgumentException("loadGradients: no gradient for weight '" + name + "'");
            Tape.backward(v, g.to(model.backend()));
        });
    }

    /** Step {@code step}'s fresh start of a whole batch of {@code b} sequences (spec 2, step 1). */
    private static Posterior freshStart(LatentThoughtModel model, Settings settings, int b, int step) {
        return Posterior.init(model.config(), b, fitRng(settings.seed(), step));
    }

    /** Rows {@code [from, to)} of a batch. */
    static TokenBatch rows(TokenBatch batch, int from, int to) {
        return new TokenBatch(Arrays.copyOfRange(batch.inputs(), from, to), Arrays.copyOfRange(batch.targets(), from, to));
    }

    /** Sequences {@code [from, to)} of a start, as new leaves on the model's backend (q's own when it is all of q). */
    static Posterior slice(LatentThoughtModel model, Posterior q, int from, int to) {
        boolean all = from == 0 && to == q.batchSize();
        Tensor mu = all ? q.mu().value() : q.mu().value().slice(0, from, to);
        Tensor logvar = all ? q.logvar().value() : q.logvar().value().slice(0, from, to);
        Tensor eps = all ? q.eps() : q.eps().slice(0, from, to);
        var backend = model.backend();
        return Posterior.of(Var.param(mu.to(backend)), Var.param(logvar.to(backend)), eps.to(backend));
    }

    private void checkFinite(int s, double loss, double norm, double nelbo) {
        if (Double.isFinite(loss) && Double.isFinite(norm) && Double.isFinite(nelbo)) return;
        optimizer.zeroGrad();
        throw new NonFiniteException(s,
                String.format("training: step %d of %d is not finite (loss %s, gradient norm %s, fit NELBO/token %s):"
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
