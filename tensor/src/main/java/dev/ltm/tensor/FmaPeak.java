package dev.ltm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Probe of the machine's fused multiply-add throughput with the engine's vector width: the
 * ceiling against which the GEMM's GFLOP/s are reported.
 */
public final class FmaPeak {
    private static final VectorSpecies<Float> F = Simd.F;
    /** FMAs per call of {@link #chains}: 12 chains x 256 steps. */
    private static final int STEPS = 256;
    private static final int CHAINS = 12;
    /**
     * The chains' operands x = 1 and y, read from an array so that C2 never sees them as constants:
     * when it did (chains inlined into the timing loop, with that loop unrolled), it re-broadcast the
     * constants from memory before every FMA and the probe read 85 GFLOP/s instead of 116 on a Zen 4 core.
     */
    private static final float[] OPERANDS = {1f, 1e-7f};

    private FmaPeak() {}

    /**
     * Runs 12 independent FMA chains on {@code threads} threads at once for about half a second
     * (after a short warm-up) and returns the total GFLOP/s, counting 2 flops per lane per FMA.
     * Each thread times 20 ms slices and keeps its best: on a shared machine the best slice is
     * the closest estimate of what the core can do.
     */
    public static double measureGflops(int threads) {
        if (threads < 1) throw new IllegalArgumentException("FmaPeak.measureGflops: threads " + threads + " < 1");
        run(threads, 200_000_000L);            // warm-up: gets chains() compiled by C2
        return run(threads, 500_000_000L);
    }

    /** Starts {@code threads} platform threads that spin on FMA chains for {@code nanos}; sums their best slice rates. */
    private static double run(int threads, long nanos) {
        double[] best = new double[threads];
        float[] sink = new float[threads];
        Thread[] workers = new Thread[threads];
        long deadline = System.nanoTime() + nanos;
        double flopsPerCall = (double) STEPS * CHAINS * F.length() * 2;
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers[t] = Thread.ofPlatform().name("fma-peak-" + t).start(() -> {
                float s = 0;
                for (long t0 = System.nanoTime(); t0 < deadline; t0 = System.nanoTime()) {
                    long calls = 0, t1;
                    do {
                        for (int r = 0; r < 64; r++) s += chains(OPERANDS[0], OPERANDS[1]);
                        calls += 64;
                        t1 = System.nanoTime();
                    } while (t1 - t0 < 20_000_000L);
                    best[id] = Math.max(best[id], calls * flopsPerCall / (t1 - t0));
                }
                sink[id] = s;
            });
        }
        for (Thread w : workers) {
            try {
                w.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("FmaPeak: interrupted", e);
            }
        }
        double total = 0;
        float check = 0;
        for (int t = 0; t < threads; t++) { total += best[t]; check += sink[t]; }
        if (Float.isNaN(check)) throw new IllegalStateException("FmaPeak: chains diverged");
        return total;   // flops per ns = GFLOP/s
    }

    /**
     * 12 independent chains acc_i = x * y + acc_i, kept in locals so they stay in registers. The
     * accumulator is the addend, as in a GEMM, so each step is one vfmadd231ps on registers; with
     * acc_i * x + y instead, C2 copied y before every FMA and, with 16 registers (AVX2), reloaded it
     * from the stack, and the probe read half of the 256-bit peak.
     */
    static float chains(float xValue, float yValue) {
        FloatVector x = FloatVector.broadcast(F, xValue), y = FloatVector.broadcast(F, yValue);
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F);
        FloatVector c3 = FloatVector.zero(F), c4 = FloatVector.zero(F), c5 = FloatVector.zero(F);
        FloatVector c6 = FloatVector.zero(F), c7 = FloatVector.zero(F), c8 = FloatVector.zero(F);
        FloatVector c9 = FloatVector.zero(F), c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        for (int i = 0; i < STEPS; i++) {
            c0 = x.fma(y, c0); c1 = x.fma(y, c1); c2 = x.fma(y, c2);
            c3 = x.fma(y, c3); c4 = x.fma(y, c4); c5 = x.fma(y, c5);
            c6 = x.fma(y, c6); c7 = x.fma(y, c7); c8 = x.fma(y, c8);
            c9 = x.fma(y, c9); c10 = x.fma(y, c10); c11 = x.fma(y, c11);
        }
        FloatVector s = c0.add(c1).add(c2).add(c3).add(c4).add(c5)
                .add(c6).add(c7).add(c8).add(c9).add(c10).add(c11);
        return s.lane(0);
    }
}
