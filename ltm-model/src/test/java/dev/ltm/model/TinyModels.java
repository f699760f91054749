package dev.ltm.model;

import dev.ltm.tensor.Rng;

/** Small seeded configs and batches shared by the model tests. */
final class TinyModels {
    private TinyModels() {}

    /** V=50, H=16, L=2, 4 heads over 2 K/V heads, N_z=6 (m=3), maxSeqLen 17, window 5. */
    static LtmConfig config() { return LtmConfig.builder().vocabSize(50).width(16).layers(2).heads(4).kvHeads(2).latentCount(6)
            .maxSeqLen(17).window(5).build(); }

    /** Random tokens [b][t] in [0, vocab). */
    static int[][] tokens(Rng rng, int b, int t, int vocab) {
        int[][] x = new int[b][t];
        for (int[] row : x) for (int i = 0; i < t; i++) row[i] = rng.nextInt(vocab);
        return x;
    }

    /** A shifted batch of b random sequences of t+1 tokens. */
    static TokenBatch batch(Rng rng, int b, int t, int vocab) { return TokenBatch.shifted(tokens(rng, b, t + 1, vocab)); }
}
