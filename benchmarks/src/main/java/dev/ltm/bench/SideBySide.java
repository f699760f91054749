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
     * Warm-up keeps going, one call of each at a time, until each side has made {@code warmups} calls, ours have
     * taken {@link #WARMUP_MS} in all, and ours have stopped getting faster (see {@link #SETTLED}). 40 matmuls of
     * 256^3 (5 ms) left C2 still compiling the kernels, which then ran 0.3-1.5 ms a call against 0.13 after 400. On the
     * Zen 3 host of 2026-12-07 the demo-size fast fit took 723, 418, 370, 313, 324, 252 and 301 ms in its first rounds
     * of one call each (C2 compiles the fit's many kernels over several calls, on the cores the fit runs on), so a
     * warm-up of 1000 ms, two calls, timed the compiler as much as the fit; PyTorch, with no compiler to wait for, held
     * at 914-1233 ms from its first call.
     */
    static final double WARMUP_MS = 3000;

    /**
     * Ours have stopped getting faster when a warm-up call is no more than 10% faster than the fastest call before it.
     * Alone, this stops at the first noisy slow call, hence the floor of {@link #WARMUP_MS} as well.
     */
    static final double SETTLED = 0.9;

    /** However unsettled, warm-up stops once ours have taken this long: the reference-size fit takes 4-6 s a call. */
    static final double WARMUP_CAP_MS = 30_000;

    /**
     * Each round times at least this long of our calls: rounds of 5 matmuls of 256^3 were 1 ms, and their medians
     * ran from 0.12 to 0.51 ms a call in one run; more calls per round make each round's median a steady figure.
     */
    static final double ROUND_MS = 100;

    /**
     * Warms both up (see {@link #WARMUP_MS}; none when {@code warmups} is 0), prints what the warm-up took, then runs
     * {@code rounds} rounds of timed calls of each: {@code reps} calls, or as many as fill {@link #ROUND_MS} at our last
     * warm-up call's pace, if that is more.
     */
    static Result run(String what, int warmups, int rounds, int reps, Runnable ours, Runnable theirs) {
        double oursWarmMs = 0, lastMs = 0, firstMs = 0, theirsLastMs = 0, best = Double.POSITIVE_INFINITY;
        boolean improving = true;
        int calls = 0;
        while (!warmedUp(warmups, calls, oursWarmMs, improving)) {
            lastMs = timeMs(ours);
            if (calls == 0) firstMs = lastMs;
            improving = lastMs < SETTLED * best;
            best = Math.min(best, lastMs);
            oursWarmMs += lastMs;
            calls++;
            letThreadsPark();
            theirsLastMs = timeMs(theirs);
            letThreadsPark();
        }
        if (calls > 0) {
            System.out.printf(Locale.ROOT, "  %s warm-up: %d calls of each; ours %.2f ms first, %.2f ms last; pytorch %.2f ms last%n",
                    what, calls, firstMs, lastMs, theirsLastMs);
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

    /**
     * Whether warm-up is over after {@code calls} calls of ours that took {@code oursWarmMs} in all, the last of them
     * {@code improving} on the fastest before it by more than {@link #SETTLED} allows.
     */
    static boolean warmedUp(int warmups, int calls, double oursWarmMs, boolean improving) {
        if (warmups == 0) return true;
        if (calls < warmups || oursWarmMs < WARMUP_MS) return false;
        return !improving || oursWarmMs >= WARMUP_CAP_MS;
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
