package dev.ltm.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Times two implementations of the same work alternately in one run, so that both see the same
 * machine load: warm-up calls of each, then rounds of (ours x reps, theirs x reps); the figure
 * of each is the median over all its timed calls.
 */
final class SideBySide {
    /** Median milliseconds per call of ours and theirs; ratio above 1: ours is faster. */
    record Result(String what, double oursMs, double theirsMs) {
        double ratio() { return theirsMs / oursMs; }

        String line() {
            return String.format(Locale.ROOT, "%s: ours %.2f ms, pytorch %.2f ms (median), ratio ours/pytorch %.2f",
                    what, oursMs, theirsMs, ratio());
        }
    }

    private SideBySide() {}

    /**
     * Warm-up keeps going, one call of each at a time, until each side has made {@code warmups} calls and ours have
     * taken {@link #WARMUP_MS} in all; 40 matmuls of 256^3 (5 ms) left C2 still compiling the kernels, which then ran
     * 0.3-1.5 ms a call against 0.13 after 400.
     */
    static final double WARMUP_MS = 1000;

    /**
     * Each round times at least this long of our calls: rounds of 5 matmuls of 256^3 were 1 ms, and their medians
     * ran from 0.12 to 0.51 ms a call in one run; more calls per round make each round's median a steady figure.
     */
    static final double ROUND_MS = 100;

    /**
     * Warms both up (see {@link #WARMUP_MS}), then runs {@code rounds} rounds of timed calls of each: {@code reps}
     * calls, or as many as fill {@link #ROUND_MS} at our last warm-up call's pace, if that is more.
     */
    static Result run(String what, int warmups, int rounds, int reps, Runnable ours, Runnable theirs) {
        double oursWarmMs = 0, lastMs = 0;
        for (int i = 0; i < warmups || (warmups > 0 && oursWarmMs < WARMUP_MS); i++) {
            lastMs = timeMs(ours);
            oursWarmMs += lastMs;
            letThreadsPark();
            theirs.run();
            letThreadsPark();
        }
        if (lastMs > 0) reps = (int) Math.max(reps, Math.min(1000, Math.ceil(ROUND_MS / lastMs)));
        List<Double> a = new ArrayList<>(), b = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < reps; i++) a.add(timeMs(ours));
            letThreadsPark();
            for (int i = 0; i < reps; i++) b.add(timeMs(theirs));
            letThreadsPark();
            System.out.printf(Locale.ROOT, "  %s round %d: ours %.2f ms, pytorch %.2f ms (median of this round)%n",
                    what, r + 1, median(a.subList(a.size() - reps, a.size())), median(b.subList(b.size() - reps, b.size())));
        }
        return new Result(what, median(a), median(b));
    }

    /**
     * Our pool's workers spin for a while after a call before they park ({@code Parallel.SPIN_NANOS}, 0.2 ms); PyTorch's
     * threads are set passive. A pause of 1 ms after our calls keeps our spinning workers off the cores PyTorch's calls run
     * on, and the same pause after PyTorch's calls leaves each side's first call to start from parked threads alike.
     */
    private static void letThreadsPark() {
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static double timeMs(Runnable body) {
        long t0 = System.nanoTime();
        body.run();
        return (System.nanoTime() - t0) / 1e6;
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
