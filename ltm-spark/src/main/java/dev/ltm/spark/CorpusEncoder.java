package dev.ltm.spark;

import dev.ltm.model.Elbo;
import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.TokenBatch;
import dev.ltm.model.io.Json;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.FastFitter;
import dev.ltm.optim.TrainingData;
import dev.ltm.optim.data.Batches;
import dev.ltm.optim.data.Windows;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Corpus posterior inference on Spark (spec section 3, as {@code ltm eval} does it): the windows are cut into
 * batches exactly as {@code ltm eval --data} cuts them, each batch is fitted for T_fast steps on an executor
 * with the generator of its own index ({@link DualRateTrainer#fitRng}), and every window becomes a Parquet row.
 * A batch is the unit of work and its fit depends on nothing else, so the rows do not depend on partitioning,
 * retries or the number of executors, and the bound equals {@code ltm eval}'s on the same windows.
 */
public final class CorpusEncoder {
    private CorpusEncoder() {}

    /** The Parquet schema: one row per window. {@code document} is -1 for a window spanning several documents. */
    public static final StructType SCHEMA = new StructType()
            .add("document", DataTypes.IntegerType, false)
            .add("window", DataTypes.IntegerType, false)
            .add("tokens", DataTypes.IntegerType, false)
            .add("nelbo", DataTypes.DoubleType, false)
            .add("kl", DataTypes.DoubleType, false)
            .add("mu", DataTypes.createArrayType(DataTypes.FloatType, false), true)
            .add("logvar", DataTypes.createArrayType(DataTypes.FloatType, false), true);

    /** What was written: windows, predicted tokens, NELBO summed over windows with tokens, and the bound per token. */
    public record Summary(long windows, long tokens, double nelbo) {
        /** Sum NELBO / sum N, as {@code ltm eval} reports it. */
        public double nelboPerToken() { return nelbo / tokens; }

        /** exp of the bound per token. */
        public double perplexityBound() { return Math.exp(nelboPerToken()); }

        /** {@code encode: W windows, NELBO/token X, PPL bound Y}. */
        @Override public String toString() {
            return String.format("encode: %d windows, NELBO/token %.6f, PPL bound %.4f", windows, nelboPerToken(), perplexityBound());
        }
    }

    /**
     * Encodes {@code windows} with the model of the checkpoint folder {@code checkpoint} (its model files are
     * broadcast once), {@code batch} windows per fit with {@code fast}, the fit of batch k seeded by
     * {@code fitRng(seed, k)}; writes Parquet to {@code out} (a path or a Hadoop URI that must not exist) with the posterior means and
     * log-variances when {@code latents}; returns the totals read back from the written file. The batches are
     * spread over {@code slices} tasks (0: four per core of the cluster); the rows do not depend on it.
     */
    public static Summary encode(SparkSession spark, Path checkpoint, Windows windows, FastFitter.Settings fast, long seed, int batch,
                                 boolean latents, String out, int slices, TaskHook hook) {
        if (batch < 1) throw new IllegalArgumentException("--batch " + batch + " must be >= 1");
        if (windows.size() == 0) throw new IllegalArgumentException("encode: the corpus holds no windows");
        // A local path is checked here, in one line; a URI (hdfs://, s3a://) by Spark, which refuses to overwrite too.
        if (!out.contains("://") && Files.exists(Path.of(out))) {
            throw new IllegalArgumentException("encode: " + out + " already exists (give another --out or remove it)");
        }
        List<Batches.Batch> batches = Batches.inOrder(windows, batch);
        List<Work> work = new ArrayList<>(batches.size());
        for (int k = 0; k < batches.size(); k++) {
            Batches.Batch b = batches.get(k);
            int[] docs = Arrays.stream(b.windows()).map(windows::document).toArray();
            work.add(new Work(k, b.tokens(), b.lengths(), b.windows(), docs));
        }
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<HashMap<String, byte[]>> model = sc.broadcast(ModelCache.checkpointBytes(checkpoint));
        try {
            int tasks = Math.min(work.size(), slices > 0 ? slices : Math.max(1, sc.defaultParallelism() * 4));
            FitSpec spec = new FitSpec(Json.toJson(fast), seed, latents);
            JavaRDD<Row> rows = sc.parallelize(work, tasks).flatMap(new EncodeBatch(model, spec, hook));
            spark.createDataFrame(rows, SCHEMA).write().parquet(out);
            Row totals = spark.read().parquet(out).agg(functions.count("*"),
                    functions.sum(functions.when(functions.col("tokens").gt(0), functions.col("tokens")).otherwise(0)),
                    functions.sum(functions.when(functions.col("tokens").gt(0), functions.col("nelbo")).otherwise(0.0))).first();
            long tokens = totals.getLong(1);
            if (tokens == 0) throw new IllegalArgumentException("encode: the windows hold no predicted tokens");
            return new Summary(totals.getLong(0), tokens, totals.getDouble(2));
        } finally {
            model.destroy();
        }
    }

    /** Batch {@code index}: its windows' tokens, real lengths, indices and documents. */
    record Work(int index, int[][] tokens, int[] lengths, int[] windows, int[] documents) implements Serializable {}

    /**
     * The fast-fit settings (as JSON, the form {@link SparkGradients} ships the trainer's settings in), the seed and
     * whether to keep the latents, in a form Spark can ship.
     */
    record FitSpec(String fastJson, long seed, boolean latents) implements Serializable {
        FastFitter.Settings settings() { return Json.fromJson(fastJson, FastFitter.Settings.class); }
    }

    /** On an executor: fits one batch and returns one row per window. */
    static final class EncodeBatch implements FlatMapFunction<Work, Row> {
        private final Broadcast<HashMap<String, byte[]>> model;
        private final FitSpec spec;
        private final TaskHook hook;

        EncodeBatch(Broadcast<HashMap<String, byte[]>> model, FitSpec spec, TaskHook hook) {
            this.model = model;
            this.spec = spec;
            this.hook = hook;
        }

        @Override public Iterator<Row> call(Work w) {
            hook.beforeTask();
            LatentThoughtModel m = ModelCache.checkpoint(model);
            TokenBatch batch = TrainingData.tokenBatch(new Batches.Batch(w.tokens(), w.lengths(), w.windows(), 0));
            FastFitter.Result fit = new FastFitter(m, spec.settings()).fit(batch, DualRateTrainer.fitRng(spec.seed(), w.index()));
            Elbo e = fit.elbo();
            boolean latents = spec.latents() && m.config().latentCount() > 0;
            float[] mu = latents ? fit.mu().toArray() : null, logvar = latents ? fit.logvar().toArray() : null;
            int per = latents ? mu.length / w.tokens().length : 0;
            List<Row> out = new ArrayList<>(w.tokens().length);
            for (int r = 0; r < w.tokens().length; r++) {
                out.add(RowFactory.create(w.documents()[r], w.windows()[r], e.tokens()[r], e.nelbo(r), e.kl()[r],
                        latents ? Arrays.copyOfRange(mu, r * per, (r + 1) * per) : null,
                        latents ? Arrays.copyOfRange(logvar, r * per, (r + 1) * per) : null));
            }
            return out.iterator();
        }
    }
}
