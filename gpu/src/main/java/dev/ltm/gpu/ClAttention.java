package dev.ltm.gpu;

/**
 * Fused attention on the device (attention.cl), same layout and semantics as the CPU kernel:
 * q [B, T, nH, hd], k and v [B, S, nKv, hd], out [B, T, nH, hd], lse [B, nH, T], scale 1/sqrt(hd).
 * window > 0 is a causal sliding window (S == T; query i sees keys [max(0, i-window+1), i]);
 * window == 0 is unmasked cross-attention. The program is built once per head dim.
 */
public final class ClAttention {
    static final String PROGRAM = "attention.cl";
    static final int MAX_HEAD_DIM = 256;
    private static final long[] LOCAL = {32, 1, 1};

    /** Sizes of one attention call: batch, queries, keys, query heads, kv heads, head dim, window. */
    public record Dims(int batch, int queries, int keys, int heads, int kvHeads, int headDim, int window) {
        /** Validates the sizes and the window rule. */
        public Dims {
            if (batch < 1 || queries < 1 || keys < 1 || heads < 1 || kvHeads < 1 || headDim < 1 || window < 0) {
                throw new IllegalArgumentException("attention: bad sizes " + this);
            }
            if (heads % kvHeads != 0) {
                throw new IllegalArgumentException("attention: " + heads + " heads not a multiple of " + kvHeads + " kv heads");
            }
            if (window > 0 && queries != keys) {
                throw new IllegalArgumentException("attention: sliding window needs T == S, got T=" + queries + " S=" + keys);
            }
            if (headDim > MAX_HEAD_DIM) {
                throw new IllegalArgumentException("attention: head dim " + headDim + " > " + MAX_HEAD_DIM);
            }
        }

        long qSize() { return (long) batch * queries * heads * headDim; }
        long kvSize() { return (long) batch * keys * kvHeads * headDim; }
        long lseSize() { return (long) batch * heads * queries; }
    }

    private final ClContext ctx;

    /** Kernels for {@code ctx}; programs are built on first use per head dim and cached by the context. */
    public ClAttention(ClContext ctx) {
        this.ctx = ctx;
    }

    /** out = softmax(q k^T * scale + mask) v, and lse = the log of each softmax denominator (for backward). */
    public void forward(Dims d, ClBuffer q, ClBuffer k, ClBuffer v, ClBuffer out, ClBuffer lse) {
        check("attention_forward", d, q, k, v, out);
        ClKernels.need("attention_forward", "lse", lse, d.lseSize());
        ctx.launch(PROGRAM, options(d), "attention_forward", queryGrid(d), LOCAL, false,
                d.queries(), d.keys(), d.heads(), d.kvHeads(), d.window(), scale(d), q, k, v, out, lse);
    }

    /** Accumulates dq += dL/dq, dk += dL/dk, dv += dL/dv from dout and the forward's out and lse. */
    public void backward(Dims d, ClBuffer q, ClBuffer k, ClBuffer v, ClBuffer out, ClBuffer lse, ClBuffer dout,
                         ClBuffer dq, ClBuffer dk, ClBuffer dv) {
        check("attention_backward", d, q, k, v, out);
        ClKernels.need("attention_backward", "lse", lse, d.lseSize());
        ClKernels.need("attention_backward", "dout", dout, d.qSize());
        ClKernels.need("attention_backward", "dq", dq, d.qSize());
        ClKernels.need("attention_backward", "dk", dk, d.kvSize());
        ClKernels.need("attention_backward", "dv", dv, d.kvSize());
        String opts = options(d);
        try (ClBuffer delta = ctx.buffer(d.lseSize())) {
            ctx.launch(PROGRAM, opts, "attention_backward_delta", queryGrid(d), LOCAL, false,
                    d.queries(), d.heads(), out, dout, delta);
            ctx.launch(PROGRAM, opts, "attention_backward_dq", queryGrid(d), LOCAL, false,
                    d.queries(), d.keys(), d.heads(), d.kvHeads(), d.window(), scale(d),
                    q, k, v, dout, lse, delta, dq);
            ctx.launch(PROGRAM, opts, "attention_backward_dkdv", new long[] {d.keys(), d.kvHeads(), d.batch()},
                    LOCAL, false, d.queries(), d.keys(), d.heads(), d.kvHeads(), d.window(), scale(d),
                    q, k, v, dout, lse, delta, dk, dv);
        }
    }

    private static long[] queryGrid(Dims d) {
        return new long[] {d.queries(), d.heads(), d.batch()};
    }

    private static float scale(Dims d) {
        return (float) (1.0 / Math.sqrt(d.headDim()));
    }

    private static String options(Dims d) {
        return "-DHD=" + d.headDim();
    }

    private static void check(String op, Dims d, ClBuffer q, ClBuffer k, ClBuffer v, ClBuffer out) {
        ClKernels.need(op, "q", q, d.qSize());
        ClKernels.need(op, "k", k, d.kvSize());
        ClKernels.need(op, "v", v, d.kvSize());
        ClKernels.need(op, "out", out, d.qSize());
    }
}
