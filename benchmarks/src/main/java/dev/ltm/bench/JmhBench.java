package dev.ltm.bench;

import java.util.List;
import java.util.Map;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bench jmh [regex] [-p name=v1,v2 ...] [--quick]}: runs the JMH benchmarks of this module
 * whose names match the regex, optionally overriding their parameters.
 */
@Command(name = "jmh", mixinStandardHelpOptions = true,
        description = "Runs the JMH benchmarks (in a forked JVM with the Vector API) matching a regex.")
final class JmhBench implements Runnable {
    @Parameters(index = "0", arity = "0..1", defaultValue = "dev\\.ltm\\.bench\\.jmh\\..*",
            description = "benchmark include regex (default ${DEFAULT-VALUE}).")
    String include;

    @Option(names = "-p", description = "parameter values, e.g. -p seqLen=64,128 -p layers=1,2,4 (JMH's -p).")
    Map<String, String> params = Map.of();

    @Option(names = "--quick", description = "1 warm-up and 3 measurement iterations of 1 s instead of each benchmark's own.")
    boolean quick;

    @Override public void run() {
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(include)
                .forks(1)
                .jvmArgsAppend("--add-modules", "jdk.incubator.vector");
        params.forEach((name, values) -> options.param(name, List.of(values.split(",")).toArray(String[]::new)));
        if (quick) {
            options.warmupIterations(1).warmupTime(TimeValue.seconds(1))
                    .measurementIterations(3).measurementTime(TimeValue.seconds(1));
        }
        try {
            new Runner(options.build()).run();
        } catch (RunnerException e) {
            throw new IllegalStateException("bench jmh: " + e.getMessage(), e);
        }
    }
}
