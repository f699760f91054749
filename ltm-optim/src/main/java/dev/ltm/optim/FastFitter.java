package dev.ltm.optim;

import dev.ltm.autograd.NoGrad;
import dev.ltm.autograd.Tape;
import dev.ltm.autograd.Var;
import dev.ltm.model.Elbo;
import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.Params;
import dev.ltm.model.Posterior;
import dev.ltm.model.TokenBatch;
import dev.ltm.tensor.CpuBackend;
import dev.ltm.tensor.Gemm;
import dev.ltm.tensor.Parallel;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import dev.ltm.tensor.TensorArena;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;

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
    /** Whether batches may be fitted as sub-batches at once ({@link #parts}). */
    private final boolean inParts;
    /**
     * Arenas of this fitter's last fit, kept for its next: its steps' tensors have the shapes the next fit's take, so
     * the next fit's first step allocates nothing large either. New arrays, which the JVM zeroes, cost a fit's first
     * step what recycling saves the others, and in a loop of fits each new array of 2 MiB or more started the G1
     * collector's concurrent marking (a humongous allocation with the heap's old part full of the last fit's arrays):
     * 237 young pauses and marking cycles in 30 s of fits at the grid's L = 4 point. The arrays held are those of one
     * step, which the next fit needs anyway; dropping the fitter frees them. A fit split into sub-batches
     * ({@link #parts}) keeps one arena per sub-batch; a fit that finds none spare opens one of its own.
     */
    private final ArrayBlockingQueue<TensorArena> spare = new ArrayBlockingQueue<>(Parallel.threads());

    /** A fitter for {@code model} (whose weights it reads, never changes). */
    public FastFitter(LatentThoughtModel model, Settings settings) {
        this(model, settings, true);
    }

    private FastFitter(LatentThoughtModel model, Settings settings, boolean inParts) {
        this.model = model;
        this.settings = settings;
        this.inParts = inParts;
    }

    /**
     * A fitter of the same model and settings that fits every batch whole, each op split over the threads: for timings
     * along a size axis, which would bend where the sub-batches start (or stop) taking the blocked kernels.
     */
    public FastFitter whole() { return new FastFitter(model, settings, false); }

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
        return fit(batch, q, null);
    }

    /**
     * As {@link #fit(TokenBatch, Posterior)}, each step's tensors made in a scope of the caller's {@code arena} (which serves
     * one thread at a time; null: the fitter's own), so that a loop of fits, or a fit and the slow pass after it, share
     * their storage. The result is made outside any scope of it.
     */
    public Result fit(TokenBatch batch, Posterior q, TensorArena arena) {
        if (q.batchSize() != batch.batchSize()) {
            throw new IllegalArgumentException("FastFitter: posterior of " + q.batchSize() + " sequences for a batch of "
                    + batch.batchSize());
        }
        int parts = parts(batch);
        if (parts > 1) return fitInParts(batch, q, arena, parts);
        TensorArena own = arena != null ? arena : takeArena();
        try {
            return fitWhole(batch, q, own);
        } finally {
            if (arena == null) giveBack(own);
        }
    }

    /**
     * Sub-fits run at once, one per thread, when every thread gets as many sequences (default on; {@code
     * -Dltm.fit.split=false} turns it off). Each sequence's posterior is fitted on its own (spec 2: the loss is a sum over
     * the batch, with no term that joins two sequences, and AdamW works element by element), so the batch's rows can be
     * fitted in parts. Run whole, every op of a fit (some 260 a step at the reference size) splits its rows over the
     * threads and waits for the slower one, and on these shared hosts a thread that stalls for a moment stalls both. In
     * parts, each thread runs its own sub-fit's ops by itself (the pool runs calls made inside a task inline), and the
     * threads meet once, at the end. Only on the plain CPU backend: a device serves one queue, and a timing backend
     * times one op at a time.
     */
    private static final boolean SPLIT = !"false".equals(System.getProperty("ltm.fit.split"));

    /**
     * How many sub-fits {@code batch} runs as: the pool's threads when they divide its size and a sub-fit computes each
     * sequence as the whole fit does, else 1 (whole). The latter holds when the sub-fit's products still take Gemm's
     * blocked kernels (the latents' rows by the attention widths, the tokens' rows by every width, each checked at its
     * narrowest), and attention's backward still has a (batch, kv head) pair per thread: then the split changes no bit of
     * the result. Tiny models, whose sub-batches would take other kernels, are fitted whole.
     */
    int parts(TokenBatch batch) {
        int b = batch.batchSize(), threads = Parallel.threads();
        if (!inParts || !SPLIT || threads < 2 || b % threads != 0 || model.backend() != CpuBackend.INSTANCE) return 1;
        LtmConfig c = model.config();
        int per = b / threads;
        int attention = Math.min(c.width(), c.kvHeads() * c.headDim());
        int any = Math.min(attention, Math.min(c.vocabSize(), c.ffnHidden()));
        boolean latents = c.latentCount() == 0 || Gemm.blockedPath(per * c.latentsPerLayer(), attention, attention);
        boolean tokens = Gemm.blockedPath(per * batch.length(), any, any);
        return latents && tokens && per * c.kvHeads() >= threads ? threads : 1;
    }

    /**
     * The fit as {@code parts} sub-fits of equal, consecutive runs of sequences, at once on the pool's threads, then joined
     * in order; q's leaves take the fitted values, as a whole fit leaves them. Sub-fit 0 runs on the calling thread, in
     * the caller's arena if it gave one.
     */
    Result fitInParts(TokenBatch batch, Posterior q, TensorArena callerArena, int parts) {
        int per = batch.batchSize() / parts;
        Result[] results = new Result[parts];
        Parallel.forChunks(parts, parts, (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                boolean callers = p == 0 && callerArena != null;
                TensorArena arena = callers ? callerArena : takeArena();
                try {
                    int from = p * per, to = from + per;
                    TokenBatch rows = DualRateTrainer.rows(batch, from, to);
                    results[p] = fitWhole(rows, DualRateTrainer.slice(model, q, from, to), arena);
                } finally {
                    if (!callers) giveBack(arena);
                }
            }
        });
        Tensor[] mu = new Tensor[parts], logvar = new Tensor[parts], z = new Tensor[parts];
        Elbo[] elbo = new Elbo[parts];
        for (int p = 0; p < parts; p++) {
            mu[p] = results[p].mu();
            logvar[p] = results[p].logvar();
            z[p] = results[p].z();
            elbo[p] = results[p].elbo();
        }
        q.mu().value().write(0, Tensor.concat(0, mu));
        q.logvar().value().write(0, Tensor.concat(0, logvar));
        return new Result(q.mu().value(), q.logvar().value(), q.eps(), Tensor.concat(0, z), joined(elbo));
    }

    /** The per-sequence figures of consecutive parts of a batch, as one. */
    private static Elbo joined(Elbo[] parts) {
        int n = 0;
        for (Elbo e : parts) n += e.nll().length;
        double[] nll = new double[n], kl = new double[n];
        int[] tokens = new int[n];
        int at = 0;
        for (Elbo e : parts) {
            int k = e.nll().length;
            System.arraycopy(e.nll(), 0, nll, at, k);
            System.arraycopy(e.kl(), 0, kl, at, k);
            System.arraycopy(e.tokens(), 0, tokens, at, k);
            at += k;
        }
        return new Elbo(nll, kl, tokens);
    }

    private TensorArena takeArena() {
        TensorArena a = spare.poll();
        return a != null ? a : TensorArena.open();
    }

    private void giveBack(TensorArena a) {
        if (!spare.offer(a)) a.close();
    }

    /** Spec 2, steps 2 and 3, for the whole of {@code batch} in this thread, each step's tensors in a scope of {@code arena}. */
    Result fitWhole(TokenBatch batch, Posterior q, TensorArena arena) {
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
