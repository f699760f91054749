package dev.ltm.cli;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.TokenBatch;
import dev.ltm.model.io.AtomicFiles;
import dev.ltm.model.io.Json;
import dev.ltm.model.tokenizer.Tokenizer;
import dev.ltm.model.tokenizer.Tokenizers;
import dev.ltm.optim.Checkpoint;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.Evaluator;
import dev.ltm.optim.FastFitter;
import dev.ltm.optim.Flops;
import dev.ltm.optim.TrainingData;
import dev.ltm.optim.TrainingRun;
import dev.ltm.optim.data.Dataset;
import dev.ltm.tensor.Backend;
import dev.ltm.tensor.Rng;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ltm experiment}: does the LTM pay on this corpus? Trains the LTM and the N_z = 0 baseline
 * of the same shape on the same batches, the baseline once for as many steps and once for as many
 * training FLOPs ({@link Flops}), then reports the LTM's bound against T_fast on held-out windows
 * beside both baselines, as a JSON of every figure and a PNG plot. Each phase checkpoints into
 * the output folder, so a rerun with the same folder and options continues where it stopped.
 */
@Command(name = "experiment", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train an LTM and its N_z=0 baseline (at equal steps and at equal training FLOPs), report the bound vs T_fast, "
                + "write a JSON and a PNG plot.")
final class ExperimentCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "Corpus: 'stories' (embedded generator) or a .txt/.md/.jsonl file or folder.")
    String data;
    @Option(names = "--stories", defaultValue = "3000", description = "Stories to generate for --data stories (default: ${DEFAULT-VALUE}).")
    int stories;
    @Option(names = "--out", defaultValue = "experiments/ltm",
            description = "Output folder: checkpoints of each phase, the JSON and the PNG (default: ${DEFAULT-VALUE}).")
    Path out;
    @Option(names = "--tokenizer", defaultValue = "byte", description = "byte or gpt2 (default: ${DEFAULT-VALUE}).")
    String tokenizer;
    @Option(names = "--seq-len", defaultValue = "128",
            description = "Tokens per window N, the models' context (default: ${DEFAULT-VALUE}).")
    int seqLen;
    @Option(names = "--window", defaultValue = "-1",
            description = "Sliding attention window of both models, -1 = N/4 (the paper's 256 of 1024), 0 = full"
                    + " (default: ${DEFAULT-VALUE}).")
    int window;
    @Mixin ModelShapeOptions shape;
    @Option(names = "--latents", defaultValue = "4",
            description = "Thought vectors N_z of the LTM, a multiple of --layers (default: ${DEFAULT-VALUE}).")
    int latents;
    @Option(names = "--steps", defaultValue = "300",
            description = "Slow steps of the LTM and of the equal-steps baseline (default: ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--batch", defaultValue = "8", description = "Sequences per step (default: ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--micro-batch", defaultValue = "0",
            description = "Sequences per micro-batch, dividing --batch (0 = --batch; default: ${DEFAULT-VALUE}).")
    int microBatch;
    @Option(names = "--t-fast", defaultValue = "16",
            description = "Fast steps T_fast per batch while training the LTM (default: ${DEFAULT-VALUE}).")
    int tFast;
    @Option(names = "--t-fast-eval", defaultValue = "0,1,2,4,8,16,32,64",
            description = "T_fast values of the bound table (default: ${DEFAULT-VALUE}).")
    String tFastEval;
    @Option(names = "--fast-lr", defaultValue = "0.3", description = "Peak fast learning rate (default: ${DEFAULT-VALUE}).")
    float fastLr;
    @Option(names = "--lr", defaultValue = "3e-3", description = "Peak slow learning rate of every model (default: ${DEFAULT-VALUE}).")
    float lr;
    @Option(names = "--val-fraction", defaultValue = "0.05", description = "Share of documents held out (default: ${DEFAULT-VALUE}).")
    double valFraction;
    @Option(names = "--val-windows", defaultValue = "64", description = "Held-out windows evaluated (default: ${DEFAULT-VALUE}).")
    int valWindows;
    @Option(names = "--checkpoint-every", defaultValue = "100",
            description = "Save each phase every this many steps (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;
    @Option(names = "--seed", defaultValue = "1",
            description = "Seed of the weights, the split, the batches and the fits (default: ${DEFAULT-VALUE}).")
    long seed;
    @Mixin DeviceOption device;

    /** The options that define an experiment: a rerun into the same folder must give the same ones. */
    record Plan(String data, int stories, String tokenizer, int seqLen, int window, int width, int layers, int heads, int latents,
                int steps, int batch, int microBatch, int tFast, List<Integer> tFastEval, float fastLr, float lr, double valFraction,
                int valWindows, long seed) {}

    /** The sizes of the FLOP comparison (per sequence and in all), with the model in words. */
    record FlopFigures(String model, long ltmForwardPerSequence, long ltmFitPerSequence, long ltmSlowStepPerSequence,
                       long ltmStepPerSequence, long baselineStepPerSequence, double ltmToBaselineStepRatio,
                       long ltmTrainingFlops, long baselineEqualStepsFlops, long baselineEqualFlopsFlops) {}

    /** One baseline: how it was matched to the LTM, its steps, training tokens and FLOPs, its held-out NLL and perplexity. */
    record Baseline(String matched, int steps, long trainingTokens, long trainingFlops, double nllPerToken, double perplexity) {}

    /** Every figure of the experiment, as written to {@code experiment-results.json}. */
    record Results(Plan plan, Map<String, Object> model, Map<String, Object> data, FlopFigures flops, int ltmSteps,
                   long ltmTrainingTokens, List<Evaluator.Result> ltmBound, int bestTFast, double bestBound,
                   Baseline baselineEqualSteps, Baseline baselineEqualFlops, Baseline baselineEqualTokens, String equalTokensNote,
                   Map<String, Double> secondsThisRun) {}

    static final String FLOP_MODEL = "matmul FLOPs (2 per multiply-add) of every layer, windowed attention and the tied head; "
            + "LTM step = fit (prefix once + T_fast x (forward past the prefix + backward to z) + one forward) + slow forward + "
            + "backward to the weights; baseline step = forward + backward; see benchmarks/README.md";

    @Override public Integer call() {
        int[] tList = Common.intList("--t-fast-eval", tFastEval);
        if (steps < 1 || batch < 1 || valWindows < 1 || checkpointEvery < 0 || tFast < 0) {
            throw new IllegalArgumentException("experiment: --steps, --batch, --val-windows must be >= 1, --t-fast and --checkpoint-every"
                    + " >= 0");
        }
        if (latents < 1) {
            throw new IllegalArgumentException("experiment: --latents " + latents + " must be >= 1 (the baseline is built with 0)");
        }
        int w = window < 0 ? Math.max(1, seqLen / 4) : window;
        Tokenizer tok = Tokenizers.byName(tokenizer);
        LtmConfig ltmConfig = shape.builder(tok.vocabSize())
                .latentCount(latents).maxSeqLen(seqLen).window(w).build();
        LtmConfig baseConfig = ltmConfig.toBuilder().latentCount(0).build();
        DualRateTrainer.Settings.defaults(1, 1, seed).withMicroBatch(microBatch).microBatchFor(batch);
        List<Integer> tValues = new ArrayList<>();
        for (int t : tList) tValues.add(t);
        Plan plan = new Plan(data, stories, tok.name(), seqLen, w, shape.width, shape.layers, shape.heads, latents, steps, batch,
                microBatch, tFast, tValues, fastLr, lr, valFraction, valWindows, seed);

        Backend backend = device.select();
        long started = System.nanoTime();
        Checkpoint.DataSpec spec = new Checkpoint.DataSpec(data, stories, seed, seqLen, valFraction, "concatenated");
        Dataset dataset = TrainingData.dataset(spec, tok);
        if (dataset.validation().size() == 0) throw new IllegalArgumentException("experiment: no held-out windows (raise --val-fraction)");
        List<TokenBatch> validation = TrainingData.inOrder(dataset.validation(), batch, (valWindows + batch - 1) / batch);
        int valCount = validation.stream().mapToInt(TokenBatch::batchSize).sum();
        long valTokens = validation.stream().mapToLong(TokenBatch::tokenCount).sum();
        claimFolder(plan);

        Flops ltmFlops = new Flops(ltmConfig, seqLen), baseFlops = new Flops(baseConfig, seqLen);
        long ltmTotal = (long) steps * batch * ltmFlops.trainingStep(tFast);
        long baseStep = (long) batch * baseFlops.trainingStep(0);
        int flopSteps = (int) Math.max(steps, Math.round((double) ltmTotal / baseStep));
        long tokensPerStep = (long) batch * seqLen;
        System.out.printf("experiment: %s, %d training / %d held-out windows of %d tokens (%s); %s%n", data, dataset.train().size(),
                dataset.validation().size(), seqLen, tok.name(), TrainCommand.describe(ltmConfig));
        System.out.printf("FLOP model: LTM step %.3g, baseline step %.3g FLOPs per sequence (ratio %.2f):"
                + " the equal-FLOPs baseline trains %d steps%n",
                (double) ltmFlops.trainingStep(tFast), (double) baseFlops.trainingStep(0),
                (double) ltmFlops.trainingStep(tFast) / baseFlops.trainingStep(0), flopSteps);

        Map<String, Double> seconds = new LinkedHashMap<>();
        LatentThoughtModel ltm = phase("ltm", ltmConfig, steps, spec, tok, dataset, backend, seconds);
        LatentThoughtModel equalSteps = phase("baseline-steps", baseConfig, steps, spec, tok, dataset, backend, seconds);
        LatentThoughtModel equalFlops = phase("baseline-flops", baseConfig, flopSteps, spec, tok, dataset, backend, seconds);

        long t0 = System.nanoTime();
        FastFitter.Settings fast = FastFitter.Settings.defaults().withLr(fastLr);
        List<Evaluator.Result> table = new ArrayList<>();
        try (Progress progress = new Progress("evaluate LTM", 0, (long) tList.length * validation.size())) {
            Evaluator ev = new Evaluator(ltm, fast, seed);
            for (int i = 0; i < tList.length; i++) {
                int done = i * validation.size(), t = tList[i];
                table.add(ev.evaluate(validation, t, b -> progress.update(done + b + 1, "T_fast " + t)));
            }
        }
        Evaluator.Result baseSteps = new Evaluator(equalSteps, fast, seed).evaluate(validation, 0);
        Evaluator.Result baseFlopsResult = new Evaluator(equalFlops, fast, seed).evaluate(validation, 0);
        seconds.put("evaluation", (System.nanoTime() - t0) / 1e9);
        Evaluator.Result best = table.getFirst();
        for (Evaluator.Result r : table) if (r.perplexityBound() < best.perplexityBound()) best = r;

        System.out.printf("%nLTM (N_z=%d, trained with T_fast=%d) on %d held-out windows:%n", latents, tFast, valCount);
        System.out.print(Evaluator.table(table));
        Baseline bSteps = new Baseline("equal slow steps", steps, steps * tokensPerStep, (long) steps * baseStep,
                baseSteps.nllPerToken(), baseSteps.perplexityBound());
        Baseline bFlops = new Baseline("equal training FLOPs", flopSteps, flopSteps * tokensPerStep, (long) flopSteps * baseStep,
                baseFlopsResult.nllPerToken(), baseFlopsResult.perplexityBound());
        Baseline bTokens = new Baseline("equal training tokens", steps, steps * tokensPerStep, (long) steps * baseStep,
                baseSteps.nllPerToken(), baseSteps.perplexityBound());
        String tokensNote = "both models see batch x seqLen tokens per step, so equal training tokens is equal steps: (d) is (b)";
        System.out.printf("baseline (N_z=0), %d steps (equal steps, and equal tokens: %s): NLL/token %.4f, PPL %.3f%n",
                steps, "same batch and length", bSteps.nllPerToken(), bSteps.perplexity());
        System.out.printf("baseline (N_z=0), %d steps (equal training FLOPs, %.3g): NLL/token %.4f, PPL %.3f%n",
                flopSteps, (double) bFlops.trainingFlops(), bFlops.nllPerToken(), bFlops.perplexity());

        seconds.put("total", (System.nanoTime() - started) / 1e9);
        // CPU seconds of the whole process: on a shared machine, the fairer measure of what the run costs.
        seconds.put("processCpu", ProcessHandle.current().info().totalCpuDuration().map(d -> d.toMillis() / 1e3).orElse(Double.NaN));
        FlopFigures figures = new FlopFigures(FLOP_MODEL, ltmFlops.forward(), ltmFlops.fit(tFast), ltmFlops.slowStep(),
                ltmFlops.trainingStep(tFast), baseFlops.trainingStep(0), (double) ltmFlops.trainingStep(tFast) / baseFlops.trainingStep(0),
                ltmTotal, (long) steps * baseStep, (long) flopSteps * baseStep);
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("ltm", ltmConfig);
        model.put("ltmParameters", ltm.parameterCount());
        model.put("baselineParameters", equalSteps.parameterCount());
        Map<String, Object> dataInfo = new LinkedHashMap<>();
        dataInfo.put("source", data);
        dataInfo.put("trainingWindows", dataset.train().size());
        dataInfo.put("heldOutWindows", dataset.validation().size());
        dataInfo.put("evaluatedWindows", valCount);
        dataInfo.put("evaluatedTokens", valTokens);
        Results results = new Results(plan, model, dataInfo, figures, steps, steps * tokensPerStep, table, best.tFast(),
                best.perplexityBound(), bSteps, bFlops, bTokens, tokensNote, seconds);
        Path json = out.resolve("experiment-results.json"), png = out.resolve("bound-vs-tfast.png");
        Json.write(json, results);
        AtomicFiles.writeBytes(png, plot(results));
        System.out.println("results: " + json);
        System.out.println("plot: " + png);
        System.out.printf("experiment took %s (process CPU time %s)%n", Progress.clock(seconds.get("total")),
                Progress.clock(seconds.get("processCpu")));
        System.out.printf("experiment: LTM bound %.3f at T_fast=%d; baseline ppl %.3f at equal steps, %.3f at equal FLOPs%n",
                best.perplexityBound(), best.tFast(), bSteps.perplexity(), bFlops.perplexity());
        return 0;
    }

    /** Records the plan in the folder, or checks that the folder's plan is this one (a rerun resumes). */
    private void claimFolder(Plan plan) {
        Path file = out.resolve("experiment.json");
        if (Files.exists(file)) {
            Plan there = Json.read(file, Plan.class);
            if (!there.equals(plan)) {
                throw new IllegalArgumentException(out + " holds an experiment with other options (" + file
                        + "): rerun with the same options to resume it, or pass another --out");
            }
            System.out.println("experiment: resuming the run in " + out);
            return;
        }
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + out + ": " + e.getMessage(), e);
        }
        Json.write(file, plan);
    }

    /** Trains one model in folder {@code out/name} up to {@code total} steps, continuing the checkpoint there if any. */
    private LatentThoughtModel phase(String name, LtmConfig config, int total, Checkpoint.DataSpec spec, Tokenizer tok, Dataset dataset,
                                     Backend backend, Map<String, Double> seconds) {
        Path dir = out.resolve(name);
        Checkpoint.Config ck = new Checkpoint.Config(Checkpoint.FORMAT, config, tok.name(), spec);
        DualRateTrainer.Settings settings = DualRateTrainer.Settings.defaults(total / 10, total, seed).withPeakLr(lr)
                .withFast(FastFitter.Settings.defaults().withSteps(config.latentCount() == 0 ? 0 : tFast).withLr(fastLr))
                .withMicroBatch(microBatch);
        TrainingRun run;
        if (Checkpoint.exists(dir)) {
            Checkpoint c = Common.load(dir, backend);
            boolean same = c.config().equals(ck) && c.trainer() != null && c.trainer().settings().equals(settings)
                    && c.trainer().batchSize() == batch;
            if (!same) {
                throw new IllegalArgumentException(dir + " holds a run with other settings: pass another --out");
            }
            run = TrainingRun.resume(c, dataset);
        } else {
            run = TrainingRun.start(ck, new LatentThoughtModel(config, new Rng(seed)).to(backend), settings, dataset, batch);
        }
        System.out.printf("%s: N_z=%d, %,d parameters, %d steps of %d windows%s%n", name, config.latentCount(),
                run.trainer().model().parameterCount(), total, batch,
                run.stepCount() > 0 ? " (resuming at step " + run.stepCount() + ")" : "");
        if (run.stepCount() < total) {
            long t0 = System.nanoTime();
            try (Progress progress = new Progress(name, run.stepCount(), total)) {
                run.run(new TrainingRun.Options(dir, checkpointEvery, 0, 0), new TrainingRun.Listener() {
                    @Override public void onStep(DualRateTrainer.Step s) {
                        progress.update(s.step() + 1,
                                String.format("loss %.3f NELBO/token %.3f KL %.1f", s.loss(), s.nelboPerToken(), s.klPerSequence()));
                    }
                });
            }
            seconds.put(name, (System.nanoTime() - t0) / 1e9);
        }
        return run.trainer().model();
    }

    /** The PNG: the LTM's bound against T_fast, the two baselines as horizontal lines. */
    static byte[] plot(Results r) {
        System.setProperty("java.awt.headless", "true"); // drawing into memory needs no display
        XYChart chart = new XYChartBuilder().width(900).height(560)
                .title(String.format("LTM vs baseline on %s (H=%d, L=%d, N=%d, window %d, %d steps)", shortName(r.plan().data()),
                        r.plan().width(), r.plan().layers(), r.plan().seqLen(), r.plan().window(), r.plan().steps()))
                .xAxisTitle("T_fast (fast steps at evaluation)").yAxisTitle("held-out perplexity (bound for the LTM), log scale").build();
        // A log scale: the bound starts orders of magnitude above where the curves meet (the KL of the fresh start).
        chart.getStyler().setYAxisLogarithmic(true).setYAxisDecimalPattern("0.#").setLegendPosition(Styler.LegendPosition.OutsideS);
        int n = r.ltmBound().size();
        double[] x = new double[n], y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.ltmBound().get(i).tFast();
            y[i] = r.ltmBound().get(i).perplexityBound();
        }
        chart.addSeries(String.format("LTM bound (N_z=%d, trained with T_fast=%d)", r.plan().latents(), r.plan().tFast()), x, y);
        double[] ends = {x[0], x[n - 1]};
        Baseline steps = r.baselineEqualSteps(), flops = r.baselineEqualFlops();
        addLine(chart, String.format("baseline, equal steps (%d)", steps.steps()), ends, steps.perplexity());
        addLine(chart, String.format("baseline, equal FLOPs (%d steps)", flops.steps()), ends, flops.perplexity());
        try {
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot draw the plot: " + e.getMessage(), e);
        }
    }

    private static void addLine(XYChart chart, String name, double[] ends, double value) {
        XYSeries s = chart.addSeries(name, ends, new double[] {value, value});
        s.setMarker(SeriesMarkers.NONE);
    }

    private static String shortName(String source) {
        String s = source.replace('\\', '/');
        while (s.endsWith("/")) s = s.substring(0, s.length() - 1);
        return s.substring(s.lastIndexOf('/') + 1);
    }
}
