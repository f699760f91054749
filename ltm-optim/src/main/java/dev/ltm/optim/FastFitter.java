package dev.ltm.optim;

import dev.ltm.autograd.NoGrad;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Fast learning (spec section 2): fits the local posterior (mu, logvar) of a batch by T_fast AdamW
 * steps on sum over the batch of (token NLL sum + KL), with the decoder weights frozen (no weight
 * gradient is computed) and the z-independent prefix computed once.
 */
public final class FastFitter {
    /** T_fast, the peak fast lr, and AdamW's betas, eps and weight decay for mu and logvar. */
    public record Settings(int steps, float lr, float beta1, float beta2, float eps, float weightDecay) {
        /**
         * The most fast steps a fit may take. The spec uses 16 and the curves flatten long before this;
         * a larger value is a typo that would run for hours without a word.
         */
        public static final int MAX_STEPS = 10_000;

        /** Checks the ranges. */
        public Settings {
            if (steps < 0 || steps > MAX_STEPS) {
                throw new IllegalArgumentException("T_fast " + steps + " is outside 0.." + MAX_STEPS + " (the spec uses 16)");
            }
            if (!(lr >= 0)) throw new IllegalArgumentException("FastFitter.Settings: lr " + lr + " must be >= 0");
        }

        /** The spec's values: T_fast 16, fastLr 0.3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
        public static Settings defaults() { return new Settings(16, 0.3f, 0.9f, 0.999f, 1e-8f, 0.01f); }

        /** These settings with another T_fast. */
        public Settings withSteps(int tFast) { return new Settings(tFast, lr, beta1, beta2, eps, weightDecay); }

        /** These settings with another peak fast lr. */
        public Settings withLr(float fastLr) { return new Settings(steps, fastLr, beta1, beta2, eps, weightDecay); }
    }

    /**
     * A fit's outcome: the final mu, logvar, the fixed eps, z = mu + eps * sigma (each [B, L, m, H];
     * empty when N_z = 0), and the bound measured by one more forward pass at that point.
     */
    public record Result(Tensor mu, Tensor logvar, Tensor eps, Tensor z, Elbo elbo) {}

    private final LatentThoughtModel model;
    private final Settings settings;
    /**
     * The arena of this fitter's last fit, kept for its next: its steps' tensors have the shapes the next fit's take, so
     * the next fit's first step allocates nothing large either. New arrays, which the JVM zeroes, cost a fit's first
     * step what recycling saves the others, and in a loop of fits each new array of 2 MiB or more started the G1
     * collector's concurrent marking (a humongous allocation with the heap's old part full of the last fit's arrays):
     * 237 young pauses and marking cycles in 30 s of fits at the grid's L = 4 point. The arrays held are those of one
     * step, which the next fit needs anyway; dropping the fitter frees them. A fit running while another fit of the same
     * fitter holds the arena opens one of its own.
     */
    private final AtomicReference<TensorArena> spare = new AtomicReference<>();

    /** A fitter for {@code model} (whose weights it reads, never changes). */
    public FastFitter(LatentThoughtModel model, Settings settings) {
        this.model = model;
        this.settings = settings;
    }

    /** The settings. */
    public Settings settings() { return settings; }

    /** Fits from the spec's fresh start, drawn from {@code rng}. */
    public Result fit(TokenBatch batch, Rng rng) {
        return fit(batch, Posterior.init(model.config(), batch.batchSize(), rng, model.backend()));
    }

    /** Fits from persistent init: mu starts at {@code initialMu} [B, L, m, H]; logvar and eps from {@code rng}. */
    public Result fit(TokenBatch batch, Rng rng, Tensor initialMu) {
        return fit(batch, Posterior.persistent(model.config(), initialMu.to(model.backend()), rng));
    }

    /** Fits from the start {@code q} (whose leaves it updates): spec 2, step 1 happened in the caller; this runs steps 2 and 3. */
    public Result fit(TokenBatch batch, Posterior q) {
        TensorArena arena = spare.getAndSet(null);
        if (arena == null) arena = TensorArena.open();
        try {
            return fit(batch, q, arena);
        } finally {
            if (!spare.compareAndSet(null, arena)) arena.close();
        }
    }

    /**
     * As {@link #fit(TokenBatch, Posterior)}, each step's tensors made in a scope of the caller's {@code arena} (which serves
     * one thread at a time), so that a loop of fits, or a fit and the slow pass after it, share their storage. The result
     * is made outside any scope of it.
     */
    public Result fit(TokenBatch batch, Posterior q, TensorArena arena) {
        if (q.batchSize() != batch.batchSize()) {
            throw new IllegalArgumentException("FastFitter: posterior of " + q.batchSize() + " sequences for a batch of "
                    + batch.batchSize());
        }
        Params frozen = Params.frozen(model);
        LatentThoughtModel.Prefix prefix = model.prefix(frozen, batch.inputs());
        // With N_z = 0 there is nothing to fit: the bound is the plain NLL.
        int steps = model.config().latentCount() == 0 ? 0 : settings.steps();
        LinkedHashMap<String, Var> leaves = new LinkedHashMap<>();
        leaves.put("mu", q.mu());
        leaves.put("logvar", q.logvar());
        AdamW opt = new AdamW(List.of(new AdamW.Group(leaves, settings.lr(), settings.beta1(), settings.beta2(),
                settings.eps(), settings.weightDecay())));
        // Spec 2, step 2: T_fast AdamW steps on sum_batch (NLL + KL), eps fixed, lr on the fast cosine.
        for (int s = 0; s < steps; s++) {
            opt.zeroGrad();
            // The step's graph is dead once mu's and logvar's gradients are taken (the leaves keep copies):
            // its tensors' storage serves the next step's.
            try (TensorArena.Scope _ = arena.scope()) {
                Var loss = Elbo.negativeBound(model.logitsFromPrefix(prefix, frozen, q.z()), batch, q);
                Tape.backward(loss);
            }
            opt.step(Schedules.fastCosine(s, steps, settings.lr()));
        }
        opt.zeroGrad();
        // Spec 2, step 3: z = mu + eps * sigma at the final point, and one more forward pass for the bound.
        try (NoGrad _ = NoGrad.enter()) {
            Var z = q.z();
            Elbo elbo;
            try (TensorArena.Scope _ = arena.scope()) { // z is the result's; the pass's tensors are not
                Var logits = model.logitsFromPrefix(prefix, frozen, model.config().latentCount() == 0 ? null : z);
                elbo = Elbo.measure(logits, batch, q);
            }
            return new Result(q.mu().value(), q.logvar().value(), q.eps(), z.value(), elbo);
        }
    }
}
