package dev.ltm.gpu;

/**
 * Matrix multiply on the device: C = (accumulate ? C : 0) + op(A) op(B), row-major float32, with
 * op(A) [m, k] (A stored [k, m] when transA) and op(B) [k, n] (B stored [n, k] when transB).
 * The kernel (gemm.cl) tiles 64x64 outputs per work group through local memory.
 */
public final class ClGemm {
    static final String PROGRAM = "gemm.cl";
    private static final long[] LOCAL = {16, 16, 1};
    private static final int TILE = 64;

    private final ClContext ctx;

    /** Kernels for {@code ctx}; the program is built on first use and cached by the context. */
    public ClGemm(ClContext ctx) {
        this.ctx = ctx;
    }

    /** C[cOffset..] = (accumulate ? C : 0) + op(A[aOffset..]) op(B[bOffset..]); shapes as in the class doc. */
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, ClBuffer a, int aOffset, ClBuffer b,
                      int bOffset, ClBuffer c, int cOffset, boolean accumulate) {
        sgemmBatched(1, transA, transB, m, n, k, a, aOffset, 0, b, bOffset, 0, c, cOffset, 0, accumulate);
    }

    /**
     * {@code batch} independent products; product i reads A at {@code aOffset + i * aStride} (and so on
     * for B and C). A stride of 0 shares that operand across the batch.
     */
    public void sgemmBatched(int batch, boolean transA, boolean transB, int m, int n, int k,
                             ClBuffer a, int aOffset, int aStride, ClBuffer b, int bOffset, int bStride,
                             ClBuffer c, int cOffset, int cStride, boolean accumulate) {
        run(false, batch, transA, transB, m, n, k, a, aOffset, aStride, b, bOffset, bStride, c, cOffset, cStride,
                accumulate);
    }

    /** One timed sgemm: waits for it and returns the device time in nanoseconds from the queue's events. */
    long sgemmNanos(int m, int n, int k, ClBuffer a, ClBuffer b, ClBuffer c) {
        return run(true, 1, false, false, m, n, k, a, 0, 0, b, 0, 0, c, 0, 0, false);
    }

    private long run(boolean timed, int batch, boolean transA, boolean transB, int m, int n, int k,
                     ClBuffer a, int aOffset, int aStride, ClBuffer b, int bOffset, int bStride,
                     ClBuffer c, int cOffset, int cStride, boolean accumulate) {
        if (m < 0 || n < 0 || k < 0 || batch < 1) {
            throw new IllegalArgumentException("sgemm: bad sizes m=%d n=%d k=%d batch=%d".formatted(m, n, k, batch));
        }
        check("A", a, aOffset, aStride, batch, (long) m * k, m, n, k);
        check("B", b, bOffset, bStride, batch, (long) k * n, m, n, k);
        check("C", c, cOffset, cStride, batch, (long) m * n, m, n, k);
        long[] global = {ceil(n, TILE) / TILE * 16L, ceil(m, TILE) / TILE * 16L, batch};
        return ctx.launch(PROGRAM, "", "sgemm", global, LOCAL, timed,
                transA ? 1 : 0, transB ? 1 : 0, m, n, k, a, aOffset, aStride, b, bOffset, bStride,
                c, cOffset, cStride, accumulate ? 1 : 0);
    }

    /** The one-output-per-item kernel of gemm.cl, kept as the on-device reference for the tiled one. */
    void sgemmNaive(boolean transA, boolean transB, int m, int n, int k, ClBuffer a, int aOffset, ClBuffer b,
                    int bOffset, ClBuffer c, int cOffset, boolean accumulate) {
        check("A", a, aOffset, 0, 1, (long) m * k, m, n, k);
        check("B", b, bOffset, 0, 1, (long) k * n, m, n, k);
        check("C", c, cOffset, 0, 1, (long) m * n, m, n, k);
        ctx.launch(PROGRAM, "", "sgemm_naive", new long[] {n, m}, new long[] {8, 8}, false,
                transA ? 1 : 0, transB ? 1 : 0, m, n, k, a, aOffset, b, bOffset, c, cOffset, accumulate ? 1 : 0);
    }

    private static long ceil(long x, long tile) {
        return (x + tile - 1) / tile * tile;
    }

    private static void check(String name, ClBuffer buf, int offset, int stride, int batch, long size,
                              int m, int n, int k) {
        long end = offset + (long) (batch - 1) * stride + size;
        if (offset < 0 || stride < 0 || end > buf.length()) {
            throw new IllegalArgumentException("sgemm m=%d n=%d k=%d batch=%d: %s needs elements [%d, %d) but has %d"
                    .formatted(m, n, k, batch, name, offset, end, buf.length()));
        }
    }
}
