package dev.ltm.gpu;

import dev.ltm.tensor.Rng;

/** Measures the device's sgemm throughput with profiling events (device time, no transfers). */
public final class OpenClGemmBench {
    private OpenClGemmBench() {}

    /** GFLOP/s (2 size^3 flops per product) of the best of {@code reps} timed size x size x size sgemms. */
    public static double gemmGflops(ClContext ctx, int size, int reps) {
        if (size < 1 || reps < 1) throw new IllegalArgumentException("gemmGflops: size " + size + ", reps " + reps);
        Rng rng = new Rng(1);
        float[] host = new float[size * size];
        for (int i = 0; i < host.length; i++) host[i] = (float) rng.normal();
        ClGemm gemm = new ClGemm(ctx);
        try (ClBuffer a = ctx.buffer(host); ClBuffer b = ctx.buffer(host); ClBuffer c = ctx.buffer((long) size * size)) {
            gemm.sgemmNanos(size, size, size, a, b, c); // warm-up: builds the program
            long best = Long.MAX_VALUE;
            for (int r = 0; r < reps; r++) best = Math.min(best, gemm.sgemmNanos(size, size, size, a, b, c));
            return 2.0 * size * size * (double) size / best;
        }
    }

    /** Prints the GFLOP/s of a 1024^3 sgemm on each OpenCL device (or why there is none). */
    public static void main(String[] args) {
        int size = args.length > 0 ? Integer.parseInt(args[0]) : 1024;
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        OpenClRuntime.Availability a = OpenClRuntime.available();
        if (!a.present()) {
            System.out.println("OpenCL: " + a.reason());
            return;
        }
        for (ClDevice d : a.devices()) {
            try (ClContext ctx = ClContext.open(d)) {
                System.out.printf("%s: sgemm %d^3 %.1f GFLOP/s (best of %d)%n", d.describe(), size,
                        gemmGflops(ctx, size, reps), reps);
            }
        }
    }
}
