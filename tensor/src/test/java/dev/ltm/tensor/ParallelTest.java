package dev.ltm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ParallelTest {
    @Test
    void everyIndexRunsExactlyOnceAndTheCallerTakesPart() {
        for (int n : new int[] {1, 2, 3, 7, 1000}) {
            AtomicIntegerArray seen = new AtomicIntegerArray(n);
            Set<Thread> threads = ConcurrentHashMap.newKeySet();
            Parallel.forRange(n, i -> {
                seen.incrementAndGet(i);
                threads.add(Thread.currentThread());
            });
            for (int i = 0; i < n; i++) assertThat(seen.get(i)).as("n=%d index %d", n, i).isEqualTo(1);
            // the first range is the caller's own
            assertThat(threads).contains(Thread.currentThread());
            assertThat(threads.size()).isLessThanOrEqualTo(Math.min(n, Parallel.threads()));
        }
    }

    /** Inside a task every call runs inline, and runsInline says so; outside, with more than one thread, it does not. */
    @Test
    void runsInlineIsTrueInsideTasksOnly() {
        assertThat(Parallel.runsInline()).isEqualTo(Parallel.threads() == 1);
        AtomicIntegerArray inside = new AtomicIntegerArray(2);
        Parallel.forChunks(2, 2, (lo, hi) -> {
            for (int t = lo; t < hi; t++) inside.set(t, Parallel.runsInline() ? 1 : 0);
        });
        assertThat(inside.get(0)).isEqualTo(1);
        assertThat(inside.get(1)).isEqualTo(1);
    }

    @Test
    void aFailureInAnyRangeReachesTheCallerAfterEveryRangeHasEnded() {
        int n = 64;
        AtomicIntegerArray seen = new AtomicIntegerArray(n);
        assertThatThrownBy(() -> Parallel.forRange(n, i -> {
            seen.incrementAndGet(i);
            if (i == n - 1) throw new IllegalStateException("last index failed");
        })).isInstanceOf(IllegalStateException.class).hasMessageContaining("last index failed");
        // the last index is in the pool's range when there are two threads, the caller's when there is one
        int done = 0;
        for (int i = 0; i < n; i++) done += seen.get(i);
        assertThat(done).isEqualTo(n);

        assertThatThrownBy(() -> Parallel.forRange(n, i -> {
            if (i == 0) throw new ArithmeticException("first index failed");
        })).isInstanceOf(ArithmeticException.class).hasMessageContaining("first index failed");

        // and the pool still works afterwards, nested calls included (they run inline)
        AtomicIntegerArray again = new AtomicIntegerArray(n * 4);
        Parallel.forRange(n, i -> Parallel.forRange(4, j -> again.incrementAndGet(i * 4 + j)));
        for (int i = 0; i < n * 4; i++) assertThat(again.get(i)).isEqualTo(1);
    }

    @Test
    void aWorkerThatHasParkedIsWokenAndRunsItsRangeBesideTheCaller() throws Exception {
        assumeTrue(Parallel.threads() >= 2, "needs a worker");
        for (int round = 0; round < 3; round++) {
            Thread.sleep(TimeUnit.NANOSECONDS.toMillis(Parallel.SPIN_NANOS) + 20); // past the spin: the workers have parked
            CountDownLatch lastStarted = new CountDownLatch(1);
            boolean[] sawIt = new boolean[1];
            Parallel.forRange(2, 2, i -> {
                if (i == 1) lastStarted.countDown();
                // the caller runs index 0 and can only see index 1 start if a worker runs it meanwhile
                else try { sawIt[0] = lastStarted.await(10, TimeUnit.SECONDS); } catch (InterruptedException e) { throw new IllegalStateException(e); }
            });
            assertThat(sawIt[0]).as("round %d: index 1 ran on a worker while the caller was in index 0", round).isTrue();
        }
    }

    @Test
    void callersOnSeveralThreadsAtOnceEachGetEveryIndexOnce() throws Exception {
        int callers = 4, calls = 300, n = 17;
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < callers; c++) {
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    for (int call = 0; call < calls; call++) {
                        AtomicIntegerArray seen = new AtomicIntegerArray(n);
                        Parallel.forRange(n, i -> seen.incrementAndGet(i));
                        for (int i = 0; i < n; i++) if (seen.get(i) != 1) throw new AssertionError("index " + i + " ran " + seen.get(i) + " times");
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (Thread t : threads) t.join(60_000);
        for (Thread t : threads) assertThat(t.isAlive()).as("a caller is still running: deadlock").isFalse();
        assertThat(failure.get()).isNull();
    }
}
