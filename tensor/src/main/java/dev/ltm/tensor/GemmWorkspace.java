package dev.ltm.tensor;

/**
 * Gemm's packing buffers for one thread at a time: the packed A block, the packed B panel and an
 * MR x NR edge tile. Packing writes every element the kernel reads, padding included, so stale
 * contents are never seen. {@link Parallel} owns the kept instances.
 */
final class GemmWorkspace {
    private float[] pa = new float[0], pb = new float[0];
    final float[] edge = new float[Gemm.MR * Gemm.NR];

    float[] pa(int size) { return pa.length >= size ? pa : (pa = new float[size]); }

    float[] pb(int size) { return pb.length >= size ? pb : (pb = new float[size]); }
}
