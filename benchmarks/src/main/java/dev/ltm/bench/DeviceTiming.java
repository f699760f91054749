package dev.ltm.bench;

import dev.ltm.gpu.OpenClBackend;
import dev.ltm.tensor.Backend;
import dev.ltm.tensor.Backends;
import dev.ltm.tensor.CpuBackend;
import dev.ltm.tensor.Tensor;

/** What the benchmarks need to time work on a chosen backend: selection and a barrier after queued work. */
final class DeviceTiming {
    private DeviceTiming() {}

    /** The backend named by {@code --device} ({@link Backends#select}: falls back to the CPU with one line). */
    static Backend select(String device) { return Backends.select(device); }

    /** Waits until everything queued on {@code backend} has run (a no-op on the CPU, whose ops are synchronous). */
    static void finish(Backend backend) {
        if (backend instanceof OpenClBackend ocl) ocl.finish();
    }

    /** Best GFLOP/s of an n^3 matmul on {@code backend} over {@code reps} timed runs after two warm-up runs. */
    static double gemmGflops(Backend backend, float[] a, float[] b, int n, int reps) {
        Tensor ta = Tensor.of(a, n, n).to(backend), tb = Tensor.of(b, n, n).to(backend);
        double best = 0;
        for (int r = -2; r < reps; r++) {
            long t0 = System.nanoTime();
            ta.matmul(tb);
            finish(backend);
            double gflops = 2.0 * n * n * n / (System.nanoTime() - t0);
            if (r >= 0) best = Math.max(best, gflops);
        }
        return best;
    }

    /** Whether {@code backend} is the CPU reference. */
    static boolean isCpu(Backend backend) { return backend == CpuBackend.INSTANCE; }
}
