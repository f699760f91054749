package dev.ltm.gpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An OpenCL context on one device with one in-order, profiling queue and a cache of built programs
 * and kernels. Commands run in the order they are enqueued; downloads block. Not thread-safe:
 * use one context per thread, or guard it.
 */
public final class ClContext implements AutoCloseable {
    /** A kernel argument that reserves {@code bytes} of __local memory. */
    record Local(long bytes) {}

    final OpenCl cl;
    final MemorySegment queue;
    private final ClDevice device;
    private final MemorySegment context;
    private final Map<String, MemorySegment> programs = new HashMap<>();
    private final Map<String, MemorySegment> kernels = new HashMap<>();
    private final Set<ClBuffer> buffers = new LinkedHashSet<>();
    private boolean closed;

    private ClContext(OpenCl cl, ClDevice device) {
        this.cl = cl;
        this.device = device;
        this.context = cl.createContext(device.id());
        MemorySegment q;
        try {
            q = cl.createQueue(context, device.id());
        } catch (RuntimeException e) {
            cl.releaseContext(context);
            throw e;
        }
        this.queue = q;
    }

    /** Opens a context and queue on {@code device}. */
    public static ClContext open(ClDevice device) {
        return new ClContext(OpenClRuntime.bindings(), device);
    }

    /** Opens a context on the first device discovery lists (a GPU when there is one). */
    public static ClContext openDefault() {
        OpenClRuntime.Availability a = OpenClRuntime.available();
        if (!a.present()) throw new IllegalStateException("OpenCL: " + a.reason());
        return open(a.devices().getFirst());
    }

    /** The device this context runs on. */
    public ClDevice device() {
        return device;
    }

    /** A new device buffer of {@code length} floats (or ints), contents undefined. */
    public ClBuffer buffer(long length) {
        if (length < 0) throw new IllegalArgumentException("buffer: negative length " + length);
        // OpenCL refuses zero-byte buffers; an empty ClBuffer still owns one element.
        MemorySegment mem = cl.createBuffer(context, Math.max(1, length) * 4);
        ClBuffer b = new ClBuffer(this, mem, length);
        buffers.add(b);
        return b;
    }

    /** A new device buffer holding a copy of {@code data}. */
    public ClBuffer buffer(float[] data) {
        ClBuffer b = buffer(data.length);
        b.upload(data);
        return b;
    }

    /** A new device buffer holding a copy of the ints {@code data} (token ids, targets, positions). */
    public ClBuffer buffer(int[] data) {
        ClBuffer b = buffer(data.length);
        b.upload(data);
        return b;
    }

    /** Blocks until every enqueued command has finished. */
    public void finish() {
        cl.finish(queue);
    }

    void forget(ClBuffer b) {
        buffers.remove(b);
    }

    /**
     * Enqueues {@code kernel} from resource {@code program} built with {@code options}; the global
     * size is rounded up to a multiple of the local size, so kernels must bounds-check. Arguments are
     * ClBuffer (null for a NULL buffer), Integer, Float, int[] (an intN vector such as int8) or {@link Local}. Returns the device time in
     * nanoseconds when {@code timed} (waiting for the kernel), else 0.
     */
    long launch(String program, String options, String kernel, long[] global, long[] local, boolean timed,
                Object... args) {
        if (closed) throw new IllegalStateException("ClContext is closed");
        MemorySegment k = kernel(program, options, kernel);
        try (Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < args.length; i++) {
                Object a = args[i];
                switch (a) {
                    case null -> {
                        MemorySegment v = arena.allocate(ADDRESS);
                        v.set(ADDRESS, 0, MemorySegment.NULL);
                        cl.setKernelArg(k, i, ADDRESS.byteSize(), v, kernel);
                    }
                    case ClBuffer b -> {
                        MemorySegment v = arena.allocate(ADDRESS);
                        v.set(ADDRESS, 0, b.mem());
                        cl.setKernelArg(k, i, ADDRESS.byteSize(), v, kernel);
                    }
                    case Integer n -> cl.setKernelArg(k, i, 4, arena.allocateFrom(JAVA_INT, n), kernel);
                    case Float f -> cl.setKernelArg(k, i, 4, arena.allocateFrom(JAVA_FLOAT, f), kernel);
                    case int[] v -> cl.setKernelArg(k, i, 4L * v.length, arena.allocateFrom(JAVA_INT, v), kernel);
                    case Local l -> cl.setKernelArg(k, i, l.bytes(), MemorySegment.NULL, kernel);
                    default -> throw new IllegalArgumentException(kernel + ": unsupported argument " + a.getClass());
                }
            }
            int dims = global.length;
            MemorySegment g = arena.allocate(JAVA_LONG, dims);
            MemorySegment l = arena.allocate(JAVA_LONG, dims);
            for (int d = 0; d < dims; d++) {
                if (global[d] <= 0) return 0; // nothing to do
                long ls = local[d];
                g.setAtIndex(JAVA_LONG, d, (global[d] + ls - 1) / ls * ls);
                l.setAtIndex(JAVA_LONG, d, ls);
            }
            MemorySegment event = timed ? arena.allocate(ADDRESS) : MemorySegment.NULL;
            cl.enqueueKernel(queue, k, dims, g, l, event, kernel);
            if (!timed) return 0;
            MemorySegment e = event.get(ADDRESS, 0);
            try {
                return cl.waitAndTime(e);
            } finally {
                cl.releaseEvent(e);
            }
        }
    }

    private MemorySegment kernel(String program, String options, String name) {
        String key = program + "|" + options + "|" + name;
        MemorySegment k = kernels.get(key);
        if (k == null) {
            k = cl.createKernel(program(program, options), name);
            kernels.put(key, k);
        }
        return k;
    }

    private MemorySegment program(String resource, String options) {
        String key = resource + "|" + options;
        MemorySegment p = programs.get(key);
        if (p == null) {
            p = cl.buildProgram(context, device.id(), resource, source(resource), options);
            programs.put(key, p);
        }
        return p;
    }

    private static String source(String resource) {
        try (InputStream in = ClContext.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("OpenCL kernel resource missing: " + resource);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource, e);
        }
    }

    /** Releases the buffers still open, the kernels, programs, queue and context. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        cl.finish(queue);
        for (ClBuffer b : List.copyOf(buffers)) b.close();
        List<MemorySegment> ks = new ArrayList<>(kernels.values());
        for (MemorySegment k : ks) cl.releaseKernel(k);
        for (MemorySegment p : programs.values()) cl.releaseProgram(p);
        kernels.clear();
        programs.clear();
        cl.releaseQueue(queue);
        cl.releaseContext(context);
    }
}
