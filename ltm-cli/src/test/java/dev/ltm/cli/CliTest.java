package dev.ltm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
    @TempDir static Path tmp;
    static Path trained;

    /** What a command did: its exit code and everything it wrote. */
    record Outcome(int code, String out, String err) {
        /** Bad input: exit code 2 and exactly one line on standard error, no stack trace. */
        Outcome isOneLineError(String fragment) {
            assertThat(code).as("exit code; stderr: " + err).isEqualTo(Main.BAD_INPUT);
            assertThat(err.lines().toList()).as(err).hasSize(1);
            assertThat(err).contains(fragment).doesNotContain("\tat ").doesNotContain("Exception");
            return this;
        }
    }

    static Outcome run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static final String[] TINY = {"--stories", "30", "--seq-len", "32", "--width", "16", "--layers", "2", "--heads", "4", "--latents", "4",
            "--steps", "3", "--batch", "2", "--t-fast", "2", "--val-fraction", "0.2", "--seed", "3"};

    /** {@code train --out out} with the tiny settings, where options in {@code more} replace the tiny ones of the same name. */
    static String[] train(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--out", out.toString()));
        List<String> given = List.of(more);
        for (int i = 0; i < TINY.length; i += 2) if (!given.contains(TINY[i])) args.addAll(List.of(TINY[i], TINY[i + 1]));
        args.addAll(given);
        return args.toArray(String[]::new);
    }

    @BeforeAll
    static void trainATinyModel() {
        trained = tmp.resolve("trained");
        Outcome o = run(train(trained));
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("trained steps 1..3").contains("validation: T_fast 2").contains("checkpoint: " + trained);
        assertThat(o.err()).contains("train 3/3 (100%) loss ").contains("NELBO/token").contains("KL").contains("tok/s").contains("ETA");
    }

    /** A copy of the trained checkpoint to break. */
    static Path copy(String name) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        try (var files = Files.list(trained)) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        return dir;
    }

    @Test
    void evalPrintsTheBoundForEachThinkingTime() {
        Outcome o = run("eval", "--checkpoint", trained.toString(), "--t-fast", "0,1,4");
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("T_fast | NELBO/token |").contains("PPL bound").contains("authors' average");
        assertThat(o.out().lines().filter(l -> l.matches("\\s+[014] \\|.*"))).hasSize(3);
    }

    @Test
    void generateContinuesAPromptOrDrawsFromThePrior() {
        Outcome conditioned = run("generate", "--checkpoint", trained.toString(), "--prompt", "Tom", "--max-tokens", "5", "--temperature",
                "0",
                "--z-layers", "1");
        assertThat(conditioned.code()).as(conditioned.err()).isZero();
        assertThat(conditioned.out()).startsWith("Tom");
        assertThat(conditioned.err()).contains("z fitted on the prompt").contains("layers 1");
        Outcome prior = run("generate", "--checkpoint", trained.toString(), "--max-tokens", "5", "--top-k", "5", "--top-p", "0.9",
                "--z-scale", "0.5");
        assertThat(prior.code()).as(prior.err()).isZero();
        assertThat(prior.err()).contains("0.50 * N(0, I)");
    }

    @Test
    void probeReportsEveryLayerPrefixAndTheSetsAskedFor() {
        Outcome o = run("probe", "--checkpoint", trained.toString(), "--layers", "2", "--max-docs", "3");
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("3 documents");
        assertThat(o.out().lines().map(l -> l.split("\\|")[0].strip())).contains("none", "1", "1-2", "2");
    }

    @Test
    void resumingAFinishedRunTakesNoStepAndAFreshRunWillNotOverwrite() throws IOException {
        Path dir = copy("finished");
        Outcome o = run(train(dir, "--resume"));
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("resuming " + dir + " at step 3 of 3");
        run(train(dir)).isOneLineError("already holds a checkpoint");
        run("train", "--resume", "--out", tmp.resolve("none").toString()).isOneLineError("no checkpoint");
    }

    @Test
    void badCorporaAreOneLineErrors() throws IOException {
        run(train(tmp.resolve("o1"), "--data", tmp.resolve("missing.txt").toString())).isOneLineError("corpus not found");
        Path empty = Files.writeString(tmp.resolve("empty.txt"), "");
        run(train(tmp.resolve("o2"), "--data", empty.toString())).isOneLineError("corpus is empty");
        Path bad = Files.write(tmp.resolve("bad.txt"), new byte[] {'a', 'b', (byte) 0xC3, '(', 'c'});
        run(train(tmp.resolve("o3"), "--data", bad.toString())).isOneLineError("invalid UTF-8");
        run("eval", "--checkpoint", trained.toString(), "--data", bad.toString()).isOneLineError("invalid UTF-8");
        assertThat(tmp.resolve("o1")).doesNotExist();
    }

    @Test
    void brokenCheckpointsAreOneLineErrors() throws IOException {
        Path truncated = copy("truncated");
        Path weights = truncated.resolve("model.safetensors");
        try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.WRITE)) { ch.truncate(Files.size(weights) - 7); }
        run("eval", "--checkpoint", truncated.toString()).isOneLineError("truncated");

        Path header = copy("header");
        byte[] bytes = Files.readAllBytes(header.resolve("model.safetensors"));
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -5L);
        Files.write(header.resolve("model.safetensors"), bytes);
        run("generate", "--checkpoint", header.toString()).isOneLineError("header length");

        Path shapes = copy("shapes");
        Path config = shapes.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"width\" : 16", "\"width\" : 24"));
        run("probe", "--checkpoint", shapes.toString()).isOneLineError("has shape");

        Path oldOptimizer = copy("optimizer");
        Files.delete(oldOptimizer.resolve("optimizer.safetensors"));
        run(train(oldOptimizer, "--resume")).isOneLineError("file not found");

        run("eval", "--checkpoint", tmp.resolve("nowhere").toString()).isOneLineError("not found");
    }

    @Test
    void invalidSettingsAreOneLineErrors() {
        run(train(tmp.resolve("o4"), "--width", "30")).isOneLineError("width 30 must be divisible by heads 4");
        run(train(tmp.resolve("o5"), "--latents", "5")).isOneLineError("latentCount 5 must be divisible by layers 2");
        run(train(tmp.resolve("o6"), "--tokenizer", "words")).isOneLineError("unknown name 'words'");
        run(train(tmp.resolve("o7"), "--steps", "x")).isOneLineError("--steps");
        run("generate", "--checkpoint", trained.toString(), "--prompt",
                "a".repeat(40)).isOneLineError("the prompt is 41 tokens with BOS, the context holds 32");
        run("generate", "--checkpoint", trained.toString(), "--z-layers", "1,3").isOneLineError("layer 3 is outside 1..2");
        run("generate", "--checkpoint", trained.toString(), "--top-p", "0").isOneLineError("topP");
        run("eval", "--checkpoint", trained.toString(), "--t-fast", "1,x").isOneLineError("--t-fast '1,x'");
        run("frobnicate").isOneLineError("frobnicate");
    }

    @Test
    void aFailedTrainingRunLeavesThePreviousCheckpointAlone() throws IOException {
        Path dir = copy("kept");
        byte[] before = Files.readAllBytes(dir.resolve("model.safetensors"));
        run(train(dir, "--overwrite", "--data", tmp.resolve("missing").toString())).isOneLineError("corpus not found");
        assertThat(Files.readAllBytes(dir.resolve("model.safetensors"))).isEqualTo(before);
        assertThat(run("eval", "--checkpoint", dir.toString()).code()).isZero();
    }
}
