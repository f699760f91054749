package dev.ltm.optim;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.tokenizer.ByteTokenizer;
import dev.ltm.optim.data.Dataset;
import dev.ltm.tensor.Rng;
import java.util.List;

/** A tiny byte-level model and a story dataset for the checkpoint, run, evaluation and probing tests. */
final class Tiny {
    private Tiny() {}

    /** V = 258 (bytes), H = 16, L = 3, 4 heads over 2 K/V heads, N_z = 6 (m = 2), context 23, window 11. */
    static final LtmConfig CONFIG = LtmConfig.builder().vocabSize(258).width(16).layers(3).heads(4).kvHeads(2).latentCount(6).maxSeqLen(23)
            .window(11).build();

    static final Checkpoint.DataSpec DATA = new Checkpoint.DataSpec("stories", 12, 5, 23, 0.25, "concatenated");

    static Checkpoint.Config config() { return new Checkpoint.Config(Checkpoint.FORMAT, CONFIG, "byte", DATA); }

    static Dataset dataset() { return TrainingData.dataset(DATA, new ByteTokenizer()); }

    static LatentThoughtModel model(long seed) { return new LatentThoughtModel(CONFIG, new Rng(seed)); }

    static DualRateTrainer.Settings settings(int total) {
        return DualRateTrainer.Settings.defaults(1, total, 9).withPeakLr(3e-3f).withFast(FastFitter.Settings.defaults().withSteps(3));
    }

    static List<String> texts(int n) { return Ltm.stories(n, 77); }
}
