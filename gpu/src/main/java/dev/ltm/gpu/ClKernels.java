package dev.ltm.gpu;

/**
 * The engine's non-matmul ops on device buffers, row-major float32, each matching the CPU
 * semantics: elementwise with broadcasting, RMSNorm, cross-entropy, reductions, RoPE, AdamW and
 * embeddings: the ones {@link OpenClBackend} launches, nothing else. Kernels live in the .cl resources named beside each group.
 */
public final class ClKernels {
    private static final String ELEMENTWISE = "elementwise.cl";
    private static final String ROWS = "rows.cl";
    private static final String ROPE = "rope.cl";
    private static final String ADAMW = "adamw.cl";
    private static final String EMBEDDING = "embedding.cl";
    private static final String LAYOUT = "layout.cl";
    /** Largest rank of the strided ops (their shapes are passed as OpenCL int8 vectors). */
    public static final int MAX_RANK = 8;
    private static final long[] ITEMS = {64};
    private static final long[] ROW_GROUP = {128}; // RW in rows.cl
    private static final int PARTIAL_GROUPS = 64;

    /** Binary elementwise operators, in the order of dev.ltm.tensor.BinaryOp. */
    public enum BinaryOp { ADD, SUB, MUL, DIV }

    /** Unary elementwise operators, in the order of dev.ltm.tensor.UnaryOp. */
    public enum UnaryOp { NEG, EXP, LOG, SQRT, SQUARE, SILU, SIGMOID, TANH, ABS }

    private final ClContext ctx;

    /** Kernels for {@code ctx}; programs are built on first use and cached by the context. */
    public ClKernels(ClContext ctx) {
        this.ctx = ctx;
    }

    // ---- elementwise (elementwise.cl) ---------------------------------------------------------

    /** out[i] = a[i] op b[i] over n elements (same shape). */
    public void binary(BinaryOp op, ClBuffer a, ClBuffer b, ClBuffer out, int n) {
        String name = "binary " + op.name().toLowerCase();
        need(name, "a", a, n);
        need(name, "b", b, n);
        need(name, "out", out, n);
        ctx.launch(ELEMENTWISE, "", "binary", new long[] {n}, ITEMS, false, op.ordinal(), n, a, n, 1, b, n, 1, out);
    }

    /**
     * The general NumPy-broadcast form: out is contiguous with shape {@code dims} (rank <= 8) and
     * operand x is read at {@code xOffset + sum_k idx_k * xStrides[k]}; a broadcast axis has stride 0.
     */
    public void binaryStrided(BinaryOp op, int[] dims, ClBuffer a, int aOffset, int[] aStrides, ClBuffer b,
                              int bOffset, int[] bStrides, ClBuffer out) {
        String name = "binary_strided " + op.name().toLowerCase();
        long n = elements(name, dims);
        need(name, "out", out, n);
        need(name, "a", a, aOffset + 1 + maxIndex(dims, aStrides));
        need(name, "b", b, bOffset + 1 + maxIndex(dims, bStrides));
        ctx.launch(ELEMENTWISE, "", "binary_strided", new long[] {n}, ITEMS, false, op.ordinal(), (int) n, pad(dims, 1),
                a, aOffset, pad(aStrides, 0), b, bOffset, pad(bStrides, 0), out);
    }

    /** out = op(a) over n elements. */
    public void unary(UnaryOp op, ClBuffer a, ClBuffer out, int n) {
        unaryCheck("unary " + op.name().toLowerCase(), a, out, n);
        ctx.launch(ELEMENTWISE, "", "unary", new long[] {n}, ITEMS, false, op.ordinal(), n, a, out);
    }

    /** out = a * mul + add over n elements. */
    public void affine(ClBuffer a, float mul, float add, ClBuffer out, int n) {
        unaryCheck("affine", a, out, n);
        ctx.launch(ELEMENTWISE, "", "affine", new long[] {n}, ITEMS, false, n, a, mul, add, out);
    }

    /** y += alpha * x over n elements (gradient accumulation). */
    public void axpy(float alpha, ClBuffer x, ClBuffer y, int n) {
        unaryCheck("axpy", x, y, n);
        ctx.launch(ELEMENTWISE, "", "axpy", new long[] {n}, ITEMS, false, n, alpha, x, y);
    }

    private static void unaryCheck(String op, ClBuffer a, ClBuffer out, int n) {
        need(op, "input", a, n);
        need(op, "output", out, n);
    }

    // ---- RMSNorm over the last axis (rows.cl) -------------------------------------------------

    /**
     * y = x / sqrt(mean(x^2) + eps) * g for x, y [rows, cols], g [cols]; rstd [rows] (may be null)
     * receives 1 / sqrt(mean(x^2) + eps).
     */
    public void rmsNormForward(ClBuffer x, ClBuffer g, ClBuffer y, ClBuffer rstd, int rows, int cols, float eps) {
        rowsCheck("rmsnorm_forward", rows, cols, x, y);
        need("rmsnorm_forward", "g", g, cols);
        if (rstd != null) need("rmsnorm_forward", "rstd", rstd, rows);
        ctx.launch(ROWS, "", "rmsnorm_forward", rowGroups(rows), ROW_GROUP, false, cols, eps, x, g, y, rstd);
    }

    /**
     * Writes dx [rows, cols] from the forward pass's rstd [rows] (no recomputation) and, when dg is not
     * null, accumulates dg [cols] += sum over rows of dy * x * rstd.
     */
    public void rmsNormBackwardSaved(ClBuffer x, ClBuffer g, ClBuffer rstd, ClBuffer dy, ClBuffer dx, ClBuffer dg,
                                     int rows, int cols) {
        rowsCheck("rmsnorm_backward_saved", rows, cols, x, dy, dx);
        need("rmsnorm_backward_saved", "g", g, cols);
        need("rmsnorm_backward_saved", "rstd", rstd, rows);
        if (dg != null) need("rmsnorm_backward_saved", "dg", dg, cols);
        if (rows == 0) return;
        ctx.launch(ROWS, "", "rmsnorm_backward_saved", rowGroups(rows), ROW_GROUP, false, cols, x, g, dy, rstd, dx);
        if (dg != null) {
            ctx.launch(ROWS, "", "rmsnorm_backward_gamma", new long[] {cols}, ITEMS, false, rows, cols, x, dy, rstd, dg);
        }
    }

    // ---- cross-entropy (rows.cl) --------------------------------------------------------------

    /**
     * loss [rows] = -log softmax(logits)[target] per row of logits [rows, vocab]; when dlogits is not
     * null it receives (softmax - onehot(target)) * scale, times rowScale[r] when rowScale [rows] is
     * not null, times upstream[0] when upstream [1] is not null. A negative target marks an ignored
     * row (loss 0, gradient 0).
     */
    public void crossEntropy(ClBuffer logits, ClBuffer targets, ClBuffer loss, ClBuffer dlogits, ClBuffer rowScale,
                             ClBuffer upstream, int rows, int vocab, float scale) {
        rowsCheck("cross_entropy", rows, vocab, logits);
        need("cross_entropy", "targets", targets, rows);
        need("cross_entropy", "loss", loss, rows);
        if (dlogits != null) need("cross_entropy", "dlogits", dlogits, (long) rows * vocab);
        if (rowScale != null) need("cross_entropy", "rowScale", rowScale, rows);
        if (upstream != null) need("cross_entropy", "upstream", upstream, 1);
        ctx.launch(ROWS, "", "cross_entropy", rowGroups(rows), ROW_GROUP, false,
                vocab, logits, targets, loss, dlogits, scale, rowScale, upstream);
    }

    // ---- reductions (rows.cl) -----------------------------------------------------------------

    /** out[0] = sum of the first n elements of x (deterministic two-pass tree reduction). */
    public void sum(ClBuffer x, int n, ClBuffer out) {
        need("sum", "x", x, n);
        need("sum", "out", out, 1);
        try (ClBuffer partial = ctx.buffer(PARTIAL_GROUPS)) {
            ctx.launch(ROWS, "", "partial_sums", new long[] {PARTIAL_GROUPS * ROW_GROUP[0]}, ROW_GROUP, false,
                    n, x, partial);
            ctx.launch(ROWS, "", "partial_sums", ROW_GROUP, ROW_GROUP, false, PARTIAL_GROUPS, partial, out);
        }
    }

    /** x viewed as [outer, len, inner]: out [outer, inner] = the sum over the middle axis. */
    public void sumAxis(ClBuffer x, ClBuffer out, int outer, int len, int inner) {
        if (outer < 0 || len < 1 || inner < 0) {
            throw new IllegalArgumentException("sum_axis: bad view [" + outer + ", " + len + ", " + inner + "]");
        }
        need("sum_axis", "x", x, (long) outer * len * inner);
        need("sum_axis", "out", out, (long) outer * inner);
        ctx.launch(LAYOUT, "", "sum_axis", new long[] {(long) outer * inner}, ITEMS, false, outer, len, inner, x, out);
    }

    // ---- layout (layout.cl) -------------------------------------------------------------------

    /**
     * For every index of shape {@code dims} (rank <= 8): dst[dstOffset + idx . dstStrides] =
     * src[srcOffset + idx . srcStrides]. Permute, slice, concat and broadcast copies are all this.
     */
    public void copyStrided(int[] dims, ClBuffer src, int srcOffset, int[] srcStrides, ClBuffer dst, int dstOffset,
                            int[] dstStrides) {
        long n = elements("copy_strided", dims);
        need("copy_strided", "src", src, srcOffset + 1 + maxIndex(dims, srcStrides));
        need("copy_strided", "dst", dst, dstOffset + 1 + maxIndex(dims, dstStrides));
        ctx.launch(LAYOUT, "", "copy_strided", new long[] {n}, ITEMS, false, (int) n, pad(dims, 1),
                src, srcOffset, pad(srcStrides, 0), dst, dstOffset, pad(dstStrides, 0));
    }

    /** Row-major strides of a contiguous array of shape {@code dims}. */
    public static int[] contiguousStrides(int[] dims) {
        int[] s = new int[dims.length];
        int acc = 1;
        for (int k = dims.length - 1; k >= 0; k--) {
            s[k] = acc;
            acc *= dims[k];
        }
        return s;
    }

    // ---- RoPE (rope.cl) -----------------------------------------------------------------------

    /** RoPE with the inverse frequencies already on the device ({@link #ropeInverseFrequencies}); sign -1 inverts. */
    void rope(String op, float sign, ClBuffer x, ClBuffer positions, ClBuffer invFreq, ClBuffer out, int batch, int seq,
              int heads, int headDim) {
        if (headDim % 2 != 0) throw new IllegalArgumentException(op + ": head dim " + headDim + " is odd");
        int tokens = batch * seq;
        long n = (long) tokens * heads * headDim;
        need(op, "x", x, n);
        need(op, "out", out, n);
        need(op, "positions", positions, seq);
        need(op, "invFreq", invFreq, headDim / 2);
        ctx.launch(ROPE, "", "rope", new long[] {n / 2}, ITEMS, false,
                tokens, seq, heads, headDim, sign, x, positions, invFreq, out);
    }

    /** 1 / theta^(2i / headDim) for i < headDim / 2, rounded exactly as the CPU backend rounds it. */
    static float[] ropeInverseFrequencies(int headDim, float theta) {
        float[] f = new float[headDim / 2];
        for (int i = 0; i < f.length; i++) f[i] = (float) (1.0 / Math.pow(theta, (float) (2 * i) / headDim));
        return f;
    }

    // ---- AdamW (adamw.cl) ---------------------------------------------------------------------

    /**
     * One AdamW step in place over n parameters, as torch.optim.AdamW: p -= lr * wd * p, then the Adam
     * update with bias correction for step {@code t} (1-based).
     */
    public void adamw(ClBuffer param, ClBuffer grad, ClBuffer m, ClBuffer v, int n, float lr, float beta1,
                      float beta2, float eps, float weightDecay, int t) {
        for (var e : new Object[][] {{"param", param}, {"grad", grad}, {"m", m}, {"v", v}}) {
            need("adamw", (String) e[0], (ClBuffer) e[1], n);
        }
        if (t < 1) throw new IllegalArgumentException("adamw: step t must be >= 1, got " + t);
        float bc1 = (float) (1 - Math.pow(beta1, t));
        float bc2 = (float) (1 - Math.pow(beta2, t));
        ctx.launch(ADAMW, "", "adamw", new long[] {n}, ITEMS, false,
                n, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, bc1, bc2);
    }

    // ---- embedding (embedding.cl) -------------------------------------------------------------

    /** out [n, dim] = table [vocab, dim] rows at ids [n] (ids must lie in [0, vocab)). */
    public void embeddingForward(ClBuffer table, ClBuffer ids, ClBuffer out, int n, int dim) {
        need("embedding_forward", "ids", ids, n);
        need("embedding_forward", "out", out, (long) n * dim);
        ctx.launch(EMBEDDING, "", "embedding_forward", new long[] {(long) n * dim}, ITEMS, false,
                n, dim, table, ids, out);
    }

    /** dtable [vocab, dim] += dout [n, dim] scattered to rows ids [n]; repeated ids add up. */
    public void embeddingBackward(ClBuffer dout, ClBuffer ids, ClBuffer dtable, int n, int dim) {
        need("embedding_backward", "ids", ids, n);
        need("embedding_backward", "dout", dout, (long) n * dim);
        ctx.launch(EMBEDDING, "", "embedding_backward", new long[] {dim}, ITEMS, false, n, dim, dout, ids, dtable);
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static long elements(String op, int[] dims) {
        if (dims.length > MAX_RANK) throw new IllegalArgumentException(op + ": rank " + dims.length + " > " + MAX_RANK);
        long n = 1;
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException(op + ": negative dimension in " + java.util.Arrays.toString(dims));
            n *= d;
        }
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException(op + ": " + n + " elements > 2^31 - 1");
        return n;
    }

    /** The largest element index a strided view of shape dims reaches (strides must be >= 0). */
    private static long maxIndex(int[] dims, int[] strides) {
        if (strides.length != dims.length) {
            throw new IllegalArgumentException("strided op: " + strides.length + " strides for rank " + dims.length);
        }
        long at = 0;
        for (int k = 0; k < dims.length; k++) {
            if (strides[k] < 0) throw new IllegalArgumentException("strided op: negative stride " + strides[k]);
            if (dims[k] > 0) at += (long) (dims[k] - 1) * strides[k];
        }
        return at;
    }

    /** Left-pads to rank 8 (the kernels' int8) with {@code fill}. */
    private static int[] pad(int[] v, int fill) {
        int[] out = new int[MAX_RANK];
        java.util.Arrays.fill(out, 0, MAX_RANK - v.length, fill);
        System.arraycopy(v, 0, out, MAX_RANK - v.length, v.length);
        return out;
    }

    private static long[] rowGroups(int rows) {
        return new long[] {rows * ROW_GROUP[0]};
    }

    private static void rowsCheck(String op, int rows, int cols, ClBuffer... buffers) {
        if (rows < 0 || cols < 1) throw new IllegalArgumentException(op + ": bad shape [" + rows + ", " + cols + "]");
        for (ClBuffer b : buffers) need(op + " [" + rows + ", " + cols + "]", "buffer", b, (long) rows * cols);
    }

    static void need(String op, String name, ClBuffer b, long elements) {
        if (b == null) throw new IllegalArgumentException(op + ": " + name + " is null");
        if (elements < 0) throw new IllegalArgumentException(op + ": negative size " + elements);
        if (b.length() < elements) {
            throw new IllegalArgumentException(op + ": " + name + " has " + b.length() + " elements, needs " + elements);
        }
    }
}
