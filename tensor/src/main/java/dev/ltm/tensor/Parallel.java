package dev.ltm.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * The CPU backend's thread pool: the one piece of static mutable state in the engine.
 * Its size is the system property {@code ltm.threads}, default the number of available cores.
 */
public final class Parallel {
    private static final int THREADS = Math.max(1,
            Integer.getInteger("ltm.threads", Runtime.getRuntime().availableProcessors()));
    private static final ForkJoinPool POOL = new ForkJoinPool(THREADS);

    private Parallel() {}

    /** Number of worker threads the engine uses. */
    public static int threads() { return THREADS; }

    /** Whether the calling thread is one of the engine pool's workers (a bounded, long-lived set). */
    static boolean inPool() {
        return Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == POOL;
    }

    /**
     * Runs {@code body.accept(i)} for every i in [0, n), split over at most {@code threads()} tasks
     * of contiguous ranges. Runs inline when n is 1 or the pool has one thread.
     */
    public static void forRange(int n, IntConsumer body) {
        forRange(n, THREADS, body);
    }

    /** As {@link #forRange(int, IntConsumer)} with at most {@code maxTasks} tasks (1 means inline). */
    public static void forRange(int n, int maxTasks, IntConsumer body) {
        int tasks = Math.min(Math.min(n, maxTasks), THREADS);
        if (tasks <= 1 || ForkJoinTask.inForkJoinPool()) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        RecursiveAction[] parts = new RecursiveAction[tasks];
        for (int t = 0; t < tasks; t++) {
            int lo = (int) ((long) n * t / tasks), hi = (int) ((long) n * (t + 1) / tasks);
            parts[t] = new RecursiveAction() {
                @Override protected void compute() {
                    for (int i = lo; i < hi; i++) body.accept(i);
                }
            };
        }
        POOL.invoke(new RecursiveAction() {
            @Override protected void compute() { invokeAll(parts); }
        });
    }
}
