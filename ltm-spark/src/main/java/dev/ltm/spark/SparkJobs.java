package dev.ltm.spark;

import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.FastFitter;
import dev.ltm.optim.data.Windows;
import java.io.PrintStream;
import java.nio.file.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * The commands' way in: each entry point starts and stops its own session, and no Spark type appears in a
 * signature, so a command class that calls these never links Spark unless it runs one (the other commands,
 * {@code prepare} under a 16 MB heap included, load no Spark class).
 */
public final class SparkJobs {
    private SparkJobs() {}

    /**
     * Starts a session on {@code master} and makes {@code trainer} compute each step's gradient on it with
     * {@code partitions} tasks (0: one per core); prints one line about the cluster; closing stops the session.
     */
    public static AutoCloseable distributeTraining(DualRateTrainer trainer, String master, int partitions, PrintStream log) {
        SparkSession spark = LtmSpark.session(master, "ltm train");
        trainer.useGradients(new SparkGradients(JavaSparkContext.fromSparkContext(spark.sparkContext()), partitions, TaskHook.NONE));
        log.printf("spark: %s, %d cores%n", spark.sparkContext().master(), spark.sparkContext().defaultParallelism());
        return spark::stop;
    }

    /** {@link CorpusEncoder#encode} in a session of its own on {@code master}; prints one line about the job before returning. */
    public static CorpusEncoder.Summary encode(String master, Path checkpoint, Windows windows, FastFitter.Settings fast, long seed,
                                               int batch, boolean latents, String out, int partitions, PrintStream log) {
        SparkSession spark = LtmSpark.session(master, "ltm encode");
        try {
            long t0 = System.nanoTime();
            CorpusEncoder.Summary s = CorpusEncoder.encode(spark, checkpoint, windows, fast, seed, batch, latents, out, partitions,
                    TaskHook.NONE);
            log.printf("spark: %s, %d cores; T_fast %d, %d predicted tokens, %.1f s; wrote %s%n", spark.sparkContext().master(),
                    spark.sparkContext().defaultParallelism(), fast.steps(), s.tokens(), (System.nanoTime() - t0) / 1e9, out);
            return s;
        } finally {
            spark.stop();
        }
    }
}
