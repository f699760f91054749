package dev.ltm.bench;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ltm bench fuzz}: runs every Jazzer fuzz target of the benchmarks module's tests
 * ({@code dev.ltm.bench.fuzz.*FuzzTest} and {@code dev.ltm.web.*FuzzTest}) for real, each in its own child JVM through the JUnit
 * launcher with {@code JAZZER_FUZZ=1} (Jazzer fuzzes only in its JUnit or agent mode, and one
 * target per JVM), for an equal share of {@code --seconds}. Executions are libFuzzer's own count;
 * a crash is a failed target, whose input Jazzer writes beside the target's seed corpus under
 * {@code src/test/resources}, where plain test runs replay it from then on.
 */
@Command(name = "fuzz", mixinStandardHelpOptions = true,
        description = "Fuzz every parser with Jazzer (one child JVM per target) and count executions and crashes.")
final class FuzzBench implements Callable<Integer> {
    @Option(names = "--seconds", defaultValue = "120",
            description = "Fuzzing time in all, shared equally by the targets (default: ${DEFAULT-VALUE}).")
    long seconds;
    @Option(names = "--only", description = "Fuzz only the targets whose Class#method contains this text.")
    String only;
    @Option(names = "--work", description = "Folder for the generated corpus and the logs (default: a fresh temporary folder).")
    Path work;

    private static final Pattern DONE = Pattern.compile("Done (\\d+) runs in"), STATUS = Pattern.compile("^#(\\d+)\\s", Pattern.MULTILINE),
            CRASH_FILE = Pattern.compile("Test unit written to (\\S+)");

    @Override public Integer call() throws IOException, InterruptedException {
        if (seconds < 1) throw new IllegalArgumentException("--seconds " + seconds + " must be >= 1");
        Path module = moduleDir();
        Path cpFile = module.resolve("target/test-classpath.txt");
        if (!Files.isRegularFile(cpFile)) {
            throw new IllegalArgumentException("fuzz: " + cpFile + " is missing: build first (./ltm builds; or mvn install -DskipTests)");
        }
        // Jazzer's agent scans the whole class path at start: leave out what no target uses (PyTorch's native jars, JMH, XChart).
        StringBuilder cp = new StringBuilder(module.resolve("target/test-classes") + java.io.File.pathSeparator
                + module.resolve("target/classes"));
        for (String entry : Files.readString(cpFile).strip().split(java.io.File.pathSeparator)) {
            if (!entry.contains("/ai/djl/") && !entry.contains("/org/openjdk/jmh/") && !entry.contains("/org/knowm/")) {
                cp.append(java.io.File.pathSeparator).append(entry);
            }
        }
        Path dir = work != null ? Files.createDirectories(work) : Files.createTempDirectory("ltm-fuzz");
        List<String> targets = new ArrayList<>();
        for (String line : run(cp.toString(), dir, List.of("--list"), dir.resolve("list.log"), 600, false).lines().toList()) {
            if (line.contains("#") && (only == null || line.contains(only))) targets.add(line.strip());
        }
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("fuzz: no fuzz targets found" + (only == null ? "" : " matching " + only));
        }
        long each = Math.max(1, seconds / targets.size());
        long executions = 0;
        int crashes = 0;
        for (String t : targets) {
            // Generous slack: on a loaded machine the agent's start alone took minutes; a hang per input is libFuzzer's -timeout.
            String out = run(cp.toString(), dir, List.of(t, Long.toString(each)), dir.resolve(t.replace('#', '.') + ".log"), each + 900,
                    true);
            long n = executions(out);
            boolean passed = out.contains("fuzz-result: passed");
            executions += n;
            if (!passed) crashes++;
            String result = out.lines().filter(l -> l.startsWith("fuzz-result:")).findFirst()
                    .orElse("fuzz-result: no result (see the log)");
            System.out.printf("%-70s %,12d executions  %s%n", t, n, passed ? "ok" : result.substring("fuzz-result: ".length()));
            Matcher crash = CRASH_FILE.matcher(out);
            while (crash.find()) System.out.println("  crash input: " + crash.group(1)
                    + " (add it to the target's seed corpus as a regression input)");
        }
        System.out.println("logs and generated corpus: " + dir);
        System.out.printf("fuzz: %d targets, %d executions, %d crashes%n", targets.size(), executions, crashes);
        return crashes == 0 ? 0 : 1;
    }

    /** libFuzzer's closing "Done N runs", or, when a finding stopped it, its last "#N" status line. */
    static long executions(String log) {
        Matcher m = DONE.matcher(log);
        long n = -1;
        while (m.find()) n = Long.parseLong(m.group(1));
        if (n >= 0) return n;
        Matcher s = STATUS.matcher(log);
        while (s.find()) n = Math.max(n, Long.parseLong(s.group(1)));
        return Math.max(0, n);
    }

    /** Runs {@code FuzzMain args} in a child JVM in {@code dir}; returns its whole output (also kept in {@code log}). */
    private static String run(String cp, Path dir, List<String> args, Path log, long timeoutSeconds, boolean fuzz)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-Dltm.threads=1",
                // Coverage: Jazzer instruments only class folders by default. Its ASM cannot read Java 25 class files
                // (major 69), so our own code runs uninstrumented; the parsers under it (Jackson, JTokkit) are instrumented.
                "-Djazzer.instrument=dev.ltm.**,com.fasterxml.**,com.knuddels.**",
                "-cp", cp, "dev.ltm.bench.fuzz.FuzzMain"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        if (fuzz) pb.environment().put("JAZZER_FUZZ", "1");
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            return Files.readString(log, StandardCharsets.UTF_8) + "\nfuzz-result: failed: the target ran past its time (a hang)\n";
        }
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    /** The benchmarks module's folder, from where this class was loaded ({@code benchmarks/target/classes}). */
    private static Path moduleDir() {
        try {
            Path classes = Path.of(FuzzBench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return classes.getParent().getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("fuzz: cannot locate the benchmarks module", e);
        }
    }
}
