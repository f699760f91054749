package dev.ltm.web;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One model's computations, run one at a time on a thread of their own: the library makes no
 * promise that one model may run two computations at once, so every generation, fit and probe of a
 * model goes through here. At most {@code queue} requests wait behind the running one; one more is
 * refused at once (HTTP 503) rather than left to pile up.
 */
final class ModelWorker implements AutoCloseable {
    private final String name;
    private final int queue;
    private final ThreadPoolExecutor executor;

    ModelWorker(String name, int queue) {
        if (queue < 0) throw new IllegalArgumentException("serve: queue " + queue + " must be >= 0");
        this.name = name;
        this.queue = queue;
        BlockingQueue<Runnable> waiting = queue == 0 ? new SynchronousQueue<>() : new ArrayBlockingQueue<>(queue);
        this.executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, waiting, r -> {
            Thread t = new Thread(r, "ltm-web " + name);
            t.setDaemon(true);
            return t;
        });
    }

    /** Runs {@code task} after the computations already queued and returns its result; a full queue is a 503. */
    <T> T call(Callable<T> task) {
        Future<T> future;
        try {
            future = executor.submit(task);
        } catch (RejectedExecutionException e) {
            throw new ApiException(503, "the " + name + " model is busy: one computation runs and " + queue
                    + " wait; try again in a moment");
        }
        try {
            return future.get();
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new ApiException(503, "the server is stopping");
        } catch (ExecutionException e) {
            // The task's own exception, so that bad input found inside the library still answers 400.
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) throw r;
            if (cause instanceof Error err) throw err;
            throw new IllegalStateException(cause);
        }
    }

    /** Computations waiting behind the running one. */
    int waiting() { return executor.getQueue().size(); }

    @Override public void close() { executor.shutdownNow(); }
}
