package dev.ltm.bench;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.TokenBatch;
import dev.ltm.tensor.Rng;

/**
 * A seeded model and batch of random tokens for timing: full causal attention (window 0),
 * maxSeqLen = the sequence length N, one K/V head per query head.
 */
public record LtmFixture(LtmConfig config, LatentThoughtModel model, TokenBatch batch) {

    /** The sizes a benchmark varies: vocabulary V, width H, layers L, heads, N_z, N, batch B. */
    public record Size(int vocab, int width, int layers, int heads, int latents, int seqLen, int batch) {
        /** The model config of these sizes: full causal attention, maxSeqLen = N. */
        public LtmConfig config() {
            return LtmConfig.builder().vocabSize(vocab).width(width).layers(layers).heads(heads)
                    .latentCount(latents).maxSeqLen(seqLen).build();
        }

        @Override public String toString() {
            return "V=" + vocab + " H=" + width + " L=" + layers + " heads=" + heads + " N_z=" + latents + " N=" + seqLen + " B=" + batch;
        }
    }

    /** Builds the model (spec init) and B sequences of N+1 uniform random tokens, all from {@code seed}. */
    public static LtmFixture of(Size s, long seed) {
        LtmConfig config = s.config();
        Rng rng = new Rng(seed);
        LatentThoughtModel model = new LatentThoughtModel(config, rng);
        int[][] seqs = new int[s.batch()][s.seqLen() + 1];
        for (int[] row : seqs) for (int t = 0; t < row.length; t++) row[t] = rng.nextInt(s.vocab());
        return new LtmFixture(config, model, TokenBatch.shifted(seqs));
    }
}
