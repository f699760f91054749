package dev.ltm.bench;

import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code bench jmh [regex]}: runs the JMH benchmarks of this module whose names match the regex. */
@Command(name = "jmh", mixinStandardHelpOptions = true,
        description = "Runs the JMH benchmarks (in a forked JVM with the Vector API) matching a regex.")
final class JmhBench implements Runnable {
    @Parameters(index = "0", arity = "0..1", defaultValue = "dev\\.ltm\\.bench\\.jmh\\..*",
            description = "benchmark include regex (default ${DEFAULT-VALUE}).")
    String include;

    @Override public void run() {
        Options options = new OptionsBuilder()
                .include(include)
                .forks(1)
                .jvmArgsAppend("--add-modules", "jdk.incubator.vector")
                .build();
        try {
            new Runner(options).run();
        } catch (RunnerException e) {
            throw new IllegalStateException("bench jmh: " + e.getMessage(), e);
        }
    }
}
