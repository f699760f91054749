package dev.ltm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
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
}
