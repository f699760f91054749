package dev.ltm.gpu;

import dev.ltm.tensor.AttentionDims;
import dev.ltm.tensor.AttentionMask;
import dev.ltm.tensor.Backend;
import dev.ltm.tensor.BinaryOp;
import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;
import dev.ltm.tensor.UnaryOp;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The engine on an OpenCL device: tensors keep a device copy ({@link Tensor#attachDevice}) and ops
 * read and write device buffers, so a chain of ops moves nothing between host and device. An input
 * is uploaded only when its device copy is missing or stale; results stay on the device until host
 * code reads them ({@link Tensor#data()} downloads). The int-array parameters of {@link Backend}
 * (ids, targets, positions) are the only other transfers, cached on the device by content, and
 * {@link #full} fills on the device. Device memory (buffers, their recycling when tensors are garbage
 * collected, the transfer counters) is {@link DeviceMemory}'s; this class dispatches the ops, each
 * through {@link #op}, serialised: one queue serves all threads in order.
 */
public final class OpenClBackend implements Backend, AutoCloseable {
    /**
     * Host/device traffic so far.
     *
     * @param uploads       host-to-device copies
     * @param downloads     device-to-host copies
     * @param uploadBytes   bytes uploaded
     * @param downloadBytes bytes downloaded
     */
    public record Transfers(long uploads, long downloads, long uploadBytes, long downloadBytes) {
        /** Uploads plus downloads. */
        public long total() { return uploads + downloads; }
    }

    private final ClContext ctx;
    private final ClGemm gemm;
    private final ClKernels kernels;
    private final ClAttention attention;
    private final String name;
    private final DeviceMemory memory;
    private final Map<String, ClBuffer> ropeFrequencies = new HashMap<>();

    /** A backend on {@code ctx} (which it owns and closes), named {@code opencl:<index>}. */
    public OpenClBackend(ClContext ctx, int index) {
        this.ctx = ctx;
        this.gemm = new ClGemm(ctx);
        this.kernels = new ClKernels(ctx);
        this.attention = new ClAttention(ctx);
        this.name = "opencl:" + index;
        this.memory = new DeviceMemory(ctx, this);
    }

    /** Opens device {@code index} of {@link OpenClRuntime#available()}; throws with the reason when there is none. */
    public static OpenClBackend open(int index) {
        OpenClRuntime.Availability a = OpenClRuntime.available();
        if (!a.present()) throw new IllegalStateException("OpenCL: " + a.reason());
        if (index < 0 || index >= a.devices().size()) {
            throw new IllegalArgumentException("OpenCL: no device " + index + " (" + a.devices().size() + " found)");
        }
        return new OpenClBackend(ClContext.open(a.devices().get(index)), index);
    }

    @Override public String name() { return name; }

    /** The device. */
    public ClDevice device() { return ctx.device(); }

    /** Host/device copies made so far (tensor data, int arrays and constants alike). */
    public synchronized Transfers transfers() { return memory.transfers(); }

    /** Blocks until every enqueued kernel has finished (for timing). */
    public synchronized void finish() { ctx.finish(); }

    // ---- storage: creation, upload on demand, download ----------------------------------------

    @Override
    public Tensor zeros(Shape shape) {
        return op(() -> {
            Tensor t = out(shape);
            buf(t).fill(0f);
            return t;
        });
    }

    @Override
    public Tensor fromArray(float[] values, Shape shape) { return Tensor.onBackend(this, values.clone(), shape); }

    @Override
    public Tensor full(Shape shape, float value) {
        return op(() -> {
            Tensor t = out(shape);
            buf(t).fill(value);
            return t;
        });
    }

    @Override
    public synchronized void readDevice(Object device, float[] host) { memory.download(device, host); }

    @Override
    public Tensor copy(Tensor a) {
        return op(() -> {
            Tensor out = out(a.shape());
            buf(out).copyFrom(in("copy", a), 0, 0, a.size());
            return out;
        });
    }

    /**
     * The one entry point of every op: ops are serialised (one queue serves all threads in order), and
     * device memory reclaims the buffers of collected tensors before the op fetches any ({@link DeviceMemory#op}).
     */
    private synchronized <T> T op(Supplier<T> body) { return memory.op(body); }

    /** {@link #op} for an op that returns nothing. */
    private void run(Runnable body) {
        op(() -> {
            body.run();
            return null;
        });
    }

    private ClBuffer in(String op, Tensor t) { return memory.in(op, t); }

    private ClBuffer inOut(String op, Tensor t) { return memory.inOut(op, t); }

    private ClBuffer overwrite(String op, Tensor t) { return memory.overwrite(op, t); }

    private Tensor out(Shape shape) { return memory.out(shape); }

    private static ClBuffer buf(Tensor deviceBorn) { return DeviceMemory.buf(deviceBorn); }

    // ---- matmul: a [..., M, K] x b [..., K, N] -> [..., M, N] ---------------------------------

    @Override
    public Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB) {
        return op(() -> {
            Shape as = a.shape(), bs = b.shape(), os = Shape.matmulResult(as, bs, transA, transB);
            int m = os.dim(-2), n = os.dim(-1), k = transA ? as.dim(-2) : as.dim(-1);
            int batch = as.sizeOf(0, as.rank() - 2);
            Tensor out = out(os);
            ClBuffer x = in("matmul", a), y = in("matmul", b), c = buf(out);
            if (out.size() == 0) return out;
            if (k == 0) {
                c.fill(0f);
                return out;
            }
            boolean sharedB = bs.rank() == 2;
            if (sharedB && !transA) {
                // The batch folds into M: one GEMM over all rows (the common linear-layer case).
                gemm.sgemm(false, transB, batch * m, n, k, x, 0, y, 0, c, 0, false);
            } else {
                gemm.sgemmBatched(batch, transA, transB, m, n, k, x, 0, m * k, y, 0, sharedB ? 0 : k * n, c, 0, m * n, false);
            }
            return out;
        });
    }

    // ---- elementwise ----------------------------------------------------------------------------

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b, Shape outShape) {
        return op(() -> {
            Tensor out = out(outShape);
            ClBuffer x = in(op.name(), a), y = in(op.name(), b);
            int n = outShape.size();
            if (n == 0) return out;
            ClKernels.BinaryOp clOp = ClKernels.BinaryOp.valueOf(op.name());
            if (a.shape().equals(outShape) && b.shape().equals(outShape)) {
                kernels.binary(clOp, x, y, buf(out), n);
            } else {
                kernels.binaryStrided(clOp, outShape.dims(), x, 0, broadcastStrides(a.shape(), outShape),
                        y, 0, broadcastStrides(b.shape(), outShape), buf(out));
            }
            return out;
        });
    }

    /** Strides of {@code s} seen through broadcasting to {@code out} (0 on broadcast axes). */
    private static int[] broadcastStrides(Shape s, Shape out) {
        int r = out.rank(), off = r - s.rank();
        int[] st = new int[r], own = s.strides();
        for (int i = 0; i < s.rank(); i++) st[off + i] = s.dim(i) == 1 ? 0 : own[i];
        return st;
    }

    @Override
    public Tensor unary(UnaryOp op, Tensor a) {
        return op(() -> {
            Tensor out = out(a.shape());
            kernels.unary(ClKernels.UnaryOp.valueOf(op.name()), in(op.name(), a), buf(out), a.size());
            return out;
        });
    }

    @Override
    public Tensor affine(Tensor a, float mul, float add) {
        return op(() -> {
            Tensor out = out(a.shape());
            kernels.affine(in("affine", a), mul, add, buf(out), a.size());
            return out;
        });
    }

    // ---- reductions -----------------------------------------------------------------------------

    /** The sum over one axis (removed from the shape), for sumTo. */
    private Tensor sumAxis(Tensor a, int axis) {
        Shape s = a.shape();
        int ax = s.axis(axis);
        int outer = s.sizeOf(0, ax), len = s.dim(ax), inner = s.sizeOf(ax + 1, s.rank());
        int[] od = new int[s.rank() - 1];
        for (int i = 0, j = 0; i < s.rank(); i++) if (i != ax) od[j++] = s.dim(i);
        Tensor out = out(Shape.of(od));
        ClBuffer x = in("sum", a);
        if (out.size() == 0) return out;
        if (len == 0) buf(out).fill(0f);
        else kernels.sumAxis(x, buf(out), outer, len, inner);
        return out;
    }

    @Override
    public Tensor sumAll(Tensor a) {
        return op(() -> {
            Tensor out = out(Shape.of());
            ClBuffer x = in("sumAll", a);
            if (a.size() == 0) buf(out).fill(0f);
            else kernels.sum(x, a.size(), buf(out));
            return out;
        });
    }

    @Override
    public Tensor sumTo(Tensor a, Shape target) {
        return op(() -> {
            if (a.shape().equals(target)) return copy(a);
            if (a.size() == 0) return zeros(target);
            // Sum each broadcast axis away (keeping it as size 1), then view the result as target.
            Shape s = a.shape();
            int r = s.rank(), off = r - target.rank();
            Tensor cur = a;
            for (int i = 0; i < r; i++) {
                int td = i < off ? 1 : target.dim(i - off);
                if (td == 1 && s.dim(i) != 1) {
                    int[] kept = cur.shape().dims();
                    kept[i] = 1;
                    cur = sumAxis(cur, i).reshape(kept);
                }
            }
            return (cur == a ? copy(a) : cur).reshape(target.dims());
        });
    }

    // ---- layout ---------------------------------------------------------------------------------

    @Override
    public Tensor permute(Tensor a, int[] perm) {
        return op(() -> {
            Shape os = a.shape().permute(perm);
            int[] od = os.dims(), ps = a.shape().permutedStrides(perm);
            Tensor out = out(os);
            ClBuffer x = in("permute", a);
            if (out.size() > 0) kernels.copyStrided(od, x, 0, ps, buf(out), 0, ClKernels.contiguousStrides(od));
            return out;
        });
    }

    @Override
    public void write(Tensor dst, long offset, Tensor src) {
        run(() -> {
            ClBuffer from = in("write", src), to = inOut("write", dst);
            // A view of dst itself covers all of its storage, so the only valid offset is 0 and the write
            // changes nothing (OpenCL refuses overlapping copies within one buffer).
            if (from != to) to.copyFrom(from, 0, offset, src.size());
        });
    }

    @Override
    public Tensor slice(Tensor a, int axis, int start, int end) {
        return op(() -> {
            Shape s = a.shape();
            int ax = s.axis(axis);
            Shape os = s.withDim(ax, end - start);
            Tensor out = out(os);
            ClBuffer x = in("slice", a);
            if (out.size() == 0) return out;
            int[] st = s.strides(), od = os.dims();
            kernels.copyStrided(od, x, start * st[ax], st, buf(out), 0, ClKernels.contiguousStrides(od));
            return out;
        });
    }

    @Override
    public Tensor concat(int axis, Tensor... parts) {
        return op(() -> {
            Shape s0 = parts[0].shape();
            int ax = s0.axis(axis);
            int total = 0;
            for (Tensor t : parts) total += t.dim(ax);
            Shape os = s0.withDim(ax, total);
            Tensor out = out(os);
            int[] ost = os.strides();
            int at = 0;
            for (Tensor t : parts) {
                ClBuffer x = in("concat", t);
                if (t.size() > 0) {
                    int[] d = t.shape().dims();
                    kernels.copyStrided(d, x, 0, ClKernels.contiguousStrides(d), buf(out), at * ost[ax], ost);
                }
                at += t.dim(ax);
            }
            return out;
        });
    }

    // ---- RMSNorm over the last axis: x [R, H], g [H], rstd [R] ----------------------------------

    @Override
    public Tensor rmsNorm(Tensor x, Tensor g, float eps, Tensor rstd) {
        return op(() -> {
            int h = x.dim(-1), rows = x.size() / h;
            Tensor out = out(x.shape());
            ClBuffer xs = in("rmsNorm", x), gs = in("rmsNorm", g), rs = overwrite("rmsNorm", rstd);
            if (rows > 0) kernels.rmsNormForward(xs, gs, buf(out), rs, rows, h, eps);
            return out;
        });
    }

    @Override
    public Tensor rmsNormBackward(Tensor x, Tensor g, Tensor rstd, Tensor dy, Tensor dg) {
        return op(() -> {
            int h = x.dim(-1), rows = x.size() / h;
            Tensor dx = out(x.shape());
            ClBuffer xs = in("rmsNormBackward", x), gs = in("rmsNormBackward", g), rs = in("rmsNormBackward", rstd);
            ClBuffer d = in("rmsNormBackward", dy), dgs = dg == null ? null : inOut("rmsNormBackward", dg);
            kernels.rmsNormBackwardSaved(xs, gs, rs, d, buf(dx), dgs, rows, h);
            return dx;
        });
    }

    // ---- embedding ------------------------------------------------------------------------------

    @Override
    public Tensor embedding(Tensor table, int[] ids) {
        return op(() -> {
            int v = table.dim(0), h = table.dim(1);
            checkIds("embedding", ids, v);
            Tensor out = out(Shape.of(ids.length, h));
            ClBuffer t = in("embedding", table);
            if (out.size() > 0) kernels.embeddingForward(t, memory.ints(ids), buf(out), ids.length, h);
            return out;
        });
    }

    @Override
    public void embeddingBackward(Tensor dTable, int[] ids, Tensor dy) {
        run(() -> {
            int h = dTable.dim(1);
            checkIds("embeddingBackward", ids, dTable.dim(0));
            ClBuffer d = in("embeddingBackward", dy), t = inOut("embeddingBackward", dTable);
            if (ids.length > 0 && h > 0) kernels.embeddingBackward(d, memory.ints(ids), t, ids.length, h);
        });
    }

    private static void checkIds(String op, int[] ids, int v) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= v) {
                throw new IllegalArgumentException(op + ": id " + ids[i] + " at " + i + " outside vocabulary [0, " + v + ")");
            }
        }
    }

    // ---- RoPE: x [B, T, nH, hd] -----------------------------------------------------------------

    @Override
    public Tensor rope(Tensor x, int[] positions, float theta, boolean inverse) {
        return op(() -> {
            int b = x.dim(0), t = x.dim(1), nh = x.dim(2), hd = x.dim(3);
            Tensor out = out(x.shape());
            ClBuffer xs = in("rope", x);
            if (out.size() == 0) return out;
            ClBuffer freq = ropeFrequencies.get(hd + "|" + theta);
            if (freq == null) {
                freq = memory.scratch(ClKernels.ropeInverseFrequencies(hd, theta));
                ropeFrequencies.put(hd + "|" + theta, freq);
            }
            kernels.rope(inverse ? "rope_backward" : "rope_forward", inverse ? -1f : 1f, xs, memory.ints(positions), freq, buf(out),
                    b, t, nh, hd);
            return out;
        });
    }

    // ---- attention ------------------------------------------------------------------------------

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, AttentionMask mask, Tensor lse) {
        return op(() -> {
            AttentionDims d = AttentionDims.of(q.shape(), k.shape(), v.shape(), mask);
            Tensor out = out(q.shape());
            ClBuffer qs = in("attention", q), ks = in("attention", k), vs = in("attention", v);
            ClBuffer ls = overwrite("attention", lse);
            if (out.size() > 0) attention.forward(d, qs, ks, vs, buf(out), ls);
            return out;
        });
    }

    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut,
                                               Tensor dq, Tensor dk, Tensor dv, AttentionMask mask) {
        run(() -> {
            AttentionDims dims = AttentionDims.of(q.shape(), k.shape(), v.shape(), mask);
            String op = "attentionBackward";
            ClBuffer qs = in(op, q), ks = in(op, k), vs = in(op, v), os = in(op, out), ls = in(op, lse), d = in(op, dOut);
            if (q.size() == 0) return;
            // The kernels write all three gradients: a gradient nobody wants goes to a scratch buffer.
            ClBuffer gq = dq == null ? ctx.buffer(q.size()) : inOut(op, dq);
            ClBuffer gk = dk == null ? ctx.buffer(k.size()) : inOut(op, dk);
            ClBuffer gv = dv == null ? ctx.buffer(v.size()) : inOut(op, dv);
            try {
                attention.backward(dims, qs, ks, vs, os, ls, d, gq, gk, gv);
            } finally {
                if (dq == null) gq.close();
                if (dk == null) gk.close();
                if (dv == null) gv.close();
            }
        });
    }

    // ---- cross-entropy: logits [R, V] -----------------------------------------------------------

    @Override
    public Tensor crossEntropy(Tensor logits, int[] targets) {
        return op(() -> {
            int v = logits.dim(-1), rows = targets.length;
            Tensor loss = out(Shape.of(rows));
            ClBuffer x = in("crossEntropy", logits);
            if (rows == 0) return loss;
            kernels.crossEntropy(x, memory.ints(targets), buf(loss), null, null, null, rows, v, 1f);
            return loss;
        });
    }

    @Override
    public Tensor crossEntropyBackward(Tensor logits, int[] targets, Tensor rowScale, Tensor upstream) {
        return op(() -> {
            int v = logits.dim(-1), rows = targets.length;
            Tensor d = out(logits.shape());
            ClBuffer x = in("crossEntropyBackward", logits);
            ClBuffer w = in("crossEntropyBackward", rowScale), g = in("crossEntropyBackward", upstream);
            if (rows == 0) return d;
            try (ClBuffer loss = ctx.buffer(rows)) {
                kernels.crossEntropy(x, memory.ints(targets), loss, buf(d), w, g, rows, v, 1f);
            }
            return d;
        });
    }

    // ---- in-place updates -----------------------------------------------------------------------

    @Override
    public void addInPlace(Tensor a, Tensor b, float s) {
        run(() -> {
            ClBuffer y = in("addInPlace", b), x = inOut("addInPlace", a);
            kernels.axpy(s, y, x, a.size());
        });
    }

    @Override
    public void adamw(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                                   float weightDecay, int step) {
        run(() -> {
            ClBuffer gs = in("adamw", g);
            kernels.adamw(inOut("adamw", p), gs, inOut("adamw", m), inOut("adamw", v), p.size(), lr, beta1, beta2, eps,
                    weightDecay, step);
        });
    }

    /** Releases the context and every buffer (tensors of this backend are unusable afterwards). */
    @Override
    public synchronized void close() { ctx.close(); }

    @Override public String toString() { return name + " (" + ctx.device().describe() + ")"; }
}
