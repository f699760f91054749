package dev.ltm.cli;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.Sampling;
import dev.ltm.model.TokenBatch;
import dev.ltm.model.tokenizer.ByteTokenizer;
import dev.ltm.model.tokenizer.Tokenizer;
import dev.ltm.optim.Checkpoint;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.Evaluator;
import dev.ltm.optim.FastFitter;
import dev.ltm.optim.Generation;
import dev.ltm.optim.TrainingData;
import dev.ltm.optim.TrainingRun;
import dev.ltm.optim.data.Dataset;
import dev.ltm.optim.data.StoryCorpus;
import dev.ltm.tensor.Backend;
import dev.ltm.tensor.Rng;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ltm demo}: the main job. Trains a small LTM and the N_z = 0 baseline for the same steps
 * on the same batches of the embedded story corpus, then prints the bound against T_fast
 * (spec section 3), a few conditioned and unconditioned samples, and finally
 * {@code demo: LTM ppl-bound A vs baseline ppl B} on the same validation windows.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a small LTM and its N_z=0 baseline on the embedded story corpus, then compare them.")
final class DemoCommand implements Callable<Integer> {
    private static final int[] T_FAST_TABLE = {0, 1, 2, 4, 8, 16, 32, 64};
    /** The folders under {@code --out} where the demo saves its two models, for {@code ltm serve} to show. */
    static final String LTM_FOLDER = "demo-ltm", BASELINE_FOLDER = "demo-baseline";

    @Option(names = "--stories", defaultValue = "3000", description = "Stories to generate (default: ${DEFAULT-VALUE}).")
    int stories;
    @Option(names = "--steps", defaultValue = "600", description = "Slow steps for each model (default: ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--batch", defaultValue = "16", description = "Sequences per step (default: ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--seq-len", defaultValue = "128", description = "Bytes per window, the model's context (default: ${DEFAULT-VALUE}).")
    int seqLen;
    @Option(names = "--width", defaultValue = "64", description = "Model width H (default: ${DEFAULT-VALUE}).")
    int width;
    @Option(names = "--layers", defaultValue = "2", description = "Decoder layers L (default: ${DEFAULT-VALUE}).")
    int layers;
    @Option(names = "--latents", defaultValue = "2", description = "Thought vectors N_z of the LTM (default: ${DEFAULT-VALUE}).")
    int latents;
    @Option(names = "--window", defaultValue = "3",
            description = "Sliding attention window of both models: short, so that what lies beyond it must come from the thoughts "
                    + "(default: ${DEFAULT-VALUE}).")
    int window;
    @Option(names = "--t-fast", defaultValue = "16", description = "Fast steps per batch while training (default: ${DEFAULT-VALUE}).")
    int tFast;
    @Option(names = "--fast-lr", defaultValue = "0.3", description = "Peak fast learning rate (default: ${DEFAULT-VALUE}).")
    float fastLr;
    @Option(names = "--lr", defaultValue = "3e-3", description = "Peak slow learning rate (default: ${DEFAULT-VALUE}).")
    float lr;
    @Option(names = "--val-windows", defaultValue = "48", description = "Validation windows evaluated (default: ${DEFAULT-VALUE}).")
    int valWindows;
    @Option(names = "--seed", defaultValue = "1",
            description = "Seed of the corpus, weights, batches and fits (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--out", defaultValue = "checkpoints",
            description = "Folder of the two checkpoints (" + LTM_FOLDER + ", " + BASELINE_FOLDER + ") for ltm serve"
                    + " (default: ${DEFAULT-VALUE}).")
    Path out;
    @Mixin DeviceOption device;

    @Override public Integer call() {
        if (steps < 1 || batch < 1 || valWindows < 1 || stories < 10) {
            throw new IllegalArgumentException("demo: --steps, --batch and --val-windows must be >= 1 and --stories >= 10");
        }
        if (latents < 1) throw new IllegalArgumentException("demo: --latents " + latents + " must be >= 1 (the baseline is built with 0)");
        Backend backend = device.select();
        long started = System.nanoTime();
        Tokenizer tok = new ByteTokenizer();
        Checkpoint.DataSpec spec = new Checkpoint.DataSpec(TrainingData.STORIES, stories, seed, seqLen, 0.05, "concatenated");
        Dataset data = TrainingData.dataset(spec, tok);
        List<TokenBatch> validation = TrainingData.inOrder(data.validation(), batch, (valWindows + batch - 1) / batch);
        System.out.printf("demo: %d generated stories (hidden factors %s), byte tokenizer; "
                + "%d training / %d validation windows of %d bytes%n", stories, StoryCorpus.factorNames(), data.train().size(),
                validation.stream().mapToInt(TokenBatch::batchSize).sum(), seqLen);

        LatentThoughtModel ltm = train("LTM", spec, tok, data, latents, backend, out.resolve(LTM_FOLDER));
        LatentThoughtModel baseline = train("baseline", spec, tok, data, 0, backend, out.resolve(BASELINE_FOLDER));

        FastFitter.Settings fast = FastFitter.Settings.defaults().withLr(fastLr);
        List<Evaluator.Result> table = new Evaluator(ltm, fast, seed).sweep(validation, T_FAST_TABLE);
        Evaluator.Result base = new Evaluator(baseline, fast, seed).evaluate(validation, 0);
        System.out.printf("%nLTM (N_z=%d) on the validation windows: the bound tightens as T_fast grows%n", latents);
        System.out.printf("%6s | %11s | %9s%n", "T_fast", "NELBO/token", "PPL bound");
        for (Evaluator.Result r : table) System.out.printf("%6d | %11.4f | %9.3f%n", r.tFast(), r.nelboPerToken(), r.perplexityBound());
        System.out.printf("baseline (N_z=0): NLL/token %.4f, PPL %.3f%n", base.nelboPerToken(), base.perplexityBound());
        System.out.println("\nFull table (NLL and KL separately; the last column is the authors' per-sequence average):");
        System.out.print(Evaluator.table(table));

        samples(ltm, tok, fast);
        Evaluator.Result best = table.get(0);
        for (Evaluator.Result r : table) if (r.perplexityBound() < best.perplexityBound()) best = r;
        System.out.printf("%ncheckpoints: %s (LTM), %s (baseline); ltm serve shows them%n",
                out.resolve(LTM_FOLDER), out.resolve(BASELINE_FOLDER));
        System.out.printf("demo took %s; LTM bound at T_fast=%d%n", Progress.clock((System.nanoTime() - started) / 1e9), best.tFast());
        System.out.printf("demo: LTM ppl-bound %.3f vs baseline ppl %.3f%n", best.perplexityBound(), base.perplexityBound());
        return 0;
    }

    /** Trains one model for {@code steps} slow steps on the shared batch order, with a progress line, and saves it to {@code dir}. */
    private LatentThoughtModel train(String label, Checkpoint.DataSpec spec, Tokenizer tok, Dataset data, int nz, Backend backend,
                                     Path dir) {
        LtmConfig config = LtmConfig.builder().vocabSize(tok.vocabSize()).width(width).layers(layers).heads(4).latentCount(nz)
                .maxSeqLen(seqLen).window(window).build();
        DualRateTrainer.Settings settings = Common.trainerSettings(steps / 10, steps, seed, lr, tFast, fastLr);
        LatentThoughtModel model = new LatentThoughtModel(config, new Rng(seed)).to(backend);
        System.out.printf("%s: %s, N_z=%d, %,d parameters, %d steps of %d windows, T_fast=%d%n", label,
                TrainCommand.describe(config), nz, model.parameterCount(), steps, batch, nz == 0 ? 0 : tFast);
        Checkpoint.Config checkpointConfig = new Checkpoint.Config(Checkpoint.FORMAT, config, tok.name(), spec);
        TrainingRun run = TrainingRun.start(checkpointConfig, model, settings, data, batch);
        TrainingRun.Summary summary;
        try (Progress progress = new Progress(label, 0, steps)) {
            summary = run.run(TrainingRun.Options.none(), new TrainingRun.Listener() {
                @Override public void onStep(DualRateTrainer.Step s) {
                    String line = String.format("loss %.3f NELBO/token %.3f KL %.1f", s.loss(), s.nelboPerToken(), s.klPerSequence());
                    progress.update(s.step() + 1, line);
                }
            });
        }
        System.out.printf("%s: final loss %.4f, %.0f tokens/s%n", label, summary.last().loss(), summary.tokensPerSecond());
        run.checkpoint().save(dir);
        return run.trainer().model();
    }

    /** Two samples conditioned on the opening of unseen stories, two from the prior. */
    private void samples(LatentThoughtModel ltm, Tokenizer tok, FastFitter.Settings fast) {
        List<StoryCorpus.Story> fresh = StoryCorpus.generate(seed + 1000, 2);
        Generation gen = new Generation(ltm, tok, fast);
        Generation.Options o = Generation.Options.defaults().withMaxTokens(seqLen - 40).withSampling(new Sampling(0.8, 0, 0.95));
        System.out.println("\nConditioned samples (posterior fitted on the prompt, z = mu + eps * sigma):");
        for (int i = 0; i < fresh.size(); i++) {
            String prompt = fresh.get(i).text().substring(0, 36);
            String sample = oneLine(gen.generate(prompt, o.withSeed(seed + i)).text());
            System.out.printf("  [%s] %s|%s%n", fresh.get(i).factorValue("hero"), prompt, sample);
        }
        System.out.println("Unconditioned samples (z ~ N(0, I)):");
        for (int i = 0; i < 2; i++) System.out.printf("  %s%n", oneLine(gen.generate(null, o.withSeed(seed + 10 + i)).text()));
    }

    private static String oneLine(String s) { return s.replace('\n', ' '); }
}
