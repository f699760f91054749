package dev.ltm.autograd;

import dev.ltm.tensor.AttentionDims;
import dev.ltm.tensor.AttentionMask;
import dev.ltm.tensor.Backend;
import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;
import dev.ltm.tensor.UnaryOp;

/**
 * The differentiable ops: each computes its value through the tensor engine and, when a parent
 * requires gradients, records a backward rule that computes only the gradients that are needed
 * (a linear layer whose weight is a constant never runs the weight-gradient matmul).
 * Forward and backward of each op sit side by side; shapes are in the first comment line.
 */
public final class Ops {
    private Ops() {}

    // ---- elementwise with broadcasting ------------------------------------------------------

    /** a + b (broadcast). */
    public static Var add(Var a, Var b) {
        Tensor out = a.value().add(b.value());
        return Var.op("add", out, g -> {
            if (a.requiresGrad()) a.accumulate(reduceTo(g, a.shape()));
            if (b.requiresGrad()) b.accumulate(reduceTo(g, b.shape()));
        }, a, b);
    }

    /** g summed down to {@code shape} (the inverse of broadcasting); g itself when nothing was broadcast. */
    private static Tensor reduceTo(Tensor g, Shape shape) {
        return g.shape().equals(shape) ? g : g.sumTo(shape);
    }

    /** a - b (broadcast). */
    public static Var sub(Var a, Var b) {
        Tensor out = a.value().sub(b.value());
        return Var.op("sub", out, g -> {
            if (a.requiresGrad()) a.accumulate(reduceTo(g, a.shape()));
            if (b.requiresGrad()) b.accumulate(reduceTo(g.scale(-1f), b.shape()));
        }, a, b);
    }

    /** a * b (broadcast). */
    public static Var mul(Var a, Var b) {
        Tensor out = a.value().mul(b.value());
        return Var.op("mul", out, g -> {
            if (a.requiresGrad()) a.accumulate(reduceTo(g.mul(b.value()), a.shape()));
            if (b.requiresGrad()) b.accumulate(reduceTo(g.mul(a.value()), b.shape()));
        }, a, b);
    }

    /** a / b (broadcast). */
    public static Var div(Var a, Var b) {
        Tensor out = a.value().div(b.value());
        return Var.op("div", out, g -> {
            Tensor gb = g.div(b.value());
            if (a.requiresGrad()) a.accumulate(reduceTo(gb, a.shape()));
            if (b.requiresGrad()) b.accumulate(reduceTo(gb.mul(out).scale(-1f), b.shape()));
        }, a, b);
    }

    /** a * mul + add, for scalars mul and add. */
    public static Var affine(Var a, float mul, float add) {
        return Var.op("affine", a.value().affine(mul, add), g -> a.accumulate(g.scale(mul)), a);
    }

    /** a * s. */
    public static Var scale(Var a, float s) { return affine(a, s, 0f); }

    /** e^a. */
    public static Var exp(Var a) {
        Tensor out = a.value().exp();
        return Var.op("exp", out, g -> a.accumulate(g.mul(out)), a);
    }

    /** ln a. */
    public static Var log(Var a) {
        return Var.op("log", a.value().log(), g -> a.accumulate(g.div(a.value())), a);
    }

    /** a^2. */
    public static Var square(Var a) {
        return Var.op("square", a.value().map(UnaryOp.SQUARE), g -> a.accumulate(g.mul(a.value()).scale(2f)), a);
    }

    /** silu(a) = a * sigmoid(a). */
    public static Var silu(Var a) {
        return Var.op("silu", a.value().silu(), g -> {
            // d/da [a s(a)] = s(a) (1 + a (1 - s(a))), in one fused pass where the backend has one
            a.accumulate(a.value().backend().siluBackward(a.value(), g));
        }, a);
    }

    /**
     * SwiGLU's gate silu(a) * b (a and b of one shape), one op forward and one backward, where silu
     * then mul were two ops and four passes over the elements back: the same values.
     */
    public static Var swiglu(Var a, Var b) {
        if (!a.shape().equals(b.shape())) {
            throw new IllegalArgumentException("swiglu: shapes " + a.shape() + " and " + b.shape() + " differ");
        }
        Backend be = a.value().backend();
        return Var.op("swiglu", be.swiglu(a.value(), b.value()), g -> {
            Tensor[] d = be.swigluBackward(a.value(), b.value(), g);
            if (a.requiresGrad()) a.accumulate(d[0]);
            if (b.requiresGrad()) b.accumulate(d[1]);
        }, a, b);
    }

    // ---- reductions -------------------------------------------------------------------------

    /** Sum of all elements, as a rank-0 tensor. */
    public static Var sum(Var a) {
        Backend be = a.value().backend();
        Tensor out = be.sumAll(a.value());
        // The gradient broadcasts the rank-0 g over a's shape on a's backend (no host round trip).
        return Var.op("sum", out, g -> a.accumulate(be.zeros(a.shape()).add(g)), a);
    }

    /** Mean of all elements, as a rank-0 tensor. */
    public static Var mean(Var a) { return scale(sum(a), 1f / Math.max(1, a.value().size())); }

    // ---- matrix products --------------------------------------------------------------------

    /** Batched matmul [..., M, K] x [..., K, N] (flags transpose the last two axes of each side). */
    public static Var matmul(Var a, Var b, boolean transA, boolean transB) {
        Tensor out = a.value().matmul(b.value(), transA, transB);
        return Var.op("matmul", out, g -> {
            // C = op(A) op(B): dop(A) = G op(B)^T, dop(B) = op(A)^T G.
            if (a.requiresGrad()) {
                Tensor da = g.matmul(b.value(), false, !transB);
                if (transA) da = da.transpose(-1, -2);
                a.accumulate(da);
            }
            if (b.requiresGrad()) {
                Tensor db;
                if (b.shape().rank() == 2 && a.shape().rank() > 2) {
                    // b is shared by every batch: fold the batch into the rows and reduce in the GEMM.
                    Tensor a2 = transA ? a.value().transpose(-1, -2) : a.value();
                    Tensor a2d = a2.reshape(-1, a2.shape().dim(-1));
                    Tensor g2d = g.reshape(-1, g.shape().dim(-1));
                    db = transB ? g2d.matmul(a2d, true, false) : a2d.matmul(g2d, true, false);
                } else {
                    db = transB ? g.matmul(a.value(), true, transA) : a.value().matmul(g, !transA, false);
                }
                b.accumulate(db);
            }
        }, a, b);
    }

    /** A linear layer without bias: x [..., in] times w [out, in] transposed gives [..., out]. */
    public static Var linear(Var x, Var w) { return matmul(x, w, false, true); }

    // ---- layout -----------------------------------------------------------------------------

    /** A reshaped view. */
    public static Var reshape(Var a, int... dims) {
        Tensor out = a.value().reshape(dims);
        return Var.op("reshape", out, g -> a.accumulate(g.reshape(a.shape().dims())), a);
    }

    /** Axis permutation. */
    public static Var permute(Var a, int... perm) {
        Tensor out = a.value().permute(perm);
        int[] inverse = new int[perm.length];
        for (int i = 0; i < perm.length; i++) inverse[perm[i]] = i;
        return Var.op("permute", out, g -> a.accumulate(g.permute(inverse)), a);
    }

    /** Copy of [start, end) along axis. */
    public static Var slice(Var a, int axis, int start, int end) {
        int ax = a.shape().axis(axis);
        Tensor out = a.value().slice(ax, start, end);
        return Var.op("slice", out, g -> {
            int n = a.shape().dim(ax);
            Backend be = a.value().backend();
            Tensor before = be.zeros(a.shape().withDim(ax, start)), after = be.zeros(a.shape().withDim(ax, n - end));
            a.accumulate(Tensor.concat(ax, before, g, after));
        }, a);
    }

    /** Concatenation along axis. */
    public static Var concat(int axis, Var... parts) {
        Tensor[] values = new Tensor[parts.length];
        int[] sizes = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            values[i] = parts[i].value();
        }
        Tensor out = Tensor.concat(axis, values);
        int ax = out.shape().axis(axis);
        for (int i = 0; i < parts.length; i++) sizes[i] = parts[i].shape().dim(ax);
        return Var.op("concat", out, g -> {
            Tensor[] pieces = g.split(ax, sizes);
            for (int i = 0; i < parts.length; i++) if (parts[i].requiresGrad()) parts[i].accumulate(pieces[i]);
        }, parts);
    }

    // ---- the model's fused ops --------------------------------------------------------------

    /** RMSNorm over the last axis: x [..., H], gain g [H]: x / sqrt(mean(x^2) + eps) * g. */
    public static Var rmsNorm(Var x, Var g, float eps) {
        int h = x.shape().dim(-1);
        if (g.shape().rank() != 1 || g.shape().dim(0) != h) {
            throw new IllegalArgumentException("rmsNorm: input " + x.shape() + " and gain " + g.shape() + " differ in width");
        }
        Backend be = x.value().backend();
        Tensor rstd = be.zeros(Shape.of(x.value().size() / Math.max(1, h)));
        Tensor y = be.rmsNorm(x.value(), g.value(), eps, rstd);
        return Var.op("rmsNorm", y, dy -> {
            Tensor dg = g.requiresGrad() ? be.zeros(g.shape()) : null;
            Tensor dx = be.rmsNormBackward(x.value(), g.value(), rstd, dy, dg);
            if (x.requiresGrad()) x.accumulate(dx);
            if (dg != null) g.accumulate(dg);
        }, x, g);
    }

    /** Rows of table [V, H] picked by ids: [ids.length, H]. */
    public static Var embedding(Var table, int[] ids) {
        if (table.shape().rank() != 2) throw new IllegalArgumentException("embedding: table must be [V, H], got " + table.shape());
        Backend be = table.value().backend();
        Tensor out = be.embedding(table.value(), ids);
        return Var.op("embedding", out, g -> {
            Tensor dt = be.zeros(table.shape());
            be.embeddingBackward(dt, ids, g);
            table.accumulate(dt);
        }, table);
    }

    /** Rotary position embedding of x [B, T, nHeads, headDim] at positions [T] (interleaved pairs). */
    public static Var rope(Var x, int[] positions, float theta) {
        Shape s = x.shape();
        if (s.rank() != 4 || s.dim(1) != positions.length || s.dim(3) % 2 != 0) {
            throw new IllegalArgumentException("rope: input " + s + " must be [B, T, heads, even headDim] with T = "
                    + positions.length + " positions");
        }
        Backend be = x.value().backend();
        Tensor out = be.rope(x.value(), positions, theta, false);
        return Var.op("rope", out, g -> x.accumulate(be.rope(g, positions, theta, true)), x);
    }

    /**
     * Fused attention: q [B, Tq, nH, hd], k and v [B, Tk, nKv, hd] → [B, Tq, nH, hd] under {@code mask}
     * (causal with a window for self-attention, none for cross-attention); sizes checked by {@link AttentionDims#of}.
     */
    public static Var attention(Var q, Var k, Var v, AttentionMask mask) {
        AttentionDims d = AttentionDims.of(q.shape(), k.shape(), v.shape(), mask);
        Backend be = q.value().backend();
        Tensor lse = be.zeros(d.lseShape());
        Tensor out = be.attention(q.value(), k.value(), v.value(), mask, lse);
        return Var.op("attention", out, g -> {
            Tensor dq = q.requiresGrad() ? be.zeros(q.shape()) : null;
            Tensor dk = k.requiresGrad() ? be.zeros(k.shape()) : null;
            Tensor dv = v.requiresGrad() ? be.zeros(v.shape()) : null;
            be.attentionBackward(q.value(), k.value(), v.value(), out, lse, g, dq, dk, dv, mask);
            if (dq != null) q.accumulate(dq);
            if (dk != null) k.accumulate(dk);
            if (dv != null) v.accumulate(dv);
        }, q, k, v);
    }

    /**
     * Weighted cross-entropy sum: logits [R, V], targets [R] (negative = ignored), weights [R]:
     * returns sum_r weights[r] * (-log softmax(logits_r)[targets_r]) as a rank-0 tensor.
     */
    public static Var crossEntropy(Var logits, int[] targets, float[] weights) {
        return crossEntropy(logits, targets, logits.value().backend().fromArray(weights, Shape.of(weights.length)));
    }

    /**
     * Weighted cross-entropy sum with the weights [R] as a tensor (moved to the logits' backend):
     * the per-row losses, the total and the backward all stay on that backend.
     */
    public static Var crossEntropy(Var logits, int[] targets, Tensor weights) {
        Shape s = logits.shape();
        if (s.rank() != 2 || s.dim(0) != targets.length || weights.shape().rank() != 1 || weights.size() != targets.length) {
            throw new IllegalArgumentException("crossEntropy: logits " + s + " with " + targets.length + " targets and weights "
                    + weights.shape() + ": expected [R, V] with R of each");
        }
        int v = s.dim(1);
        for (int i = 0; i < targets.length; i++) {
            if (targets[i] >= v) throw new IllegalArgumentException("crossEntropy: target " + targets[i] + " at row " + i
                    + " >= vocabulary " + v);
        }
        Backend be = logits.value().backend();
        Tensor w = weights.to(be);
        Tensor rows = be.crossEntropy(logits.value(), targets); // 0 on ignored rows
        Tensor loss = be.sumAll(w.mul(rows));
        return Var.op("crossEntropy", loss, g -> logits.accumulate(be.crossEntropyBackward(logits.value(), targets, w, g)), logits);
    }
}
