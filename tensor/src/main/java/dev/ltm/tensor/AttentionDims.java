package dev.ltm.tensor;

/**
 * The sizes and mask of one attention call, validated once here for every backend and kernel:
 * q [batch, tq, heads, headDim], k and v [batch, tk, kvHeads, headDim], lse [batch, heads, tq];
 * query head h reads kv head h / (heads / kvHeads). A causal mask needs tq == tk.
 */
public record AttentionDims(int batch, int tq, int tk, int heads, int kvHeads, int headDim, AttentionMask mask) {

    /** Validates the sizes, the grouping of heads and the mask's rule. */
    public AttentionDims {
        String sizes = describe(batch, tq, tk, heads, kvHeads, headDim, mask);
        if (mask == null) throw new IllegalArgumentException("attention: mask is null" + sizes);
        if (batch < 0 || tq < 0 || tk < 0) throw new IllegalArgumentException("attention: negative size" + sizes);
        if (heads < 1 || kvHeads < 1 || headDim < 1) {
            throw new IllegalArgumentException("attention: heads, kvHeads and headDim must be >= 1" + sizes);
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("attention: nHeads " + heads + " is not a multiple of nKvHeads " + kvHeads + sizes);
        }
        if (mask instanceof AttentionMask.Causal && tq != tk) {
            throw new IllegalArgumentException("attention: a causal window needs tq == tk, got tq " + tq + " and tk " + tk + sizes);
        }
        if ((long) batch * tq * heads * headDim > Integer.MAX_VALUE || (long) batch * tk * kvHeads * headDim > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("attention: sizes overflow a Java array" + sizes);
        }
    }

    /** The sizes of q [B, Tq, nH, hd] against k and v [B, Tk, nKv, hd]; refuses shapes that do not fit together. */
    public static AttentionDims of(Shape q, Shape k, Shape v, AttentionMask mask) {
        if (q.rank() != 4 || k.rank() != 4 || !k.equals(v) || q.dim(0) != k.dim(0) || q.dim(3) != k.dim(3)
                || k.dim(2) == 0 || q.dim(2) % k.dim(2) != 0) {
            throw new IllegalArgumentException("attention: q " + q + ", k " + k + ", v " + v
                    + ": expected [B, Tq, nH, hd] and [B, Tk, nKv, hd] with nKv dividing nH");
        }
        if (mask instanceof AttentionMask.Causal && q.dim(1) != k.dim(1)) {
            throw new IllegalArgumentException("attention: mask " + mask + " with q " + q + " and k " + k
                    + ": a causal window needs as many keys as queries");
        }
        return new AttentionDims(q.dim(0), q.dim(1), k.dim(1), q.dim(2), k.dim(2), q.dim(3), mask);
    }

    /** Elements of q, out and dq. */
    public long qSize() { return (long) batch * tq * heads * headDim; }

    /** Elements of k, v, dk and dv. */
    public long kvSize() { return (long) batch * tk * kvHeads * headDim; }

    /** Elements of lse. */
    public long lseSize() { return (long) batch * heads * tq; }

    /** The shape of lse, [batch, heads, tq]. */
    public Shape lseShape() { return Shape.of(batch, heads, tq); }

    /**
     * The mask as the kernels encode it in their hot loops: the causal window, or 0 for no mask.
     * Only kernels read it; everything above them passes the {@link AttentionMask}.
     */
    public int kernelWindow() { return mask instanceof AttentionMask.Causal c ? c.window() : 0; }

    @Override public String toString() { return describe(batch, tq, tk, heads, kvHeads, headDim, mask); }

    private static String describe(int batch, int tq, int tk, int heads, int kvHeads, int headDim, AttentionMask mask) {
        return " (batch " + batch + ", tq " + tq + ", tk " + tk + ", nHeads " + heads + ", nKvHeads " + kvHeads
                + ", headDim " + headDim + ", mask " + mask + ")";
    }
}
