package dev.ltm.bench;

import dev.ltm.tensor.FmaPeak;
import dev.ltm.tensor.Gemm;
import dev.ltm.tensor.Parallel;
import dev.ltm.tensor.Rng;
import java.util.Arrays;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bench gemm}: the machine's FMA peak on 1 and on all threads, then sgemm at size^3 on 1 and
 * on all threads, each reported as GFLOP/s and percent of the peak measured in the same run.
 */
@Command(name = "gemm", mixinStandardHelpOptions = true,
        description = "sgemm GFLOP/s against the measured FMA peak, on 1 thread and on all threads.")
final class GemmBench implements Runnable {
    @Spec CommandSpec spec;

    @Option(names = "--size", description = "m = n = k (default ${DEFAULT-VALUE}).", defaultValue = "1024")
    int size;

    @Option(names = "--reps", description = "timed repetitions after warm-up; the best is reported (default ${DEFAULT-VALUE}).",
            defaultValue = "7")
    int reps;

    @Option(names = "--device", description = "cpu (default ${DEFAULT-VALUE}).", defaultValue = "cpu")
    String device;

    @Override public void run() {
        if (size < 1) throw new ParameterException(spec.commandLine(), "gemm: --size must be >= 1, got " + size);
        if (reps < 1) throw new ParameterException(spec.commandLine(), "gemm: --reps must be >= 1, got " + reps);
        if (!device.equals("cpu")) {
            throw new ParameterException(spec.commandLine(), "gemm: --device " + device + " is not supported; use cpu");
        }
        int all = Parallel.threads();
        System.out.printf(Locale.ROOT, "bench gemm: %d^3, %d threads available, best of %d reps after warm-up%n", size, all, reps);
        double peak1 = FmaPeak.measureGflops(1);
        double peakAll = FmaPeak.measureGflops(all);
        System.out.printf(Locale.ROOT, "fma peak threads=1: %.1f GFLOP/s, threads=%d: %.1f GFLOP/s (best 20 ms slice)%n",
                peak1, all, peakAll);

        Rng rng = new Rng(42);
        float[] a = new float[size * size], b = new float[size * size], c = new float[size * size];
        rng.fillUniform(a, -1, 1);
        rng.fillUniform(b, -1, 1);
        double[] g1 = time(a, b, c, 1);
        double[] gAll = time(a, b, c, all);
        for (double[] g : new double[][] {g1, gAll}) {
            System.out.printf(Locale.ROOT, "gemm threads=%d: best %.1f, median %.1f GFLOP/s%n",
                    g == g1 ? 1 : all, g[0], g[1]);
        }
        System.out.println(line(1, g1[0], peak1));
        System.out.println(line(all, gAll[0], peakAll));
    }

    /** The last lines of the run: {@code gemm SxSxS threads=T: X GFLOP/s = Y% of peak P GFLOP/s}. */
    private String line(int threads, double gflops, double peak) {
        return String.format(Locale.ROOT, "gemm %dx%dx%d threads=%d: %.1f GFLOP/s = %.1f%% of peak %.1f GFLOP/s",
                size, size, size, threads, gflops, 100 * gflops / peak, peak);
    }

    /** Warm-up (at least 3 calls and 1 s), then {@code reps} timed calls; returns {best, median} GFLOP/s. */
    private double[] time(float[] a, float[] b, float[] c, int threads) {
        long warmEnd = System.nanoTime() + 1_000_000_000L;
        for (int i = 0; i < 3 || System.nanoTime() < warmEnd; i++) multiply(a, b, c, threads);
        double flops = 2.0 * size * size * size;
        double[] rates = new double[reps];
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            multiply(a, b, c, threads);
            rates[r] = flops / (System.nanoTime() - t0);
        }
        Arrays.sort(rates);
        return new double[] {rates[reps - 1], rates[reps / 2]};
    }

    private void multiply(float[] a, float[] b, float[] c, int threads) {
        Gemm.sgemm(false, false, size, size, size, a, 0, size, b, 0, size, c, 0, size, false, threads);
    }
}
