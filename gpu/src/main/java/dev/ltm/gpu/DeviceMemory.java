package dev.ltm.gpu;

import dev.ltm.tensor.Backend;
import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;
import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The device memory of one {@link OpenClBackend}: each tensor's device copy ({@link Tensor#attachDevice}),
 * uploaded only when missing or stale; buffers of garbage-collected tensors (tracked by phantom
 * references) recycled through a bounded pool, with a garbage collection forced when the live bytes
 * run high; int arrays cached by content; and the host/device transfer counters. Not thread-safe:
 * the backend calls it under its lock, and fetches buffers only inside {@link #op}.
 */
final class DeviceMemory {
    /** The device copy of one tensor's storage (shared by its views); its buffer is recycled with it. */
    static final class DeviceArray {
        final ClBuffer buf;

        DeviceArray(ClBuffer buf) { this.buf = buf; }
    }

    /** Tracks a DeviceArray so that its buffer returns to the pool once the tensors using it are gone. */
    private static final class Tracked extends PhantomReference<DeviceArray> {
        final ClBuffer buf;

        Tracked(DeviceArray a, ReferenceQueue<DeviceArray> q) {
            super(a, q);
            this.buf = a.buf;
        }
    }

    /** A cached int array (ids, targets, positions), compared by content. */
    private record IntKey(int[] values) {
        @Override public boolean equals(Object o) { return o instanceof IntKey k && Arrays.equals(values, k.values); }
        @Override public int hashCode() { return Arrays.hashCode(values); }
    }

    private static final int INT_CACHE = 64;
    private static final long POOL_LIMIT_BYTES = 256L << 20;

    private final ClContext ctx;
    private final Backend owner;
    private final ReferenceQueue<DeviceArray> released = new ReferenceQueue<>();
    private final Set<Tracked> tracked = new HashSet<>();
    private final Map<Long, ArrayDeque<ClBuffer>> pool = new HashMap<>();
    private final LinkedHashMap<IntKey, ClBuffer> intBuffers = new LinkedHashMap<>(16, 0.75f, true);
    private final long gcBudgetBytes;
    private long gcThresholdBytes;
    private long liveBytes;
    private long pooledBytes;
    private long uploads, downloads, uploadBytes, downloadBytes;
    private int opDepth;

    DeviceMemory(ClContext ctx, Backend owner) {
        this.ctx = ctx;
        this.owner = owner;
        this.gcBudgetBytes = Math.max(64L << 20, ctx.device().globalMemBytes() / 4);
        this.gcThresholdBytes = gcBudgetBytes;
    }

    /**
     * Runs one backend op. The outermost op first returns the buffers of collected tensors to the pool,
     * and only then may fetch buffers: an argument whose buffer was fetched may become unreachable within
     * the op, and its buffer must not come back as one of the same op's outputs. An op that calls another
     * (sumTo calls copy) does not reclaim again.
     */
    <T> T op(Supplier<T> body) {
        if (opDepth == 0) reclaim();
        opDepth++;
        try {
            return body.get();
        } finally {
            opDepth--;
        }
    }

    /** Host/device copies made so far. */
    OpenClBackend.Transfers transfers() { return new OpenClBackend.Transfers(uploads, downloads, uploadBytes, downloadBytes); }

    /** Copies the device storage {@code device} into {@code host} (a tensor's host copy is stale). */
    void download(Object device, float[] host) {
        ((DeviceArray) device).buf.download(host);
        downloads++;
        downloadBytes += 4L * host.length;
    }

    /** The current device buffer of {@code t}, uploading the host copy when the device copy is missing or stale. */
    ClBuffer in(String op, Tensor t) {
        checkOwned(op, t);
        if (t.deviceCurrent()) return ((DeviceArray) t.deviceStorage()).buf;
        float[] host = t.read();
        DeviceArray d = t.deviceStorage() instanceof DeviceArray old ? old : newArray(host.length);
        d.buf.upload(host);
        uploads++;
        uploadBytes += 4L * host.length;
        t.attachDevice(d, false);
        return d.buf;
    }

    /** The device buffer of {@code t} for a kernel that updates it in place: current now, host stale after. */
    ClBuffer inOut(String op, Tensor t) {
        ClBuffer b = in(op, t);
        t.attachDevice(t.deviceStorage(), true);
        return b;
    }

    /** A device buffer for a kernel that overwrites all of {@code t}: nothing is uploaded; host stale after. */
    ClBuffer overwrite(String op, Tensor t) {
        checkOwned(op, t);
        DeviceArray d = t.deviceStorage() instanceof DeviceArray old ? old : newArray(t.size());
        t.attachDevice(d, true);
        return d.buf;
    }

    /** A new device-born tensor (contents undefined until a kernel writes it). */
    Tensor out(Shape shape) {
        checkInOp();
        return Tensor.onDevice(owner, shape, newArray(shape.size()));
    }

    /** The buffer of a tensor made by {@link #out}. */
    static ClBuffer buf(Tensor deviceBorn) { return ((DeviceArray) deviceBorn.deviceStorage()).buf; }

    /** ids, targets or positions on the device, cached by content. */
    ClBuffer ints(int[] values) {
        ClBuffer b = intBuffers.get(new IntKey(values));
        if (b != null) return b;
        b = ctx.buffer(values.length);
        b.upload(values);
        uploads++;
        uploadBytes += 4L * values.length;
        intBuffers.put(new IntKey(values.clone()), b);
        if (intBuffers.size() > INT_CACHE) {
            var eldest = intBuffers.entrySet().iterator();
            eldest.next().getValue().close(); // freed after the kernels already enqueued that read it
            eldest.remove();
        }
        return b;
    }

    /** A host array uploaded into a buffer outside the pool (closed by the caller). */
    ClBuffer scratch(float[] values) {
        ClBuffer b = ctx.buffer(values.length);
        b.upload(values);
        uploads++;
        uploadBytes += 4L * values.length;
        return b;
    }

    private void checkOwned(String op, Tensor t) {
        checkInOp();
        if (t.backend() != owner) {
            throw new IllegalArgumentException(owner.name() + " " + op + ": tensor " + t.shape() + " is on backend " + t.backend().name());
        }
    }

    private void checkInOp() {
        if (opDepth == 0) throw new IllegalStateException(owner.name() + ": device buffers are fetched only inside DeviceMemory.op");
    }

    /** A buffer of n floats from the pool or the device; collects garbage first when the live bytes run high. */
    private DeviceArray newArray(long n) {
        long bytes = 4 * Math.max(1, n);
        ClBuffer b = take(n);
        if (b == null) {
            if (liveBytes + bytes > gcThresholdBytes) {
                collectGarbage();
                b = take(n);
            }
            if (b == null) b = ctx.buffer(n);
        }
        liveBytes += bytes;
        DeviceArray d = new DeviceArray(b);
        tracked.add(new Tracked(d, released));
        return d;
    }

    private ClBuffer take(long n) {
        ArrayDeque<ClBuffer> q = pool.get(n);
        if (q == null || q.isEmpty()) return null;
        pooledBytes -= 4 * Math.max(1, n);
        return q.pop();
    }

    /** Returns the buffers of collected tensors to the pool (or frees them when the pool is full). */
    private void reclaim() {
        for (var r = released.poll(); r != null; r = released.poll()) {
            Tracked t = (Tracked) r;
            tracked.remove(t);
            long bytes = 4 * Math.max(1, t.buf.length());
            liveBytes -= bytes;
            if (pooledBytes + bytes <= POOL_LIMIT_BYTES) {
                pool.computeIfAbsent(t.buf.length(), k -> new ArrayDeque<>()).push(t.buf);
                pooledBytes += bytes;
            } else {
                t.buf.close();
            }
        }
    }

    /** Frees the pool, runs the garbage collector and reclaims what it released; raises the threshold if little was. */
    private void collectGarbage() {
        for (ArrayDeque<ClBuffer> q : pool.values()) for (ClBuffer b : q) b.close();
        pool.clear();
        pooledBytes = 0;
        System.gc();
        try {
            for (var r = released.remove(100); r != null; r = released.remove(20)) {
                Tracked t = (Tracked) r;
                tracked.remove(t);
                liveBytes -= 4 * Math.max(1, t.buf.length());
                t.buf.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        gcThresholdBytes = Math.max(gcBudgetBytes, 2 * liveBytes);
    }
}
