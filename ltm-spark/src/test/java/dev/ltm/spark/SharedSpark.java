package dev.ltm.spark;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.tokenizer.ByteTokenizer;
import dev.ltm.optim.Checkpoint;
import dev.ltm.optim.TrainingData;
import dev.ltm.optim.data.Windows;
import dev.ltm.tensor.Rng;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.SparkSession;

/** The one Spark session of this module's tests (two threads, each task tried at most twice), and a tiny model. */
final class SharedSpark {
    private SharedSpark() {}

    private static SparkSession session;

    /** {@code local[2,2]}: local[2] whose failed tasks are retried once (what the fault tests need). */
    static synchronized SparkSession session() {
        if (session == null) session = LtmSpark.session("local[2,2]", "ltm-spark tests");
        return session;
    }

    /** V = 258 (bytes), H = 16, L = 2, 4 heads over 2 K/V heads, N_z = 4, context 24. */
    static final LtmConfig CONFIG = LtmConfig.builder().vocabSize(258).width(16).layers(2).heads(4).kvHeads(2).latentCount(4).maxSeqLen(24)
            .build();

    /** A few stories packed in windows of 24 tokens. */
    static final Checkpoint.DataSpec DATA = new Checkpoint.DataSpec("stories", 12, 5, 24, 0, "concatenated");

    static Windows windows() { return TrainingData.windows(DATA, new ByteTokenizer()); }

    static LatentThoughtModel model(long seed) { return new LatentThoughtModel(CONFIG, new Rng(seed)); }

    static Checkpoint checkpoint(long seed) {
        return new Checkpoint(new Checkpoint.Config(Checkpoint.FORMAT, CONFIG, "byte", DATA), model(seed), null, null);
    }

    /** A hook that fails the first attempt of partition 0's task (and only that), to exercise Spark's retry. */
    static TaskHook failFirstAttempt() {
        return () -> {
            TaskContext t = TaskContext.get();
            if (t != null && t.partitionId() == 0 && t.attemptNumber() == 0) {
                throw new IllegalStateException("test hook: failing the first attempt of partition 0 on purpose");
            }
        };
    }
}
