package dev.ltm.gpu;

import dev.ltm.tensor.AttentionDims;

/**
 * Fused attention on the device (attention.cl), same layout and semantics as the CPU kernel:
 * q [B, T, nH, hd], k and v [B, S, nKv, hd], out [B, T, nH, hd], lse [B, nH, T], scale 1/sqrt(hd).
 * Sizes and mask validated by {@link AttentionDims}; the kernels take the mask as
 * {@link AttentionDims#kernelWindow()} (the causal window, 0 for none). The program is built once per head dim.
 */
public final class ClAttention {
    static final String PROGRAM = "attention.cl";
    static final int MAX_HEAD_DIM = 256;
    private static final long[] LOCAL = {32, 1, 1};

    private final ClContext ctx;

    /** Kernels for {@code ctx}; programs are built on first use per head dim and cached by the context. */
    public ClAttention(ClContext ctx) {
        this.ctx = ctx;
    }

    /** out = softmax(q k^T * scale + mask) v, and lse = the log of each softmax denominator (for backward). */
    public void forward(AttentionDims d, ClBuffer q, ClBuffer k, ClBuffer v, ClBuffer out, ClBuffer lse) {
        check("attention_forward", d, q, k, v, out);
        ClKernels.need("attention_forward", "lse", lse, d.lseSize());
        ctx.launch(PROGRAM, options(d), "attention_forward", queryGrid(d), LOCAL, false,
                d.tq(), d.tk(), d.heads(), d.kvHeads(), d.kernelWindow(), scale(d), q, k, v, out, lse);
    }

    /** Accumulates dq += dL/dq, dk += dL/dk, dv += dL/dv from dout and the forward's out and lse. */
    public void backward(AttentionDims d, ClBuffer q, ClBuffer k, ClBuffer v, ClBuffer out, ClBuffer lse, ClBuffer dout,
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
                    d.tq(), d.heads(), out, dout, delta);
            ctx.launch(PROGRAM, opts, "attention_backward_dq", queryGrid(d), LOCAL, false,
                    d.tq(), d.tk(), d.heads(), d.kvHeads(), d.kernelWindow(), scale(d),
                    q, k, v, dout, lse, delta, dq);
            ctx.launch(PROGRAM, opts, "attention_backward_dkdv", new long[] {d.tk(), d.kvHeads(), d.batch()},
                    LOCAL, false, d.tq(), d.tk(), d.heads(), d.kvHeads(), d.kernelWindow(), scale(d),
                    q, k, v, dout, lse, delta, dk, dv);
        }
    }

    private static long[] queryGrid(AttentionDims d) {
        return new long[] {d.tq(), d.heads(), d.batch()};
    }

    private static float scale(AttentionDims d) {
        return (float) (1.0 / Math.sqrt(d.headDim()));
    }

    private static String options(AttentionDims d) {
        return "-DHD=" + d.headDim();
    }

    /** The buffers' sizes, and what the device kernels add to AttentionDims' rules: no empty grid, a bounded head dim. */
    private static void check(String op, AttentionDims d, ClBuffer q, ClBuffer k, ClBuffer v, ClBuffer out) {
        if (d.batch() < 1 || d.tq() < 1 || d.tk() < 1) throw new IllegalArgumentException(op + ": empty sizes" + d);
        if (d.headDim() > MAX_HEAD_DIM) {
            throw new IllegalArgumentException(op + ": head dim " + d.headDim() + " > " + MAX_HEAD_DIM + d);
        }
        ClKernels.need(op, "q", q, d.qSize());
        ClKernels.need(op, "k", k, d.kvSize());
        ClKernels.need(op, "v", v, d.kvSize());
        ClKernels.need(op, "out", out, d.qSize());
    }
}
