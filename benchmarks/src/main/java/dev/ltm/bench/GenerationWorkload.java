package dev.ltm.bench;

import dev.ltm.model.Sampling;
import dev.ltm.optim.FastFitter;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;

/**
 * The generation benchmark's work (spec section 3): one sequence, thoughts z fitted to it by a fast
 * fit of T_fast steps, then {@link #NEW_TOKENS} tokens sampled after a one-token prompt with the KV
 * cache. The model is the fixture's size with room for the prompt and the new tokens (maxSeqLen at
 * least 1 + NEW_TOKENS), so thought positions follow that maxSeqLen.
 */
record GenerationWorkload(LtmFixture fixture, int[] prompt, Tensor z, int newTokens) {
    /** Tokens sampled per generation. */
    static final int NEW_TOKENS = 256;
    /** Plain multinomial sampling at temperature 1 over the whole vocabulary. */
    static final Sampling SAMPLING = Sampling.temperature(1.0);

    /** The workload at {@code s}'s widths (batch and length replaced as above), z fitted with {@code tFast} steps. */
    static GenerationWorkload of(LtmFixture.Size s, int tFast, long seed) {
        int length = Math.max(s.seqLen(), 1 + NEW_TOKENS);
        LtmFixture fx = LtmFixture.of(new LtmFixture.Size(s.vocab(), s.width(), s.layers(), s.heads(), s.latents(), length, 1), seed);
        Tensor z = new FastFitter(fx.model(), FastFitter.Settings.defaults().withSteps(tFast)).fit(fx.batch(), new Rng(seed)).z();
        return new GenerationWorkload(fx, new int[] {fx.batch().inputs()[0][0]}, z, NEW_TOKENS);
    }
}
