package dev.ltm.optim;

import dev.ltm.model.Generator;
import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.Sampling;
import dev.ltm.model.TokenBatch;
import dev.ltm.model.tokenizer.Tokenizer;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;

/**
 * Generation from text (spec section 3). Conditioned: fit the posterior on the prompt
 * ({@code BOS, prompt...}, predicting prompt[1:] from prompt[:-1]) and decode the continuation
 * with z fixed to the posterior sample mu + eps * sigma (or mu). Unconditioned (no prompt):
 * z = zScale * N(0, I). Either way the groups outside {@code zLayers} can be zeroed (their prior mean).
 */
public final class Generation {
    /**
     * How to generate: at most {@code maxTokens} new tokens, drawn by {@code sampling}; z = mu instead
     * of a posterior sample when {@code zMean}; the scale of a prior draw; the kept layers ({@code "all"},
     * {@code "1-3"}, {@code "1,4"}); the seed; T_fast of the prompt's fit; whether EOS ends the text.
     */
    public record Options(int maxTokens, Sampling sampling, boolean zMean, double zScale, String zLayers, long seed, int tFast,
                          boolean stopAtEos) {
        /** Checks the ranges. */
        public Options {
            if (maxTokens < 0) throw new IllegalArgumentException("generate: max tokens " + maxTokens + " must be >= 0");
            if (!(zScale >= 0) || Double.isInfinite(zScale)) {
                throw new IllegalArgumentException("generate: z scale " + zScale + " must be finite and >= 0");
            }
            if (tFast < 0 || tFast > FastFitter.Settings.MAX_STEPS) {
                throw new IllegalArgumentException("generate: T_fast " + tFast + " is outside 0.." + FastFitter.Settings.MAX_STEPS
                        + " (the spec uses 16)");
            }
            if (sampling == null) throw new IllegalArgumentException("generate: sampling is missing");
            if (zLayers == null) zLayers = "all";
        }

        /** 100 tokens at temperature 1 with top-k 0 and top-p 1, posterior sample, zScale 1, all layers, seed 0, T_fast 16, stop at EOS. */
        public static Options defaults() { return new Options(100, new Sampling(1.0, 0, 1.0), false, 1.0, "all", 0, 16, true); }

        /** These options with another token budget. */
        public Options withMaxTokens(int n) { return new Options(n, sampling, zMean, zScale, zLayers, seed, tFast, stopAtEos); }

        /** These options with another sampling rule. */
        public Options withSampling(Sampling s) { return new Options(maxTokens, s, zMean, zScale, zLayers, seed, tFast, stopAtEos); }

        /** These options keeping only the thoughts of {@code layers} (1-based text such as "1-3"). */
        public Options withZLayers(String layers) { return new Options(maxTokens, sampling, zMean, zScale, layers, seed, tFast,
                stopAtEos); }

        /** These options with another seed. */
        public Options withSeed(long s) { return new Options(maxTokens, sampling, zMean, zScale, zLayers, s, tFast, stopAtEos); }
    }

    /**
     * What was generated: the continuation's text and tokens, the prompt's tokens (BOS first), whether
     * z came from a fit on the prompt, the prompt's NELBO per token at that fit (NaN when none), and the layers kept.
     */
    public record Result(String text, int[] tokens, int[] promptTokens, boolean conditioned, double promptNelboPerToken, LayerSet zLayers) {
        @Override public String toString() { return text; }
    }

    private final LatentThoughtModel model;
    private final Tokenizer tokenizer;
    private final FastFitter.Settings fast;

    /** Generation from {@code model} with {@code tokenizer}; prompts are fitted with {@code fast} (T_fast taken from the options). */
    public Generation(LatentThoughtModel model, Tokenizer tokenizer, FastFitter.Settings fast) {
        if (tokenizer.vocabSize() != model.config().vocabSize()) {
            throw new IllegalArgumentException("generate: tokenizer " + tokenizer.name() + " has " + tokenizer.vocabSize()
                    + " ids, the model's vocabulary is " + model.config().vocabSize());
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.fast = fast;
    }

    /** Continues {@code prompt} (null or empty: unconditioned, from BOS alone). */
    public Result generate(String prompt, Options o) {
        LtmConfig c = model.config();
        int[] text = prompt == null ? new int[0] : tokenizer.encode(prompt);
        int[] tokens = new int[text.length + 1];
        tokens[0] = tokenizer.bos();
        System.arraycopy(text, 0, tokens, 1, text.length);
        if (tokens.length >= c.maxSeqLen()) {
            throw new IllegalArgumentException("generate: the prompt is " + tokens.length + " tokens with BOS, the context holds "
                    + c.maxSeqLen() + ": give a prompt of at most " + (c.maxSeqLen() - 2) + " tokens");
        }
        LayerSet keep = LayerSet.parse(o.zLayers(), c.layers());
        Rng sample = new Rng(o.seed());
        boolean conditioned = tokens.length >= 2;
        double promptBound = Double.NaN;
        Tensor z = null;
        if (c.latentCount() > 0) {
            if (conditioned) {
                FastFitter.Result fit = new FastFitter(model, fast.withSteps(o.tFast()))
                        .fit(TokenBatch.shifted(new int[][] {tokens}), DualRateTrainer.fitRng(o.seed(), 0));
                z = o.zMean() ? fit.mu() : fit.z();
                promptBound = fit.elbo().nelboPerToken();
            } else {
                z = Tensor.randn(sample, 0, o.zScale(), 1, c.layers(), c.latentsPerLayer(), c.width()); // spec 3: zScale * N(0, I)
            }
            z = keep.keep(z);
        }
        int[] out = new Generator(model).generate(tokens, z, o.maxTokens(), o.sampling(), sample, o.stopAtEos() ? tokenizer.eos() : -1);
        return new Result(tokenizer.decode(out), out, tokens, conditioned && c.latentCount() > 0, promptBound, keep);
    }
}
