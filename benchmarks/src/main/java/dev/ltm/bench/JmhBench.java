package dev.ltm.bench;

import dev.ltm.bench.jmh.FastFitGridBenchmark;
import dev.ltm.optim.Flops;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.results.RunResult;
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
 * whose names match the regex, optionally overriding their parameters. When the run includes
 * {@link FastFitGridBenchmark}, it ends with one line per axis of that grid: the log-log exponent of
 * the measured time beside those of the exact FLOP count and of spec section 4's formula.
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
        Collection<RunResult> results;
        try {
            results = new Runner(options.build()).run();
        } catch (RunnerException e) {
            throw new IllegalStateException("bench jmh: " + e.getMessage(), e);
        }
        Map<String, Double> grid = new TreeMap<>();
        for (RunResult r : results) {
            if (r.getParams().getBenchmark().endsWith(FastFitGridBenchmark.class.getSimpleName() + ".fit")) {
                grid.put(r.getParams().getParam("point"), r.getPrimaryResult().getScore());
            }
        }
        gridExponents(grid).forEach(System.out::println);
    }

    /**
     * For each axis of {@link FastFitGridBenchmark} with at least two measured values (the base counts
     * on every axis): the fitted exponent of ms per fit, the FLOP count's and the formula's, R^2, and the
     * GFLOP/s of each point in the axis's order (flat where the engine keeps pace with the work).
     */
    static List<String> gridExponents(Map<String, Double> msByPoint) {
        List<String> lines = new ArrayList<>();
        FastFitGridBenchmark.Point base = FastFitGridBenchmark.Point.of("base");
        for (String axis : List.of("T_fast", "L", "N", "H")) {
            // the points on this axis (and the base) by their value on it
            Map<Integer, String> names = new TreeMap<>();
            for (String name : msByPoint.keySet()) {
                FastFitGridBenchmark.Point p = FastFitGridBenchmark.Point.of(name);
                if (p.axis().equals(axis) || p.axis().equals("base")) names.put(p.valueOn(axis), name);
            }
            int n = names.size();
            if (n < 2) continue;
            double[] x = new double[n], y = new double[n], flops = new double[n], formula = new double[n];
            StringBuilder rates = new StringBuilder();
            int i = 0;
            for (Map.Entry<Integer, String> e : names.entrySet()) {
                FastFitGridBenchmark.Point p = FastFitGridBenchmark.Point.of(e.getValue());
                LtmFixture.Size s = p.size();
                x[i] = e.getKey();
                y[i] = msByPoint.get(e.getValue());
                flops[i] = new Flops(s.config(), s.seqLen()).fit(p.tFast());
                formula[i] = ScalingBench.formulaCost(s, p.tFast());
                rates.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.1f", flops[i] * s.batch() / (y[i] * 1e6)));
                i++;
            }
            ScalingBench.Fit measured = ScalingBench.logLogFit(x, y);
            lines.add(String.format(Locale.ROOT,
                    "jmh grid %s %d..%d: exponent %.2f R^2 %.3f; FLOP count %.2f; section 4 formula %.2f; GFLOP/s %s (base %s T_fast=%d)",
                    axis, (int) x[0], (int) x[x.length - 1], measured.slope(), measured.r2(),
                    ScalingBench.logLogFit(x, flops).slope(), ScalingBench.logLogFit(x, formula).slope(), rates, base.size(), base.tFast()));
        }
        return lines;
    }
}
