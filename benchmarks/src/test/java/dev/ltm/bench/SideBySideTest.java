package dev.ltm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SideBySideTest {
    @Test void noWarmUpWhenNoneAsked() {
        assertTrue(SideBySide.warmedUp(0, 0, 0, true));
    }

    @Test void warmUpNeedsItsCallsAndItsTimeFirst() {
        assertFalse(SideBySide.warmedUp(40, 39, 5000, false), "fewer calls than asked");
        assertFalse(SideBySide.warmedUp(1, 3, SideBySide.WARMUP_MS - 1, false), "under WARMUP_MS of ours");
        assertTrue(SideBySide.warmedUp(1, 3, SideBySide.WARMUP_MS, false));
    }

    @Test void warmUpGoesOnWhileOursStillGetFaster() {
        double past = SideBySide.WARMUP_MS + 1;
        assertFalse(SideBySide.warmedUp(1, 2, past, true), "the last call was over 10% faster than the best before it");
        assertTrue(SideBySide.warmedUp(1, 2, past, false));
        assertTrue(SideBySide.warmedUp(1, 7, SideBySide.WARMUP_CAP_MS, true), "the cap ends even an unsettled warm-up");
    }

    /**
     * The rule as run() applies it, on the first calls of a fit that gets faster as it is compiled: it goes past
     * WARMUP_MS while calls still improve, and stops at the first that does not.
     */
    @Test void aFitStillGettingFasterPastTheFloorWarmsOnUntilItSettles() {
        List<Double> times = List.of(900.0, 800.0, 700.0, 600.0, 500.0, 440.0, 430.0, 300.0);
        double best = Double.POSITIVE_INFINITY, total = 0;
        boolean improving = true;
        int calls = 0;
        while (!SideBySide.warmedUp(1, calls, total, improving)) {
            double ms = times.get(calls++);
            improving = ms < SideBySide.SETTLED * best;
            best = Math.min(best, ms);
            total += ms;
        }
        assertEquals(7, calls); // 900..500 reach 3500 ms, still improving; 440 improves on 500 by 12%; 430 does not
    }

    @Test void medianOfOddAndEvenCounts() {
        assertEquals(2.0, SideBySide.median(List.of(3.0, 1.0, 2.0)));
        assertEquals(2.5, SideBySide.median(List.of(4.0, 1.0, 3.0, 2.0)));
    }
}
