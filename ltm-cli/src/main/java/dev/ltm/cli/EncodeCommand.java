package dev.ltm.cli;

import dev.ltm.optim.Checkpoint;
import dev.ltm.optim.data.Windows;
import dev.ltm.spark.SparkJobs;
import dev.ltm.tensor.CpuBackend;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ltm encode}: the posterior of every window of a corpus, fitted on Spark, written as Parquet (spec section 3). */
@Command(name = "encode", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Fit q(z|x) for every window of a corpus on Spark and write document, window, tokens, NELBO, KL, mu and logvar"
                + " as Parquet; the bound equals ltm eval's on the same data, T_fast and seed.")
final class EncodeCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "Checkpoint folder.")
    Path checkpoint;
    @Option(names = "--data",
            description = "A .txt/.md/.jsonl file or folder, or a folder of prepared shards;"
                    + " default: the validation split of the checkpoint's own training data.")
    String data;
    @Option(names = "--out", required = true,
            description = "Parquet output: a folder or a Hadoop URI (hdfs://, s3a://) Spark writes; must not exist.")
    String out;
    @Option(names = "--master",
            description = "Spark master: local[N], local[*], spark://HOST:PORT (default: spark-submit's, else local[*]).")
    String master;
    @Option(names = "--t-fast", defaultValue = "-1", description = "Fast steps per fit; default: the checkpoint's T_fast.")
    int tFast;
    @Option(names = "--batch", defaultValue = "8", description = "Windows per fit, as in ltm eval (default: ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of the fits, as in ltm eval (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--per-document",
            description = "One window per document (longer ones cut in several), instead of concatenated windows.")
    boolean perDocument;
    @Option(names = "--no-latents", description = "Leave mu and logvar out of the rows.")
    boolean noLatents;
    @Option(names = "--partitions", defaultValue = "0", description = "Spark tasks, 0 = four per core (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Override public Integer call() {
        if (batch < 1) throw new IllegalArgumentException("--batch " + batch + " must be >= 1");
        if (perDocument && data == null) throw new IllegalArgumentException("--per-document needs --data");
        Checkpoint c = Common.load(checkpoint, CpuBackend.INSTANCE);
        Windows windows = Common.windows(c, data, perDocument ? "per_document" : "concatenated");
        var fast = Common.fast(c).withSteps(Common.tFast(c, tFast));
        System.out.println(SparkJobs.encode(master, checkpoint, windows, fast, seed, batch, !noLatents, out, partitions, System.out));
        return 0;
    }
}
