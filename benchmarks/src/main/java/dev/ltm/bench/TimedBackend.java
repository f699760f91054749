package dev.ltm.bench;

import dev.ltm.tensor.AttentionMask;
import dev.ltm.tensor.Backend;
import dev.ltm.tensor.BinaryOp;
import dev.ltm.tensor.CpuBackend;
import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;
import dev.ltm.tensor.UnaryOp;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The CPU backend with a stopwatch: every op runs on {@link CpuBackend} and its wall time is added
 * to a per-op total, so {@code bench profile --ops} can say where a fit's time goes on the clock
 * (a sampling profiler counts each busy thread, which over-weights the parallel kernels). Results
 * are the CPU backend's own arrays, rewrapped without a copy as tensors of this backend so that the
 * next op comes back here. Matmuls are keyed by shape, with their FLOPs, so each shape's GFLOP/s can
 * be read against the peak. Single-threaded use only (ops are issued by one thread).
 */
final class TimedBackend implements Backend {
    private static final CpuBackend CPU = CpuBackend.INSTANCE;

    /** One op's (or one matmul shape's) totals. */
    static final class Total {
        long calls, nanos;
        double flops;
    }

    private final Map<String, Total> totals = new TreeMap<>();

    @Override public String name() { return "cpu"; }

    /** Forgets what was timed so far (after warm-up). */
    void reset() { totals.clear(); }

    /** Per-op totals, largest first. */
    List<Map.Entry<String, Total>> byTime() {
        List<Map.Entry<String, Total>> list = new ArrayList<>(totals.entrySet());
        list.sort((x, y) -> Long.compare(y.getValue().nanos, x.getValue().nanos));
        return list;
    }

    /** The table {@code bench profile --ops} prints: per call of the workload, each op's ms, share, calls and mean µs. */
    String table(int workloadCalls, double workloadMs) {
        StringBuilder sb = new StringBuilder();
        long all = totals.values().stream().mapToLong(t -> t.nanos).sum();
        sb.append(String.format(Locale.ROOT, "%-52s %10s %7s %9s %9s %9s%n", "op (per workload call)", "ms", "share", "calls", "us/call", "GFLOP/s"));
        for (Map.Entry<String, Total> e : byTime()) {
            Total t = e.getValue();
            double ms = t.nanos / 1e6 / workloadCalls;
            sb.append(String.format(Locale.ROOT, "%-52s %10.1f %6.1f%% %9d %9.1f %9s%n", e.getKey(), ms, 100.0 * ms / workloadMs,
                    t.calls / workloadCalls, t.nanos / 1e3 / t.calls, t.flops > 0 ? String.format(Locale.ROOT, "%.1f", t.flops / t.nanos) : ""));
        }
        double opsMs = all / 1e6 / workloadCalls;
        sb.append(String.format(Locale.ROOT, "%-52s %10.1f %6.1f%%%n", "all ops", opsMs, 100.0 * opsMs / workloadMs));
        sb.append(String.format(Locale.ROOT, "%-52s %10.1f %6.1f%%%n", "outside ops (autograd, model code)",
                workloadMs - opsMs, 100.0 * (workloadMs - opsMs) / workloadMs));
        return sb.toString();
    }

    private <T> T timed(String op, double flops, Supplier<T> body) {
        long t0 = System.nanoTime();
        T r = body.get();
        long dt = System.nanoTime() - t0;
        Total t = totals.computeIfAbsent(op, k -> new Total());
        t.calls++;
        t.nanos += dt;
        t.flops += flops;
        return r;
    }

    private void timed(String op, Runnable body) {
        timed(op, 0, () -> {
            body.run();
            return null;
        });
    }

    private Tensor ours(Tensor cpu) { return Tensor.onBackend(this, cpu.data(), cpu.shape()); }

    private Tensor ours(String op, double flops, Supplier<Tensor> body) { return ours(timed(op, flops, body)); }

    private Tensor ours(String op, Supplier<Tensor> body) { return ours(op, 0, body); }

    @Override public Tensor zeros(Shape shape) { return Tensor.onBackend(this, new float[shape.size()], shape); }

    @Override public Tensor fromArray(float[] values, Shape shape) { return Tensor.onBackend(this, values.clone(), shape); }

    @Override public Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB) {
        Shape as = a.shape(), os = Shape.matmulResult(as, b.shape(), transA, transB);
        long k = transA ? as.dim(-2) : as.dim(-1);
        String key = "matmul " + (transA ? "^T" : "") + as + " x " + b.shape() + (transB ? "^T" : "");
        return ours(key, 2.0 * os.size() * k, () -> CPU.matmul(a, b, transA, transB));
    }

    @Override public Tensor binary(BinaryOp op, Tensor a, Tensor b, Shape out) {
        return ours("binary " + op.name().toLowerCase(Locale.ROOT), () -> CPU.binary(op, a, b, out));
    }

    @Override public Tensor unary(UnaryOp op, Tensor a) {
        return ours("unary " + op.name().toLowerCase(Locale.ROOT), () -> CPU.unary(op, a));
    }

    @Override public Tensor affine(Tensor a, float mul, float add) { return ours("affine", () -> CPU.affine(a, mul, add)); }

    @Override public Tensor siluBackward(Tensor a, Tensor g) { return ours("siluBackward", () -> CPU.siluBackward(a, g)); }

    @Override public Tensor swiglu(Tensor a, Tensor b) { return ours("swiglu", () -> CPU.swiglu(a, b)); }

    @Override public Tensor[] swigluBackward(Tensor a, Tensor b, Tensor g) {
        Tensor[] d = timed("swigluBackward", 0, () -> CPU.swigluBackward(a, b, g));
        return new Tensor[] {ours(d[0]), ours(d[1])};
    }

    @Override public Tensor sumAll(Tensor a) { return ours("sumAll", () -> CPU.sumAll(a)); }

    @Override public Tensor sumTo(Tensor a, Shape target) { return ours("sumTo", () -> CPU.sumTo(a, target)); }

    @Override public Tensor permute(Tensor a, int[] perm) { return ours("permute", () -> CPU.permute(a, perm)); }

    @Override public Tensor slice(Tensor a, int axis, int start, int end) { return ours("slice", () -> CPU.slice(a, axis, start, end)); }

    @Override public Tensor concat(int axis, Tensor... parts) { return ours("concat", () -> CPU.concat(axis, parts)); }

    @Override public Tensor rmsNorm(Tensor x, Tensor g, float eps, Tensor rstd) {
        return ours("rmsNorm", () -> CPU.rmsNorm(x, g, eps, rstd));
    }

    @Override public Tensor rmsNormBackward(Tensor x, Tensor g, Tensor rstd, Tensor dy, Tensor dg) {
        return ours("rmsNormBackward", () -> CPU.rmsNormBackward(x, g, rstd, dy, dg));
    }

    @Override public Tensor embedding(Tensor table, int[] ids) { return ours("embedding", () -> CPU.embedding(table, ids)); }

    @Override public void embeddingBackward(Tensor dTable, int[] ids, Tensor dy) {
        timed("embeddingBackward", () -> CPU.embeddingBackward(dTable, ids, dy));
    }

    @Override public Tensor rope(Tensor x, int[] positions, float theta, boolean inverse) {
        return ours(inverse ? "rope inverse" : "rope", () -> CPU.rope(x, positions, theta, inverse));
    }

    @Override public Tensor attention(Tensor q, Tensor k, Tensor v, AttentionMask mask, Tensor lse) {
        return ours("attention " + q.shape() + " x " + k.shape(), () -> CPU.attention(q, k, v, mask, lse));
    }

    @Override public void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut,
                                            Tensor dq, Tensor dk, Tensor dv, AttentionMask mask) {
        timed("attentionBackward " + q.shape() + " x " + k.shape(),
                () -> CPU.attentionBackward(q, k, v, out, lse, dOut, dq, dk, dv, mask));
    }

    @Override public Tensor crossEntropy(Tensor logits, int[] targets) { return ours("crossEntropy", () -> CPU.crossEntropy(logits, targets)); }

    @Override public Tensor crossEntropyBackward(Tensor logits, int[] targets, Tensor rowScale, Tensor upstream) {
        return ours("crossEntropyBackward", () -> CPU.crossEntropyBackward(logits, targets, rowScale, upstream));
    }

    @Override public void addInPlace(Tensor a, Tensor b, float s) { timed("addInPlace", () -> CPU.addInPlace(a, b, s)); }

    @Override public void adamw(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                                float weightDecay, int step) {
        timed("adamw", () -> CPU.adamw(p, g, m, v, lr, beta1, beta2, eps, weightDecay, step));
    }
}
