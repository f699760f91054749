package dev.ltm.bench;

import dev.ltm.tensor.FmaPeak;
import dev.ltm.tensor.Gemm;
import dev.ltm.tensor.Parallel;
import dev.ltm.tensor.Rng;
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
    private static final int ROUNDS = 3;

    @Spec CommandSpec spec;

    @Option(names = "--size", description = "m = n = k (default ${DEFAULT-VALUE}).", defaultValue = "1024")
    int size;

    @Option(names = "--reps", description = "timed repetitions per round after warm-up; the best is reported (default ${DEFAULT-VALUE}).",
            defaultValue = "5")
    int reps;

    @Option(names = "--device",
            description = "cpu, opencl or opencl:N (default ${DEFAULT-VALUE}); a device is timed beside the CPU engine.",
            defaultValue = "cpu")
    String device;

    @Override public void run() {
        if (size < 1) throw new ParameterException(spec.commandLine(), "gemm: --size must be >= 1, got " + size);
        if (reps < 1) throw new ParameterException(spec.commandLine(), "gemm: --reps must be >= 1, got " + reps);
        dev.ltm.tensor.Backend backend;
        try {
            backend = DeviceTiming.select(device);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "gemm: " + e.getMessage());
        }
        int all = Parallel.threads();
        System.out.printf(Locale.ROOT, "bench gemm: %d^3, %d threads available, %d rounds of (FMA peak, %d timed reps"
                + " after warm-up); best of all rounds reported%n", size, all, ROUNDS, reps);
        System.out.println("bench gemm: kernel " + dev.ltm.tensor.Gemm.configuration());
        Rng rng = new Rng(42);
        float[] a = new float[size * size], b = new float[size * size], c = new float[size * size];
        rng.fillUniform(a, -1, 1);
        rng.fillUniform(b, -1, 1);
        // Peak and GEMM alternate in rounds so that both see the same load from other processes.
        double peak1 = 0, peakAll = 0, g1 = 0, gAll = 0;
        for (int round = 0; round < ROUNDS; round++) {
            peak1 = Math.max(peak1, FmaPeak.measureGflops(1));
            g1 = Math.max(g1, time(a, b, c, 1));
            peakAll = Math.max(peakAll, FmaPeak.measureGflops(all));
            gAll = Math.max(gAll, time(a, b, c, all));
            System.out.printf(Locale.ROOT, "round %d: peak %.1f / %.1f, gemm %.1f / %.1f GFLOP/s (threads=1 / %d, best so far)%n",
                    round + 1, peak1, peakAll, g1, gAll, all);
        }
        // The peak of T cores is never below T times one core's; the concurrent probe can read a little
        // less when the cores' best slices do not coincide, so the larger figure is the ceiling.
        if (peakAll < all * peak1) {
            System.out.printf(Locale.ROOT, "all-thread probe %.1f < %d x one-thread peak; using %.1f GFLOP/s%n", peakAll, all, all * peak1);
            peakAll = all * peak1;
        }
        if (!DeviceTiming.isCpu(backend)) {
            double gd = DeviceTiming.gemmGflops(backend, a, b, size, reps);
            System.out.printf(Locale.ROOT, "gemm %dx%dx%d device=%s: %.1f GFLOP/s = %.2f x the CPU engine on %d threads%n",
                    size, size, size, backend.name(), gd, gd / gAll, all);
        }
        System.out.println(line(1, g1, peak1));
        System.out.println(line(all, gAll, peakAll));
    }

    /** The last lines of the run: {@code gemm SxSxS threads=T: X GFLOP/s = Y% of peak P GFLOP/s}. */
    private String line(int threads, double gflops, double peak) {
        return String.format(Locale.ROOT, "gemm %dx%dx%d threads=%d: %.1f GFLOP/s = %.1f%% of peak %.1f GFLOP/s",
                size, size, size, threads, gflops, 100 * gflops / peak, peak);
    }

    /** Warm-up (at least 3 calls and 1 s), then {@code reps} timed calls; returns the best GFLOP/s. */
    private double time(float[] a, float[] b, float[] c, int threads) {
        long warmEnd = System.nanoTime() + 1_000_000_000L;
        for (int i = 0; i < 3 || System.nanoTime() < warmEnd; i++) multiply(a, b, c, threads);
        double flops = 2.0 * size * size * size;
        double best = 0;
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            multiply(a, b, c, threads);
            best = Math.max(best, flops / (System.nanoTime() - t0));
        }
        return best;
    }

    private void multiply(float[] a, float[] b, float[] c, int threads) {
        Gemm.sgemm(false, false, size, size, size, a, 0, size, b, 0, size, c, 0, size, false, threads);
    }
}
