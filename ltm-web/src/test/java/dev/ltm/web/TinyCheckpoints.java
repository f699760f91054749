package dev.ltm.web;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.tokenizer.ByteTokenizer;
import dev.ltm.optim.Checkpoint;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.FastFitter;
import dev.ltm.optim.TrainingData;
import dev.ltm.optim.TrainingRun;
import dev.ltm.tensor.Rng;
import java.nio.file.Path;

/**
 * A tiny LTM and its N_z = 0 baseline, trained for a few steps on the embedded stories (seconds),
 * saved as checkpoint folders and loaded back, as {@code ltm serve} loads the demo's.
 */
final class TinyCheckpoints {
    private TinyCheckpoints() {}

    /** 40 stories, a fifth held out, windows of 64 bytes (also the context). */
    static final Checkpoint.DataSpec DATA = new Checkpoint.DataSpec(TrainingData.STORIES, 40, 4, 64, 0.2, "concatenated");

    /** V = 258 (bytes), H = 16, L = 3, 2 heads, {@code latents} thoughts (one per layer for the LTM), context 64. */
    static LtmConfig config(int latents) {
        return LtmConfig.builder().vocabSize(258).width(16).layers(3).heads(2).latentCount(latents).maxSeqLen(64).build();
    }

    /** Trains a model with {@code latents} thoughts for 6 steps of 4 windows (T_fast 2), saves it to {@code dir} and loads it back. */
    static Checkpoint train(Path dir, int latents) {
        LtmConfig config = config(latents);
        DualRateTrainer.Settings settings = DualRateTrainer.Settings.defaults(1, 6, 4).withPeakLr(3e-3f)
                .withFast(FastFitter.Settings.defaults().withSteps(2));
        TrainingRun run = TrainingRun.start(new Checkpoint.Config(Checkpoint.FORMAT, config, "byte", DATA),
                new LatentThoughtModel(config, new Rng(4)), settings, TrainingData.dataset(DATA, new ByteTokenizer()), 4);
        run.run(new TrainingRun.Options(dir, 0, 0, 0), new TrainingRun.Listener() {});
        return Checkpoint.load(dir);
    }
}
