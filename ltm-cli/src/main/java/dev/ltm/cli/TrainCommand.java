package dev.ltm.cli;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.tokenizer.Tokenizer;
import dev.ltm.model.tokenizer.Tokenizers;
import dev.ltm.optim.Checkpoint;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.Evaluator;
import dev.ltm.optim.FastFitter;
import dev.ltm.optim.NonFiniteException;
import dev.ltm.optim.TrainingData;
import dev.ltm.optim.TrainingRun;
import dev.ltm.optim.data.Dataset;
import dev.ltm.tensor.Backend;
import dev.ltm.tensor.Rng;
import dev.ltm.spark.SparkJobs;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ltm train}: dual-rate training with checkpoints, resumable bit for bit. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a Latent Thought Model (dual-rate: fast posterior fit, slow weight step) and save checkpoints.")
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", defaultValue = "stories",
            description = "Corpus: 'stories' (embedded generator), a .txt/.md/.jsonl file or folder, or a folder of shards from ltm "
                    + "prepare (default: ${DEFAULT-VALUE}).")
    String data;
    @Option(names = "--stories", defaultValue = "2000", description = "Stories to generate for --data stories (default: ${DEFAULT-VALUE}).")
    int stories;
    @Option(names = "--val-fraction", defaultValue = "0.05",
            description = "Share of documents held out for validation (default: ${DEFAULT-VALUE}).")
    double valFraction;
    @Option(names = "--tokenizer", defaultValue = "byte", description = "byte or gpt2 (default: ${DEFAULT-VALUE}).")
    String tokenizer;
    @Option(names = "--seq-len", defaultValue = "128",
            description = "Tokens per training window, also the model's context (default: ${DEFAULT-VALUE}).")
    int seqLen;
    @Mixin ModelShapeOptions shape;
    @Option(names = "--kv-heads", defaultValue = "0", description = "Key/value heads, 0 = as many as --heads (default: ${DEFAULT-VALUE}).")
    int kvHeads;
    @Option(names = "--latents", defaultValue = "8",
            description = "Thought vectors N_z in all, a multiple of --layers; 0 = plain GPT baseline (default: ${DEFAULT-VALUE}).")
    int latents;
    @Option(names = "--window", defaultValue = "0", description = "Sliding attention window, 0 = full causal (default: ${DEFAULT-VALUE}).")
    int window;
    @Option(names = "--steps", defaultValue = "200", description = "Slow steps in all (default: ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--batch", defaultValue = "8", description = "Sequences per step (default: ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--micro-batch", defaultValue = "0",
            description = "Sequences per micro-batch, each with its own fast fit; must divide --batch; memory follows it"
                    + " (0 = --batch; default: ${DEFAULT-VALUE}).")
    int microBatch;
    @Option(names = "--t-fast", defaultValue = "16", description = "Fast steps T_fast per batch (default: ${DEFAULT-VALUE}).")
    int tFast;
    @Option(names = "--fast-lr", defaultValue = "0.3", description = "Peak fast learning rate (default: ${DEFAULT-VALUE}).")
    float fastLr;
    @Option(names = "--lr", defaultValue = "4e-4", description = "Peak slow learning rate (default: ${DEFAULT-VALUE}).")
    float lr;
    @Option(names = "--warmup", defaultValue = "-1", description = "Warm-up steps, -1 = a tenth of --steps (default: ${DEFAULT-VALUE}).")
    int warmup;
    @Option(names = "--seed", defaultValue = "0",
            description = "Seed of the weights, the corpus, the split, the batches and every fit (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--out", defaultValue = "checkpoints/ltm", description = "Checkpoint folder (default: ${DEFAULT-VALUE}).")
    Path out;
    @Option(names = "--resume", description = "Continue the run saved in --out (its own settings and data; the other options are ignored).")
    boolean resume;
    @Option(names = "--overwrite", description = "Replace a checkpoint already in --out by a fresh run.")
    boolean overwrite;
    @Option(names = "--checkpoint-every", defaultValue = "100",
            description = "Save every this many steps, 0 = only at the end (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;
    @Option(names = "--validate-every", defaultValue = "0",
            description = "Validate every this many steps, 0 = only at the end (default: ${DEFAULT-VALUE}).")
    int validateEvery;
    @Option(names = "--val-batches", defaultValue = "4",
            description = "Validation batches per validation, 0 = all (default: ${DEFAULT-VALUE}).")
    int valBatches;
    @Option(names = "--skip-nonfinite",
            description = "Skip a batch whose loss or gradient is NaN or infinite (counted in the log) instead of stopping.")
    boolean skipNonFinite;
    @Mixin DeviceOption device;
    // Data-parallel training on Spark (ltm-spark), kept in a block of its own at the end.
    @Option(names = "--master",
            description = "Compute each step's micro-batches on Spark: local[N], local[*] or spark://HOST:PORT (default: in this process).")
    String master;
    @Option(names = "--partitions", defaultValue = "0",
            description = "Spark tasks per step, 0 = the cluster's cores (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Override public Integer call() {
        Backend backend = device.select();
        TrainingRun run = resume ? resumed(backend) : fresh(backend);
        if (master == null) return train(run);
        try (AutoCloseable spark = SparkJobs.distributeTraining(run.trainer(), master, partitions, System.out)) {
            return train(run);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("train: stopping Spark failed: " + e.getMessage(), e);
        }
    }

    private int train(TrainingRun run) {
        DualRateTrainer.Settings s = run.trainer().settings();
        LtmConfig c = run.trainer().model().config();
        System.out.printf("model: %s, %,d parameters, N_z = %d, tokenizer %s; data: %d training / %d validation windows of %d tokens%n",
                describe(c), run.trainer().model().parameterCount(), c.latentCount(), run.checkpoint().config().tokenizer(),
                run.data().train().size(), run.data().validation().size(), run.data().seqLen());
        int total = s.totalSteps(), start = run.stepCount();
        TrainingRun.Summary summary;
        int[] skipped = {0};
        try (Progress progress = new Progress("train", start, total)) {
            long t0 = System.nanoTime();
            long[] tokens = {0};
            summary = run.run(new TrainingRun.Options(out, checkpointEvery, validateEvery, valBatches), new TrainingRun.Listener() {
                @Override public void onStep(DualRateTrainer.Step step) {
                    tokens[0] += step.tokens();
                    double perSecond = tokens[0] / Math.max(1e-9, (System.nanoTime() - t0) / 1e9);
                    progress.update(step.step() + 1, String.format("loss %.3f NELBO/token %.3f KL %.1f %.0f tok/s",
                            step.loss(), step.nelboPerToken(), step.klPerSequence(), perSecond));
                }

                @Override public void onValidation(int step, Evaluator.Result r) {
                    System.out.printf("step %d validation: %s%n", step, r);
                }

                @Override public boolean onNonFinite(NonFiniteException e) {
                    if (!skipNonFinite) return false;
                    skipped[0]++;
                    System.out.printf("step %d: skipped a batch (%d so far): %s%n", e.step() + 1, skipped[0], e.getMessage());
                    return true;
                }
            });
        }
        if (skipped[0] > 0) System.out.printf("skipped %d batches whose loss or gradient was not finite%n", skipped[0]);
        if (summary.last() != null) {
            DualRateTrainer.Step last = summary.last();
            System.out.printf("trained steps %d..%d: loss %.4f, NELBO/token %.4f, KL/seq %.3f, %.0f tokens/s%n",
                    start + 1, run.stepCount(), last.loss(), last.nelboPerToken(), last.klPerSequence(), summary.tokensPerSecond());
        }
        if (validateEvery == 0 && run.data().validation().size() > 0) {
            var val = TrainingData.inOrder(run.data().validation(), run.batchSize(), valBatches);
            System.out.println("validation: " + new Evaluator(run.trainer().model(), s.fast(), s.seed()).evaluate(val, s.fast().steps()));
        }
        System.out.println("checkpoint: " + out);
        return 0;
    }

    private TrainingRun fresh(Backend backend) {
        if (!overwrite && Checkpoint.exists(out)) {
            throw new IllegalArgumentException(out
                    + " already holds a checkpoint: pass --resume to continue it, --overwrite to replace it, or another --out");
        }
        Tokenizer tok = Tokenizers.byName(tokenizer);
        LtmConfig config = shape.builder(tok.vocabSize())
                .kvHeads(kvHeads == 0 ? shape.heads : kvHeads).latentCount(latents).maxSeqLen(seqLen).window(window).build();
        if (steps < 1) throw new IllegalArgumentException("--steps " + steps + " must be >= 1");
        if (batch < 1) throw new IllegalArgumentException("--batch " + batch + " must be >= 1");
        DualRateTrainer.Settings settings = Common.trainerSettings(warmup < 0 ? steps / 10 : warmup, steps, seed, lr, tFast, fastLr)
                .withMicroBatch(microBatch);
        settings.microBatchFor(batch);
        Checkpoint.DataSpec spec = new Checkpoint.DataSpec(data, stories, seed, seqLen, valFraction, "concatenated");
        Dataset dataset = TrainingData.dataset(spec, tok);
        Checkpoint.Config ckpt = new Checkpoint.Config(Checkpoint.FORMAT, config, tok.name(), spec);
        return TrainingRun.start(ckpt, new LatentThoughtModel(config, new Rng(seed)).to(backend), settings, dataset, batch);
    }

    private TrainingRun resumed(Backend backend) {
        if (!Checkpoint.exists(out)) throw new IllegalArgumentException("--resume: no checkpoint in " + out);
        Checkpoint c = Common.load(out, backend);
        if (c.config().data() == null || c.config().data().source().startsWith("memory:")) {
            throw new IllegalArgumentException("--resume: " + out + " was trained on texts given in memory; resume it through the library");
        }
        TrainingRun run = TrainingRun.resume(c, TrainingData.dataset(c.config().data(), c.tokenizer()));
        System.out.printf("resuming %s at step %d of %d%n", out, run.stepCount(), run.trainer().settings().totalSteps());
        return run;
    }

    static String describe(LtmConfig c) {
        return String.format("H=%d L=%d heads=%d/%d context=%d window=%d", c.width(), c.layers(), c.heads(), c.kvHeads(), c.maxSeqLen(),
                c.window());
    }
}
