package dev.ltm.tensor;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.function.IntConsumer;

/**
 * The CPU backend's thread pool: the one piece of static mutable state in the engine, with the
 * per-thread scratch its kernels keep (Gemm's packing buffers). Its size is the system property
 * {@code ltm.threads}, default the number of available cores.
 */
public final class Parallel {
    private static final int THREADS = Math.max(1,
            Integer.getInteger("ltm.threads", Runtime.getRuntime().availableProcessors()));
    private static final ForkJoinPool POOL = new ForkJoinPool(THREADS);

    /**
     * Packing buffers kept between calls: allocating (and zeroing) up to 4 MiB per call cost 2-5% of a
     * 1024^3 product. Each thread of the pool keeps its own, so its buffers stay in its core's caches
     * (a shared pool, which hands them from core to core, averaged about 4 points of peak lower on two
     * threads, near this machine's noise); any other calling thread takes the one spare or makes its
     * own, so the memory held does not grow with the number of threads that call sgemm.
     */
    private static final ThreadLocal<GemmWorkspace> WORKER_WORKSPACE = ThreadLocal.withInitial(GemmWorkspace::new);
    private static final ArrayBlockingQueue<GemmWorkspace> SPARE_WORKSPACE = new ArrayBlockingQueue<>(1);

    private Parallel() {}

    /** Number of worker threads the engine uses. */
    public static int threads() { return THREADS; }

    /** Whether the calling thread is one of the engine pool's workers (a bounded, long-lived set). */
    static boolean inPool() {
        return Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == POOL;
    }

    /** Packing buffers for the calling thread: a pool worker's own, else the spare or new ones. */
    static GemmWorkspace takeGemmWorkspace() {
        if (inPool()) return WORKER_WORKSPACE.get();
        GemmWorkspace ws = SPARE_WORKSPACE.poll();
        return ws == null ? new GemmWorkspace() : ws;
    }

    /** Gives back what {@link #takeGemmWorkspace} gave: a pool worker keeps its own; others offer theirs as the spare. */
    static void returnGemmWorkspace(GemmWorkspace ws) {
        if (!inPool()) SPARE_WORKSPACE.offer(ws); // dropped when the spare slot is taken
    }

    /**
     * Runs {@code body.accept(i)} for every i in [0, n), split over at most {@code threads()} tasks
     * of contiguous ranges. Runs inline when n is 1 or the pool has one thread.
     */
    public static void forRange(int n, IntConsumer body) {
        forRange(n, THREADS, body);
    }

    /**
     * As {@link #forRange(int, IntConsumer)} with at most {@code maxTasks} tasks (1 means inline).
     *
     * <p>The calling thread runs the first range itself and hands only the others to the pool, then
     * joins them; a range no worker has started by then it takes back and runs too. On two cores that
     * is one wake-up per call instead of three hand-offs (caller to worker, worker to worker, back to
     * the caller, each on a vCPU that may have gone idle): on Zen 3, a call of two 50 us ranges took a
     * median of 72-149 us this way against 88-166 us that way, depending on how long the pool had been idle.
     * Which range runs on which thread never changes what is computed.
     */
    public static void forRange(int n, int maxTasks, IntConsumer body) {
        int tasks = Math.min(Math.min(n, maxTasks), THREADS);
        if (tasks <= 1 || ForkJoinTask.inForkJoinPool()) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        ForkJoinTask<?>[] others = new ForkJoinTask<?>[tasks - 1];
        for (int t = 1; t < tasks; t++) {
            int lo = (int) ((long) n * t / tasks), hi = (int) ((long) n * (t + 1) / tasks);
            others[t - 1] = POOL.submit(() -> {
                for (int i = lo; i < hi; i++) body.accept(i);
            });
        }
        Throwable failure = null;
        try {
            for (int i = 0, hi = n / tasks; i < hi; i++) body.accept(i);
        } catch (Throwable e) {
            failure = e;
        }
        for (ForkJoinTask<?> task : others) {
            try {
                task.join(); // runs the task here if no worker has taken it yet
            } catch (Throwable e) {
                if (failure == null) failure = e;
                else failure.addSuppressed(e);
            }
        }
        if (failure instanceof RuntimeException e) throw e;
        if (failure instanceof Error e) throw e;
        if (failure != null) throw new IllegalStateException(failure);
    }
}
