package dev.ltm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.tokenizer.ByteTokenizer;
import dev.ltm.optim.Checkpoint;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.FastFitter;
import dev.ltm.optim.Flops;
import dev.ltm.optim.Ltm;
import dev.ltm.optim.TrainingData;
import dev.ltm.optim.TrainingRun;
import dev.ltm.tensor.Rng;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExperimentCommandTest {
    @TempDir static Path tmp;
    static Path corpus, out;
    static CliTest.Outcome first;

    static final int STEPS = 6, BATCH = 4, SEQ = 32, T_FAST = 2;

    static final String[] TINY = {"--seq-len", "" + SEQ, "--width", "16", "--layers", "2", "--heads", "4", "--latents", "2",
            "--steps", "" + STEPS, "--batch", "" + BATCH, "--micro-batch", "2", "--t-fast", "" + T_FAST, "--t-fast-eval", "0,1,4",
            "--val-windows", "8", "--val-fraction", "0.2", "--checkpoint-every", "4", "--seed", "5"};

    /** {@code experiment} into {@code dir} with the tiny settings, where options in {@code more} replace those of the same name. */
    static String[] experiment(Path dir, String... more) {
        List<String> args = new ArrayList<>(List.of("experiment", "--out", dir.toString()));
        List<String> given = List.of(more);
        if (!given.contains("--data")) args.addAll(List.of("--data", corpus.toString()));
        for (int i = 0; i < TINY.length; i += 2) if (!given.contains(TINY[i])) args.addAll(List.of(TINY[i], TINY[i + 1]));
        args.addAll(given);
        return args.toArray(String[]::new);
    }

    @BeforeAll
    static void runATinyExperimentOnAFolderOfTexts() throws IOException {
        corpus = tmp.resolve("corpus");
        Files.createDirectories(corpus);
        List<String> texts = Ltm.stories(40, 3);
        for (int i = 0; i < texts.size(); i++) Files.writeString(corpus.resolve("doc" + i + ".txt"), texts.get(i));
        out = tmp.resolve("exp");
        first = CliTest.run(experiment(out));
        assertThat(first.code()).as(first.err()).isZero();
    }

    static JsonNode results(Path dir) throws IOException {
        return new ObjectMapper().readTree(Files.readString(dir.resolve("experiment-results.json")));
    }

    static String lastLine(String text) { return text.lines().reduce((a, b) -> b).orElseThrow(); }

    @Test
    void itWritesTheJsonAndThePlotAndEndsWithTheSummaryLine() throws IOException {
        assertThat(first.out()).contains("results: " + out.resolve("experiment-results.json"))
                .contains("plot: " + out.resolve("bound-vs-tfast.png"));
        byte[] png = Files.readAllBytes(out.resolve("bound-vs-tfast.png"));
        assertThat(png).startsWith(0x89, 'P', 'N', 'G').hasSizeGreaterThan(5000);
        assertThat(first.err()).contains("ltm " + STEPS + "/" + STEPS).contains("baseline-flops").contains("evaluate LTM");
        JsonNode r = results(out);
        assertThat(lastLine(first.out())).matches("experiment: LTM bound \\d+\\.\\d{3} at T_fast=\\d+; "
                + "baseline ppl \\d+\\.\\d{3} at equal steps, \\d+\\.\\d{3} at equal FLOPs")
                .isEqualTo(String.format("experiment: LTM bound %.3f at T_fast=%d; baseline ppl %.3f at equal steps, %.3f at equal FLOPs",
                        r.get("bestBound").asDouble(), r.get("bestTFast").asInt(), r.at("/baselineEqualSteps/perplexity").asDouble(),
                        r.at("/baselineEqualFlops/perplexity").asDouble()));
        for (String phase : new String[] {"ltm", "baseline-steps", "baseline-flops"}) {
            assertThat(out.resolve(phase).resolve("trainer.json")).exists();
        }
    }

    @Test
    void theFlopFiguresFollowTheFlopModelAndMatchTheBaselineToTheLtmsCompute() throws IOException {
        JsonNode r = results(out), f = r.get("flops");
        LtmConfig ltm = LtmConfig.builder().vocabSize(258).width(16).layers(2).heads(4).latentCount(2).maxSeqLen(SEQ).window(SEQ / 4)
                .build();
        long ltmStep = new Flops(ltm, SEQ).trainingStep(T_FAST);
        long baseStep = new Flops(ltm.toBuilder().latentCount(0).build(), SEQ).trainingStep(0);
        assertThat(f.get("ltmStepPerSequence").asLong()).isEqualTo(ltmStep);
        assertThat(f.get("baselineStepPerSequence").asLong()).isEqualTo(baseStep);
        assertThat(f.get("ltmTrainingFlops").asLong()).isEqualTo((long) STEPS * BATCH * ltmStep);
        int flopSteps = r.at("/baselineEqualFlops/steps").asInt();
        assertThat(flopSteps).isEqualTo(Math.round((double) STEPS * ltmStep / baseStep)).isGreaterThan(STEPS);
        // Equal FLOPs to within half a baseline step.
        assertThat((double) r.at("/baselineEqualFlops/trainingFlops").asLong())
                .isCloseTo((double) STEPS * BATCH * ltmStep, within(BATCH * baseStep / 2.0));
        assertThat(r.at("/baselineEqualSteps/steps").asInt()).isEqualTo(STEPS);
        assertThat(r.at("/baselineEqualSteps/trainingTokens").asLong()).isEqualTo((long) STEPS * BATCH * SEQ)
                .isEqualTo(r.get("ltmTrainingTokens").asLong());
        // At equal batch and length, equal tokens is equal steps.
        assertThat(r.get("baselineEqualTokens").get("perplexity").asDouble()).isEqualTo(r.at("/baselineEqualSteps/perplexity").asDouble());
        assertThat(r.get("equalTokensNote").asText()).contains("equal steps");
    }

    @Test
    void theBoundTableHoldsEveryThinkingTimeAndItsPartsAddUp() throws IOException {
        JsonNode r = results(out), table = r.get("ltmBound");
        assertThat(table).hasSize(3);
        double best = Double.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            JsonNode row = table.get(i);
            assertThat(row.get("tFast").asInt()).isEqualTo(new int[] {0, 1, 4}[i]);
            double perToken = row.get("nelboPerToken").asDouble();
            assertThat(row.get("perplexityBound").asDouble()).isCloseTo(Math.exp(perToken), within(1e-9 * Math.exp(perToken)));
            // NELBO = NLL + KL: per token, the KL per sequence times sequences over tokens.
            double kl = row.get("klPerSequence").asDouble() * row.get("sequences").asInt() / row.get("tokens").asLong();
            assertThat(perToken).isCloseTo(row.get("nllPerToken").asDouble() + kl, within(1e-9));
            assertThat(row.get("klPerSequence").asDouble()).isPositive();
            best = Math.min(best, row.get("perplexityBound").asDouble());
        }
        assertThat(r.get("bestBound").asDouble()).isEqualTo(best);
        assertThat(r.at("/data/evaluatedWindows").asInt()).isEqualTo(8);
    }

    @Test
    void aRerunIntoTheSameFolderResumesAndGivesTheSameFigures() throws IOException {
        Path again = tmp.resolve("again");
        copyTree(out, again);
        CliTest.Outcome o = CliTest.run(experiment(again));
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("resuming the run in " + again);
        assertThat(o.err()).doesNotContain("ltm 1/");
        assertThat(lastLine(o.out())).isEqualTo(lastLine(first.out()));
    }

    @Test
    void aPhaseInterruptedHalfWayContinuesToTheSameFigures() {
        // What an interrupted run leaves: the LTM phase's checkpoint at step 3 of 6, with the experiment's own settings.
        Path cut = tmp.resolve("interrupted");
        Checkpoint.DataSpec spec = new Checkpoint.DataSpec(corpus.toString(), 3000, 5, SEQ, 0.2, "concatenated");
        LtmConfig config = LtmConfig.builder().vocabSize(258).width(16).layers(2).heads(4).latentCount(2).maxSeqLen(SEQ).window(SEQ / 4)
                .build();
        DualRateTrainer.Settings settings = DualRateTrainer.Settings.defaults(STEPS / 10, STEPS, 5).withPeakLr(3e-3f)
                .withFast(FastFitter.Settings.defaults().withSteps(T_FAST).withLr(0.3f)).withMicroBatch(2);
        TrainingRun.start(new Checkpoint.Config(Checkpoint.FORMAT, config, "byte", spec), new LatentThoughtModel(config, new Rng(5)),
                settings, TrainingData.dataset(spec, new ByteTokenizer()), BATCH)
                .runTo(3, new TrainingRun.Options(cut.resolve("ltm"), 0, 0, 0), new TrainingRun.Listener() {});
        CliTest.Outcome o = CliTest.run(experiment(cut));
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("ltm: N_z=2").contains("(resuming at step 3)");
        assertThat(lastLine(o.out())).isEqualTo(lastLine(first.out()));
    }

    @Test
    void badOptionsAreOneLineErrorsAndLeaveTheFolderAlone() throws IOException {
        byte[] before = Files.readAllBytes(out.resolve("experiment-results.json"));
        CliTest.run(experiment(out, "--steps", "7")).isOneLineError("holds an experiment with other options");
        CliTest.run(experiment(out, "--micro-batch", "3")).isOneLineError("micro-batch 3 does not divide the batch of 4 sequences");
        assertThat(Files.readAllBytes(out.resolve("experiment-results.json"))).isEqualTo(before);
        Path fresh = tmp.resolve("never");
        CliTest.run(experiment(fresh, "--micro-batch", "3")).isOneLineError("micro-batch 3");
        CliTest.run(experiment(fresh, "--data", tmp.resolve("missing").toString())).isOneLineError("not found");
        assertThat(fresh).doesNotExist();
    }

    @Test
    void trainTakesAMicroBatchThatDividesTheBatchAndKeepsItInTheCheckpoint() throws IOException {
        Path dir = tmp.resolve("micro-train");
        CliTest.Outcome o = CliTest.run(CliTest.train(dir, "--batch", "4", "--micro-batch", "2"));
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(Files.readString(dir.resolve("trainer.json"))).contains("\"microBatch\" : 2");
        byte[] before = Files.readAllBytes(dir.resolve("model.safetensors"));
        CliTest.run(CliTest.train(dir, "--overwrite", "--batch", "4", "--micro-batch", "3"))
                .isOneLineError("micro-batch 3 does not divide the batch of 4 sequences: expected a divisor of 4");
        assertThat(Files.readAllBytes(dir.resolve("model.safetensors"))).isEqualTo(before);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (var files = Files.walk(from)) {
            for (Path p : files.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target);
            }
        }
    }
}
