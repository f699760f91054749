package dev.ltm.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;

/**
 * Storage recycling for a loop whose every iteration builds the same tensors and drops them all, as a fast fit's
 * steps do (once a step's gradients are taken, its whole graph is dead). Inside a {@link #scope()}, the CPU
 * backend takes the arrays of its large results from this arena instead of from the JVM; when the scope
 * closes, every tensor made in it is released and its array goes back, to serve the next iteration's tensors
 * of the same length.
 *
 * <p>Why: a new array of a few MiB is memory that no cache holds, and the JVM zeroes all of it on the calling
 * thread before the op can start, while the pool's other threads wait. On the Intel AVX-512 host of 2026-12-07,
 * a 2048 x 256 x 256 product on two threads ran at 228-265 GFLOP/s into a reused output, 169-192 into a new
 * array each call, 181-194 into a recycled one that was first filled with zeros, and 207-241 into recycled
 * ones taken round a pool of 64 (128 MiB, cold, but not zeroed). A recycled array is handed out as it was
 * left, so only results that write every element take one uninitialised ({@link Tensor#output}); those that
 * add into their storage take it zeroed ({@link Tensor#zeroed}).
 *
 * <p>The rule: nothing made inside a scope may be used after the scope closes, and results that must outlive
 * it are copies ({@link Tensor#copy()} always takes a JVM array). A released tensor throws on use, so a
 * breach fails loudly instead of reading another iteration's values. An arena serves one thread at a time
 * (another may take it over once every scope of the first has closed); scopes nest, per thread, like
 * {@code NoGrad}. The system property {@code ltm.arena}, read when an arena opens, selects its {@link Mode}:
 * {@code true} (the default), {@code false}, or {@code check}, which the test suites run under.
 */
public final class TensorArena implements AutoCloseable {
    /** What an arena recycles. */
    enum Mode {
        /** Nothing: scopes leave every result to the JVM (for comparisons, and for users who want it off). */
        OFF,
        /** Results of at least {@link #MIN_LENGTH} elements. */
        ON,
        /**
         * Every result, whatever its size, and each released array is filled with NaN before it is handed out
         * again, so that a kernel that reads an element of its result before writing it changes the results,
         * and a tensor used past its scope throws even in a tiny model.
         */
        CHECK
    }

    /**
     * Shorter arrays come from the JVM as usual (outside {@link Mode#CHECK}): below 4 KiB a bump in the thread's allocation
     * buffer and its zeroing cost about what a look-up in the free lists does. At {@code bench scaling}'s small base (H = 64,
     * N = 64, B = 2: results of 8 Ki floats) recycling from 1 Ki floats up took a fit from 6.4-6.7 to 5.5-5.8 ms, against
     * none recycled from 16 Ki up; from 0 up it was no faster than from 1 Ki.
     */
    static final int MIN_LENGTH = 1 << 10;
    /** The innermost open scope of the calling thread, or null. */
    private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();

    private final Mode mode;
    /** Released arrays by length, the last released on top (it is the likeliest still to be in a cache). */
    private final HashMap<Integer, ArrayDeque<float[]>> free = new HashMap<>();
    /** The thread whose scopes are open, and how many of them are (guarded by this). */
    private Thread user;
    private int openScopes;
    private boolean closed;

    private TensorArena(Mode mode) { this.mode = mode; }

    /** A new arena, in the mode of the system property {@code ltm.arena} (true, false or check). */
    public static TensorArena open() {
        String p = System.getProperty("ltm.arena", "true");
        return open(switch (p) {
            case "true" -> Mode.ON;
            case "false" -> Mode.OFF;
            case "check" -> Mode.CHECK;
            default -> throw new IllegalArgumentException("ltm.arena=" + p + ": expected true, false or check");
        });
    }

    /** A new arena in {@code mode}. */
    static TensorArena open(Mode mode) { return new TensorArena(mode); }

    /**
     * Starts a scope on the calling thread: until it closes, large CPU results are made from this arena's arrays, and at
     * its close all of them are released. Use with try-with-resources. Refused while another thread has a scope open.
     */
    public Scope scope() {
        Thread me = Thread.currentThread();
        synchronized (this) {
            if (closed) throw new IllegalStateException("TensorArena: scope() after close()");
            if (openScopes > 0 && user != me) {
                throw new IllegalStateException("TensorArena: scope() on " + me.getName() + " while " + user.getName()
                        + " has one open (an arena serves one thread at a time)");
            }
            user = me;
            openScopes++;
        }
        return new Scope();
    }

    /**
     * Drops the free arrays (the garbage collector takes them); scopes still open on the calling thread keep their
     * tensors until they close, and their arrays are dropped then.
     */
    @Override public synchronized void close() {
        if (openScopes > 0 && user != Thread.currentThread()) {
            throw new IllegalStateException("TensorArena: close() on " + Thread.currentThread().getName() + " while "
                    + user.getName() + " has a scope open");
        }
        closed = true;
        free.clear();
    }

    /** One iteration's tensors: made from the arena's arrays while this is the thread's innermost scope, released at close. */
    public final class Scope implements AutoCloseable {
        private final Scope outer = CURRENT.get();
        private final ArrayList<Tensor> made = new ArrayList<>();
        private boolean open = true;

        private Scope() {
            if (mode != Mode.OFF) CURRENT.set(this);
        }

        /** Releases every tensor made in this scope and gives its array back to the arena. */
        @Override public void close() {
            if (!open) return;
            open = false;
            if (mode != Mode.OFF) CURRENT.set(outer);
            for (Tensor t : made) {
                float[] a = t.release();
                if (mode == Mode.CHECK) Arrays.fill(a, Float.NaN);
                if (!closed) free.computeIfAbsent(a.length, n -> new ArrayDeque<>()).push(a);
            }
            made.clear();
            synchronized (TensorArena.this) {
                openScopes--; // after the arrays went back: whoever takes the arena over next sees them
            }
        }

        private TensorArena arena() { return TensorArena.this; }

        /** A tensor of {@code shape} on an array of the arena, zero-filled or as it was released. */
        Tensor make(Shape shape, boolean zeroed) {
            ArrayDeque<float[]> list = free.get(shape.size());
            float[] a = list == null ? null : list.poll();
            if (a == null) a = new float[shape.size()];
            else if (zeroed) Arrays.fill(a, 0f);
            Tensor t = Tensor.of(a, shape);
            made.add(t);
            return t;
        }
    }

    /** The calling thread's scope that a new CPU result of {@code length} elements should come from, or null for the JVM. */
    static Scope scopeFor(int length) {
        Scope s = CURRENT.get();
        return s == null || (length < MIN_LENGTH && s.arena().mode != Mode.CHECK) ? null : s;
    }
}
