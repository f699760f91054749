package dev.ltm.tensor;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The CPU backend's thread pool: the one piece of static mutable state in the engine, with the
 * per-thread scratch its kernels keep (Gemm's packing buffers). Its size is the system property
 * {@code ltm.threads}, default the number of available cores: the calling thread and
 * {@code ltm.threads - 1} daemon workers.
 *
 * <p>Workers wait for the next call by spinning for {@link #SPIN_NANOS}, then park; the caller waits
 * for the workers' ranges by spinning the same way. On the virtual machines this runs on, waking a
 * parked thread took 40-100 us (the idle vCPU has to be woken by the hypervisor), longer than most
 * of a training step's ops: with a {@link java.util.concurrent.ForkJoinPool}, whose workers and joining caller both park,
 * a call of two 20 us ranges took 94-133 us.
 */
public final class Parallel {
    private static final int THREADS = Math.max(1,
            Integer.getInteger("ltm.threads", Runtime.getRuntime().availableProcessors()));
    /**
     * How long an idle worker, or a caller waiting on a worker, spins before it parks. Between the ops of
     * a training step the calling thread runs for microseconds to a few hundred (autograd, small ops).
     * With more threads than cores, spinning threads would take cores from working ones, so none spins.
     */
    static final long SPIN_NANOS = THREADS <= Runtime.getRuntime().availableProcessors() ? 200_000 : 0;
    /** Spins between two reads of the clock (a read cost about as much as 10 spins, and 10% of a profile's samples). */
    private static final int SPINS_PER_CLOCK = 64;

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
        return Thread.currentThread() instanceof Worker;
    }

    /**
     * Whether a {@link #forChunks} call made now on this thread would run all its tasks here, in order: from inside a
     * task of the pool (a fit's sub-batch runs its ops so), or while another call is in flight. A caller that would
     * split work only to share it out can then keep it whole.
     */
    public static boolean runsInline() {
        return THREADS == 1 || inPool() || BUSY.get();
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

    /** As {@link #forRange(int, IntConsumer)} with at most {@code maxTasks} tasks (1 means inline); see {@link #forChunks}. */
    public static void forRange(int n, int maxTasks, IntConsumer body) {
        forChunks(n, maxTasks, (lo, hi) -> {
            for (int i = lo; i < hi; i++) body.accept(i);
        });
    }

    /** A contiguous range [lo, hi) of a {@link #forChunks} call. */
    public interface Chunk { void run(int lo, int hi); }

    /**
     * Splits [0, n) into at most {@code maxTasks} (and {@code threads()}) tasks and runs {@code body} once per
     * task: task t gets [n t / tasks, n (t+1) / tasks). The calling thread runs task 0, then claims the tasks no
     * worker has claimed yet, then waits for the rest. Which task runs on which thread never changes what is
     * computed. One call is in flight at a time: a call made while another runs (from inside a task, or from
     * another thread) runs its tasks inline on its caller, in order, with the same bounds.
     */
    public static void forChunks(int n, int maxTasks, Chunk body) {
        int tasks = Math.max(1, Math.min(Math.min(n, maxTasks), THREADS));
        if (tasks == 1 || inPool() || !BUSY.compareAndSet(false, true)) {
            for (int t = 0; t < tasks; t++) body.run(chunkStart(n, t, tasks), chunkStart(n, t + 1, tasks));
            return;
        }
        try {
            Job job = new Job(n, tasks, body, Thread.currentThread());
            current = job;
            long s = published + 1;
            published = s; // volatile write after current: a worker that sees s sees this job
            for (int w = 0; w < tasks - 1; w++) if (WORKERS[w].parked) LockSupport.unpark(WORKERS[w]); // the others may sleep on
            job.run(0);
            job.claimAll();
            job.awaitWorkers();
            job.rethrow();
        } finally {
            current = null;
            BUSY.set(false);
        }
    }

    private static int chunkStart(int n, int t, int tasks) { return (int) ((long) n * t / tasks); }

    /** Whether a wait begun at {@code start} that has spun {@code spins} times should spin on rather than park. */
    private static boolean stillSpinning(int spins, long start) {
        return spins % SPINS_PER_CLOCK != 0 || System.nanoTime() - start < SPIN_NANOS;
    }

    private static final AtomicBoolean BUSY = new AtomicBoolean();
    /** The call in flight (null when none) and the count of calls published so far. */
    private static volatile Job current;
    private static volatile long published;
    private static final Worker[] WORKERS = new Worker[THREADS - 1];
    static {
        for (int i = 0; i < WORKERS.length; i++) {
            WORKERS[i] = new Worker(i + 1);
            WORKERS[i].start();
        }
    }

    /** One call of {@link #forChunks}: its tasks, which are claimed, and how many claimed by workers have finished. */
    private static final class Job {
        final int n, tasks;
        final Chunk body;
        final Thread caller;
        /** The next task to claim; task 0 is the caller's. */
        final AtomicInteger next = new AtomicInteger(1);
        /** Tasks 1.. that have finished, by whichever thread ran them. */
        final AtomicInteger finished = new AtomicInteger();
        volatile boolean callerParked;
        private Throwable failure; // guarded by this

        Job(int n, int tasks, Chunk body, Thread caller) {
            this.n = n;
            this.tasks = tasks;
            this.body = body;
            this.caller = caller;
        }

        void run(int t) {
            try {
                body.run(chunkStart(n, t, tasks), chunkStart(n, t + 1, tasks));
            } catch (Throwable e) {
                synchronized (this) {
                    if (failure == null) failure = e;
                    else failure.addSuppressed(e);
                }
            }
        }

        /** Runs every task still unclaimed, counting each as finished. */
        void claimAll() {
            for (int t; (t = next.getAndIncrement()) < tasks; ) {
                run(t);
                if (finished.incrementAndGet() == tasks - 1 && callerParked) LockSupport.unpark(caller);
            }
        }

        /** The caller waits until tasks 1.. have all finished: it spins, then parks until the last one unparks it. */
        void awaitWorkers() {
            long start = System.nanoTime();
            for (int spins = 0; finished.get() < tasks - 1; spins++) {
                if (stillSpinning(spins, start)) {
                    Thread.onSpinWait();
                } else {
                    callerParked = true;
                    if (finished.get() < tasks - 1) LockSupport.park(this);
                }
            }
        }

        synchronized void rethrow() {
            if (failure instanceof RuntimeException e) throw e;
            if (failure instanceof Error e) throw e;
            if (failure != null) throw new IllegalStateException(failure);
        }
    }

    /** A pool thread: runs the tasks it claims of each published call, spinning between calls, then parking. */
    private static final class Worker extends Thread {
        volatile boolean parked;

        Worker(int index) {
            super("ltm-worker-" + index);
            setDaemon(true);
        }

        @Override public void run() {
            long seen = 0;
            while (true) {
                long start = System.nanoTime();
                for (int spins = 0; published == seen; spins++) {
                    if (stillSpinning(spins, start)) {
                        Thread.onSpinWait();
                    } else {
                        parked = true; // volatile write, then re-read published: the caller unparks or we see its call
                        if (published == seen) LockSupport.park(this);
                        parked = false;
                    }
                }
                seen = published;
                Job job = current;
                if (job != null) job.claimAll();
            }
        }
    }
}
