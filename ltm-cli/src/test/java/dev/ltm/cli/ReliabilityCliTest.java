package dev.ltm.cli;

import static dev.ltm.cli.CliTest.run;
import static dev.ltm.cli.CliTest.train;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ltm.model.io.Safetensors;
import dev.ltm.optim.Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Non-finite numbers and absurd options end in one line and exit code 2, never in silent output or minutes of nothing. */
class ReliabilityCliTest {
    @TempDir static Path tmp;
    static Path trained;

    @BeforeAll
    static void trainATinyModel() {
        trained = tmp.resolve("trained");
        CliTest.Outcome o = run(train(trained));
        assertThat(o.code()).as(o.err()).isZero();
    }

    /** Exit code 2 and, after the progress bar's lines, one error line containing {@code fragment}; no stack trace. */
    private static String lastLineError(CliTest.Outcome o, String fragment) {
        assertThat(o.code()).as("exit code; stderr: " + o.err()).isEqualTo(Main.BAD_INPUT);
        List<String> lines = o.err().lines().toList();
        assertThat(lines).as(o.err()).isNotEmpty();
        assertThat(o.err()).doesNotContain("\tat ").doesNotContain("Exception");
        assertThat(lines.getLast()).contains(fragment);
        lines.subList(0, lines.size() - 1).forEach(l -> assertThat(l).startsWith("train "));
        return lines.getLast();
    }

    @Test
    void aCheckpointWithANanWeightIsOneLineNamingTheTensor() throws IOException {
        Path dir = tmp.resolve("nan");
        Files.createDirectories(dir);
        try (var files = Files.list(trained)) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        Checkpoint c = Checkpoint.load(dir);
        c.model().parameters().get("layers.1.attn.wv").data()[2] = Float.NaN;
        Safetensors.write(dir.resolve("model.safetensors"), c.model().parameters(), Map.of());
        for (String cmd : new String[] {"generate", "eval"}) {
            run(cmd, "--checkpoint", dir.toString()).isOneLineError("tensor 'layers.1.attn.wv' holds NaN at entry 2");
        }
    }

    @Test
    void aTrainingStepThatGoesNanStopsWithOneLineNamingTheStepAndTheLastCheckpointLoads() {
        Path out = tmp.resolve("diverged");
        // An absurd peak lr: the first update throws the weights to ~1e30, the next forward overflows.
        String line = lastLineError(run(train(out, "--lr", "1e30", "--warmup", "0", "--steps", "6", "--checkpoint-every", "1")),
                "is not finite (loss ");
        assertThat(line).containsPattern("^ltm train: training: step [2-6] of 6 is not finite")
                .endsWith("the checkpoint in " + out + " is the last one saved");
        int failed = Integer.parseInt(line.replaceAll(".*step (\\d) of 6.*", "$1"));
        assertThat(Checkpoint.load(out).trainer().step()).isEqualTo(failed - 1);
    }

    @Test
    void skipNonFiniteSkipsAndCountsBatchesUntilTwentyInARow() {
        Path out = tmp.resolve("skipping");
        CliTest.Outcome o = run(train(out, "--lr", "1e30", "--warmup", "0", "--steps", "6", "--skip-nonfinite"));
        assertThat(lastLineError(o, "20 batches in a row were not finite")).endsWith("no checkpoint was saved to " + out);
        assertThat(o.out()).contains("skipped a batch (1 so far)").contains("skipped a batch (19 so far)");
    }

    @Test
    void samplingFromNonFiniteLogitsIsOneLineNotToken0() {
        // z = 3e38 * N(0, I) overflows float: infinite thoughts, then NaN logits.
        CliTest.Outcome o = run("generate", "--checkpoint", trained.toString(), "--z-scale", "3e38", "--max-tokens", "3")
                .isOneLineError("ltm generate: sampling: the logit of token ");
        assertThat(o.err()).contains(" is NaN");
        assertThat(o.out()).isEmpty();
    }

    @Test
    void absurdThinkingTimesAreRefusedAtOnce() {
        run("generate", "--checkpoint", trained.toString(), "--prompt", "Once", "--t-fast", "100000000")
                .isOneLineError("T_fast 100000000 is outside 0..10000");
        run("eval", "--checkpoint", trained.toString(), "--t-fast", "100000000").isOneLineError("T_fast 100000000 is outside 0..10000");
        run(train(tmp.resolve("slow"), "--t-fast", "20000")).isOneLineError("T_fast 20000 is outside 0..10000");
        // A token budget beyond the context only runs to the context's end (no allocation of the budget).
        CliTest.Outcome o = run("generate", "--checkpoint", trained.toString(), "--max-tokens", "2000000000", "--no-stop");
        assertThat(o.code()).as(o.err()).isZero();
    }
}
