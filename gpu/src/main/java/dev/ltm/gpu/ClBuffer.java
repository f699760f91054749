package dev.ltm.gpu;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A device buffer of {@code length} 4-byte elements: float32 for tensors, int32 for ids, targets
 * and positions. Transfers block; {@link #close()} frees the device memory.
 */
public final class ClBuffer implements AutoCloseable {
    private final ClContext ctx;
    private final MemorySegment mem;
    private final long length;
    private boolean closed;

    ClBuffer(ClContext ctx, MemorySegment mem, long length) {
        this.ctx = ctx;
        this.mem = mem;
        this.length = length;
    }

    /** Number of 4-byte elements. */
    public long length() {
        return length;
    }

    MemorySegment mem() {
        if (closed) throw new IllegalStateException("ClBuffer is closed");
        return mem;
    }

    /** Copies all of {@code src} to the start of this buffer. */
    public void upload(float[] src) {
        upload(src, 0, 0, src.length);
    }

    /** Copies {@code count} floats from {@code src[srcOffset..]} to element {@code offset} of this buffer. */
    public void upload(float[] src, int srcOffset, long offset, int count) {
        checkRange("upload", offset, count);
        if (count == 0) return;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(JAVA_FLOAT, count);
            MemorySegment.copy(src, srcOffset, host, JAVA_FLOAT, 0, count);
            ctx.cl.writeBuffer(ctx.queue, mem(), offset * 4, count * 4L, host);
        }
    }

    /** Copies all of {@code src} (ints) to the start of this buffer. */
    public void upload(int[] src) {
        checkRange("upload", 0, src.length);
        if (src.length == 0) return;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(JAVA_INT, src.length);
            MemorySegment.copy(src, 0, host, JAVA_INT, 0, src.length);
            ctx.cl.writeBuffer(ctx.queue, mem(), 0, src.length * 4L, host);
        }
    }

    /** Copies the first {@code dst.length} floats of this buffer into {@code dst}, after all enqueued work. */
    public void download(float[] dst) {
        download(0, dst, 0, dst.length);
    }

    /** Copies {@code count} floats starting at element {@code offset} into {@code dst[dstOffset..]}. */
    public void download(long offset, float[] dst, int dstOffset, int count) {
        checkRange("download", offset, count);
        if (count == 0) return;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(JAVA_FLOAT, count);
            ctx.cl.readBuffer(ctx.queue, mem(), offset * 4, count * 4L, host);
            MemorySegment.copy(host, JAVA_FLOAT, 0, dst, dstOffset, count);
        }
    }

    /** The whole buffer as floats. */
    public float[] toFloats() {
        float[] out = new float[Math.toIntExact(length)];
        download(out);
        return out;
    }

    /** The whole buffer as ints. */
    public int[] toInts() {
        int n = Math.toIntExact(length);
        int[] out = new int[n];
        if (n == 0) return out;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(JAVA_INT, n);
            ctx.cl.readBuffer(ctx.queue, mem(), 0, n * 4L, host);
            MemorySegment.copy(host, JAVA_INT, 0, out, 0, n);
        }
        return out;
    }

    /** Sets every element to {@code value}. */
    public void fill(float value) {
        if (length == 0) return;
        try (Arena arena = Arena.ofConfined()) {
            ctx.cl.fillBuffer(ctx.queue, mem(), arena.allocateFrom(JAVA_FLOAT, value), 4, 0, length * 4);
        }
    }

    /** Copies {@code count} elements from {@code src[srcOffset..]} to {@code this[offset..]} on the device. */
    public void copyFrom(ClBuffer src, long srcOffset, long offset, long count) {
        src.checkRange("copyFrom", srcOffset, count);
        checkRange("copyFrom", offset, count);
        if (count == 0) return;
        ctx.cl.copyBuffer(ctx.queue, src.mem(), mem(), srcOffset * 4, offset * 4, count * 4);
    }

    void checkRange(String op, long offset, long count) {
        if (offset < 0 || count < 0 || offset + count > length) {
            throw new IllegalArgumentException(op + ": range [" + offset + ", " + (offset + count)
                    + ") outside buffer of length " + length);
        }
    }

    /** Frees the device memory (after the commands already enqueued that use it). */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        ctx.forget(this);
        ctx.cl.releaseMemObject(mem);
    }
}
