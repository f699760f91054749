package dev.ltm.bench;

import dev.ltm.model.io.Json;
import dev.ltm.optim.Checkpoint;
import dev.ltm.tensor.Rng;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ltm bench crash}: SQLite-style crash testing of checkpoints. A child JVM trains a tiny model
 * with {@code ltm train --checkpoint-every 1}; once its first checkpoint exists it is killed with
 * SIGKILL ({@link Process#destroyForcibly()} on Linux) at a random, seeded moment. After each kill
 * the folder must load, and {@code --resume} continues the run, to be killed again, until a run
 * completes; its final weights, moments and trainer state must equal those of an uninterrupted run
 * byte for byte. Then a new round starts from scratch, until the requested number of kills.
 */
@Command(name = "crash", mixinStandardHelpOptions = true,
        description = "Kill -9 a training child JVM at random moments; check the checkpoint loads and resumes bit for bit.")
final class CrashBench implements Callable<Integer> {
    @Option(names = "--kills", defaultValue = "20", description = "Kills in all (default: ${DEFAULT-VALUE}).")
    int kills;
    @Option(names = "--steps", defaultValue = "24", description = "Training steps of one run (default: ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--seed", defaultValue = "1", description = "Seed of the kill moments (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--work", description = "Folder for the checkpoints (default: a fresh temporary folder).")
    Path work;

    /**
     * What a crash test found: kills made, folders that loaded after them, rounds completed, and
     * whether every completed run equalled the reference.
     */
    record Result(int kills, int loadable, int rounds, boolean equal) {
        /** The closing line. */
        String line() {
            return String.format("crash: %d kills, %d loadable, resumed run equals uninterrupted: %s", kills, loadable,
                    equal ? "yes" : "no");
        }
    }

    @Override public Integer call() throws IOException {
        if (kills < 1 || steps < 2) throw new IllegalArgumentException("--kills must be >= 1 and --steps >= 2");
        Path dir = work != null ? Files.createDirectories(work) : Files.createTempDirectory("ltm-crash");
        Result r = run(dir, kills, steps, seed, System.out);
        System.out.println(r.line());
        return r.equal() && r.loadable() == r.kills() ? 0 : 1;
    }

    /**
     * Runs the crash test in folder {@code dir}: an uninterrupted reference run, then rounds of
     * killed and resumed runs until {@code kills} kills were made, with the kill moments drawn from {@code seed}.
     */
    static Result run(Path dir, int kills, int steps, long seed, PrintStream log) {
        Path reference = dir.resolve("reference"), crashed = dir.resolve("crashed");
        long t0 = System.nanoTime();
        Child ref = Child.start(train(reference, steps, false), dir.resolve("reference.log"));
        long firstSave = ref.awaitStep(reference, 1);
        ref.awaitExit();
        long window = Math.max(50_000_000L, System.nanoTime() - firstSave);
        log.printf("reference: %d steps in %.1f s, %.1f s after the first checkpoint%n", steps, (System.nanoTime() - t0) / 1e9,
                window / 1e9);

        Rng rng = new Rng(seed);
        int made = 0, loadable = 0, rounds = 0;
        boolean equal = true;
        while (made < kills) {
            deleteRecursively(crashed);
            boolean resume = false;
            int saved = 0;
            while (true) {
                Child c = Child.start(train(crashed, steps, resume), dir.resolve("crashed.log"));
                // The clock starts once this child has saved a step beyond the last one: a resumed run must make progress.
                c.awaitStep(crashed, saved + 1);
                // A moment anywhere in the rest of a run: mid-step, mid-save, between the renames.
                long delay = (long) (rng.uniform() * window);
                boolean killed = made < kills && c.killAfter(delay);
                if (!killed) {
                    c.awaitExit();
                    break;
                }
                made++;
                String state = loads(crashed);
                if (state.startsWith("step ")) {
                    loadable++;
                    saved = Checkpoint.load(crashed).trainer().step();
                }
                log.printf("kill %d after %.0f ms: %s%n", made, delay / 1e6, state);
                resume = true;
            }
            rounds++;
            boolean same = sameFiles(reference, crashed);
            equal &= same;
            log.printf("round %d: final checkpoint %s the uninterrupted run's%n", rounds, same ? "equals" : "DIFFERS from");
        }
        return new Result(made, loadable, rounds, equal);
    }

    /** The arguments of {@code ltm train} for the tiny run, checkpointing every step. */
    static List<String> train(Path out, int steps, boolean resume) {
        List<String> a = new ArrayList<>(List.of("train", "--out", out.toString()));
        if (resume) {
            a.add("--resume");
        } else {
            a.addAll(List.of("--overwrite", "--stories", "24", "--seq-len", "24", "--width", "16", "--layers", "2", "--heads", "2",
                    "--latents", "2", "--steps", Integer.toString(steps), "--batch", "2", "--t-fast", "2", "--val-fraction", "0",
                    "--seed", "5", "--checkpoint-every", "1"));
        }
        return a;
    }

    /** "step N" when the folder loads as a resumable checkpoint, else what is wrong with it. */
    static String loads(Path dir) {
        try {
            Checkpoint c = Checkpoint.load(dir);
            return c.resumable() ? "step " + c.trainer().step() + " loads" : "loads but cannot resume";
        } catch (RuntimeException e) {
            return "does not load: " + e.getMessage();
        }
    }

    /** Whether the two checkpoint folders hold the same files with the same bytes. */
    static boolean sameFiles(Path a, Path b) {
        try {
            for (String name : List.of("config.json", "model.safetensors", "optimizer.safetensors", "trainer.json")) {
                Path fa = a.resolve(name), fb = b.resolve(name);
                if (!Files.isRegularFile(fa) || !Files.isRegularFile(fb) || Files.mismatch(fa, fb) != -1) return false;
            }
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteRecursively(Path root) {
        for (Path p : List.of(root, root.resolveSibling(root.getFileName() + ".old"), root.resolveSibling(root.getFileName() + ".tmp"))) {
            if (!Files.exists(p)) continue;
            try (var walk = Files.walk(p)) {
                for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(f);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** A child JVM running the CLI on this JVM's class path, with one pool thread (so every run sums in the same order). */
    record Child(Process process) {
        static Child start(List<String> args, Path logFile) {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-XX:TieredStopAtLevel=1",
                    "-Dltm.threads=1", "-cp", System.getProperty("java.class.path"), "dev.ltm.cli.Main"));
            cmd.addAll(args);
            try {
                return new Child(new ProcessBuilder(cmd).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start());
            } catch (IOException e) {
                throw new UncheckedIOException("crash: cannot start a child JVM: " + e.getMessage(), e);
            }
        }

        /**
         * Waits until the checkpoint in {@code dir} is at step {@code step} or later (or the child ended);
         * returns System.nanoTime() then. Only reads trainer.json: loading would finish an interrupted
         * swap, and must not run beside the child's own.
         */
        long awaitStep(Path dir, int step) {
            while (process.isAlive() && savedStep(dir) < step) sleep(5);
            return System.nanoTime();
        }

        private static int savedStep(Path dir) {
            try {
                return Json.read(dir.resolve("trainer.json"), Checkpoint.TrainerState.class).step();
            } catch (RuntimeException e) {
                return -1; // not written yet, or mid-swap
            }
        }

        /** Kills the child with SIGKILL after {@code nanos}, if it is still running then; returns whether it was. */
        boolean killAfter(long nanos) {
            try {
                if (process.waitFor(nanos, TimeUnit.NANOSECONDS)) return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("crash: interrupted", e);
            }
            process.destroyForcibly();
            awaitExit();
            return true;
        }

        void awaitExit() {
            try {
                int code = process.waitFor();
                if (code != 0 && code != 137) {
                    throw new IllegalStateException("crash: the training child exited with code " + code + " (see its log)");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("crash: interrupted", e);
            }
        }

        private static void sleep(long ms) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("crash: interrupted", e);
            }
        }
    }
}
