package dev.ltm.cli;

import static dev.ltm.cli.CliTest.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ltm.optim.data.StoryCorpus;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrepareCommandTest {
    @TempDir static Path tmp;
    static Path jsonl, shards, shardRun;
    static CliTest.Outcome fromShards;

    static final String[] TINY = {"--seq-len", "32", "--width", "16", "--layers", "2", "--heads", "4", "--latents", "4",
            "--steps", "3", "--batch", "2", "--t-fast", "2", "--val-fraction", "0.2", "--seed", "3", "--checkpoint-every", "0"};

    /** {@code train --data data --out out} with the tiny settings, where options in {@code more} replace the tiny ones of the same name. */
    static String[] train(Path data, Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--data", data.toString(), "--out", out.toString()));
        List<String> given = List.of(more);
        for (int i = 0; i < TINY.length; i += 2) if (!given.contains(TINY[i])) args.addAll(List.of(TINY[i], TINY[i + 1]));
        args.addAll(given);
        return args.toArray(String[]::new);
    }

    @BeforeAll
    static void prepareStories() throws IOException {
        jsonl = tmp.resolve("stories.jsonl");
        StringBuilder lines = new StringBuilder();
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (String s : StoryCorpus.texts(StoryCorpus.generate(4, 40))) {
            lines.append(json.writeValueAsString(java.util.Map.of("text", s))).append('\n');
        }
        Files.writeString(jsonl, lines);
        shards = tmp.resolve("shards");
        CliTest.Outcome o = run("prepare", "--data", jsonl.toString(), "--out", shards.toString(), "--shard-tokens", "2000");
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("prepare: 40 documents, ").contains(" in 8 shards").contains("MB/s").contains("-> " + shards);
        assertThat(o.err()).contains("prepare (MB) 1/1 (100%) 40 documents");
        shardRun = tmp.resolve("shard-run");
        fromShards = run(train(shards, shardRun));
        assertThat(fromShards.code()).as(fromShards.err()).isZero();
    }

    /** The loss line of a finished training run. */
    static String lossLine(CliTest.Outcome o) {
        Matcher m = Pattern.compile("trained steps .*").matcher(o.out());
        assertThat(m.find()).as(o.out() + o.err()).isTrue();
        return m.group().replaceAll(", [0-9]+ tokens/s", "");
    }

    @Test
    void trainingFromShardsEqualsTrainingFromTheTextAndEveryCommandReadsThem() {
        CliTest.Outcome fromText = run(train(jsonl, tmp.resolve("text-run")));
        assertThat(lossLine(fromShards)).isEqualTo(lossLine(fromText));
        assertThat(fromShards.out()).contains("validation: T_fast 2");

        String ck = shardRun.toString();
        CliTest.Outcome own = run("eval", "--checkpoint", ck, "--t-fast", "0,2");
        assertThat(own.code()).as(own.err()).isZero();
        assertThat(own.out()).isEqualTo(run("eval", "--checkpoint", tmp.resolve("text-run").toString(), "--t-fast", "0,2").out());
        CliTest.Outcome all = run("eval", "--checkpoint", ck, "--data", shards.toString(), "--max-batches", "2");
        assertThat(all.code()).as(all.err()).isZero();
        assertThat(all.out()).contains("16 sequences, 512 predicted tokens");
        CliTest.Outcome probe = run("probe", "--checkpoint", ck, "--data", shards.toString(), "--max-docs", "2");
        assertThat(probe.code()).as(probe.err()).isZero();
        assertThat(probe.out()).contains("2 documents");
        CliTest.Outcome generate = run("generate", "--checkpoint", ck, "--prompt", "Once", "--max-tokens", "4", "--temperature", "0");
        assertThat(generate.code()).as(generate.err()).isZero();
        assertThat(generate.out()).startsWith("Once");
    }

    /** A fresh copy of the prepared shards to break. */
    static Path copy(String name) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        try (var files = Files.list(shards)) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        return dir;
    }

    @Test
    void damagedOrMismatchedShardsAreOneLineErrorsAndOverwriteNothing() throws IOException {
        Path corrupt = copy("corrupt");
        byte[] bytes = Files.readAllBytes(corrupt.resolve("shard-00002.bin"));
        bytes[7] ^= 0x10;
        Files.write(corrupt.resolve("shard-00002.bin"), bytes);
        run(train(corrupt, tmp.resolve("c1"))).isOneLineError("shard-00002.bin: CRC-32C");
        assertThat(tmp.resolve("c1")).doesNotExist();

        Path truncated = copy("truncated");
        try (FileChannel ch = FileChannel.open(truncated.resolve("shard-00004.bin"), StandardOpenOption.WRITE)) { ch.truncate(10); }
        run("eval", "--checkpoint", shardRun.toString(), "--data", truncated.toString()).isOneLineError("(truncated)");

        run(train(shards, tmp.resolve("c2"), "--tokenizer", "gpt2"))
                .isOneLineError("prepared with tokenizer byte (vocabulary 258), the model uses gpt2");
        Path vocab = copy("vocab");
        Path manifest = vocab.resolve("manifest.json");
        Files.writeString(manifest, Files.readString(manifest).replace("\"vocabSize\" : 258", "\"vocabSize\" : 259"));
        run("probe", "--checkpoint", shardRun.toString(), "--data", vocab.toString()).isOneLineError("vocabulary 259 does not match");
        Path missing = copy("missing");
        Files.delete(missing.resolve("manifest.json"));
        run(train(missing, tmp.resolve("c3"))).isOneLineError("has no manifest.json");

        // A checkpoint and a prepared folder survive failed runs that target them.
        Path kept = shardRun;
        byte[] weights = Files.readAllBytes(kept.resolve("model.safetensors"));
        run(train(corrupt, kept, "--overwrite")).isOneLineError("CRC-32C");
        assertThat(Files.readAllBytes(kept.resolve("model.safetensors"))).isEqualTo(weights);

        byte[] before = Files.readAllBytes(shards.resolve("manifest.json"));
        run("prepare", "--data", jsonl.toString(), "--out", shards.toString()).isOneLineError("already exists: pass --overwrite");
        Path bad = Files.write(tmp.resolve("bad.txt"), new byte[] {'o', 'k', (byte) 0xC3, '('});
        run("prepare", "--data", bad.toString(), "--out", shards.toString(), "--overwrite").isOneLineError("invalid UTF-8 in "
                + bad + " at byte 2");
        run("prepare", "--data", jsonl.toString(), "--out", shards.toString(), "--tokenizer", "words",
                "--overwrite").isOneLineError("unknown name 'words'");
        assertThat(Files.readAllBytes(shards.resolve("manifest.json"))).isEqualTo(before);
        assertThat(tmp.resolve("shards.tmp")).doesNotExist();
        assertThat(run("eval", "--checkpoint", kept.toString(), "--data", shards.toString(), "--max-batches", "1").code()).isZero();
    }

    @Test
    void prepareStreamsAFileLargerThanItsHeap() throws Exception {
        Path big = tmp.resolve("big.txt");
        String line = "A line of a long single-document corpus, which prepare must stream rather than load.\n";
        try (BufferedWriter w = Files.newBufferedWriter(big, StandardCharsets.UTF_8)) {
            for (long n = 0; n < 40_000_000L; n += line.length()) w.write(line);
        }
        Path out = tmp.resolve("big-shards");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-Xmx16m", "-cp", withoutSparkJars(), Main.class.getName(),
                "prepare", "--data", big.toString(), "--out", out.toString()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(output).contains("prepare: 1 documents, " + String.format("%,d", Files.size(big) + 2) + " tokens");
    }

    /**
     * This JVM's class path without Spark's jars (listed by ltm-spark's build): prepare loads none of them, but the JDK
     * opens every jar on the class path when it looks for service providers, and their indexes alone exceed 16 MB.
     */
    static String withoutSparkJars() throws IOException {
        String listed = Files.readString(Path.of("..", "ltm-spark", "target", "spark-classpath.txt")).strip();
        java.util.Set<String> spark = new java.util.HashSet<>(java.util.List.of(listed.split(java.io.File.pathSeparator)));
        return java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(e -> !spark.contains(e)).collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    }

    @Test
    void manPagesRenderPrepareTrainAndEvaluate() throws Exception {
        Path script = Path.of("..", "scripts", "manpages-corpus.sh").toAbsolutePath().normalize();
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/groff")) && Files.isExecutable(Path.of("/usr/bin/col")),
                "groff or col (groff-base, bsdextrautils) is not installed");
        assumeTrue(Files.isDirectory(Path.of("/usr/share/man/man2")) && Files.exists(Path.of("/usr/share/doc/manpages")),
                "Debian's manpages package is not installed");
        Path pages = tmp.resolve("man");
        Process p = new ProcessBuilder("bash", script.toString(), pages.toString(), "30").redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(log).isZero();
        assertThat(log).contains("manpages-corpus: 30 documents");
        Path dir = tmp.resolve("man-shards");
        CliTest.Outcome prepared = run("prepare", "--data", pages.toString(), "--out", dir.toString());
        assertThat(prepared.out()).as(prepared.err()).contains("prepare: 30 documents");
        Path ck = tmp.resolve("man-run");
        CliTest.Outcome trained = run(train(dir, ck, "--seq-len", "64", "--val-fraction", "0.1"));
        assertThat(trained.code()).as(trained.err()).isZero();
        assertThat(trained.out()).contains("trained steps 1..3");
        CliTest.Outcome eval = run("eval", "--checkpoint", ck.toString(), "--t-fast", "0,2", "--max-batches", "2");
        assertThat(eval.code()).as(eval.err()).isZero();
        assertThat(eval.out()).contains("PPL bound");
    }
}
