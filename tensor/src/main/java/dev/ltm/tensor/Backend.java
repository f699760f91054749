package dev.ltm.tensor;

/**
 * Where tensor ops run. The CPU backend is the reference; other backends (OpenCL) must agree
 * with it within float32 tolerance. Model code never branches on the backend: it calls the ops
 * on {@link Tensor}, which forward here. Every op returns a new tensor unless it says "in place";
 * shapes are validated by the caller ({@link Tensor}) before they reach a backend.
 */
public interface Backend {
    /** A short name, such as {@code cpu} or {@code opencl:0}. */
    String name();

    /** A new zero tensor of this backend. */
    Tensor zeros(Shape shape);

    /** A tensor of this backend holding a copy of {@code values}. */
    Tensor fromArray(float[] values, Shape shape);

    /** A tensor of this backend with every element {@code value} (a device backend fills it in place, uploading nothing). */
    default Tensor full(Shape shape, float value) {
        float[] a = new float[shape.size()];
        java.util.Arrays.fill(a, value);
        return fromArray(a, shape);
    }

    /**
     * For backends that keep device copies ({@link Tensor#attachDevice}): copies the device storage
     * {@code device} into {@code host}. {@link Tensor#data()} calls it when the host copy is stale.
     */
    default void readDevice(Object device, float[] host) {
        throw new UnsupportedOperationException(name() + ": this backend keeps no device copies");
    }

    /**
     * In place: {@code dst}'s elements {@code offset .. offset + src.size() - 1} become {@code src}'s
     * values (validated by {@link Tensor#write}). A device backend copies on the device.
     */
    default void write(Tensor dst, long offset, Tensor src) {
        System.arraycopy(src.read(), 0, dst.data(), Math.toIntExact(offset), src.size());
    }

    /** A deep copy of {@code a} on this backend. */
    default Tensor copy(Tensor a) { return fromArray(a.read(), a.shape()); }

    /**
     * Batched matrix product: {@code a} is [..., M, K] (or [..., K, M] if transA), {@code b} is
     * [..., K, N] (or [..., N, K] if transB) with the same leading batch axes, or rank 2 (shared
     * by every batch). Result [..., M, N].
     */
    Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB);

    /** Elementwise {@code a op b} with NumPy broadcasting to {@code out}'s shape. */
    Tensor binary(BinaryOp op, Tensor a, Tensor b, Shape out);

    /** Elementwise {@code op(a)}. */
    Tensor unary(UnaryOp op, Tensor a);

    /** Elementwise {@code a * mul + add}. */
    Tensor affine(Tensor a, float mul, float add);

    /**
     * silu's backward: g * s (1 + a (1 - s)) with s = sigmoid(a), elementwise (a and g of one shape).
     * This default composes it from the ops above; a backend may fuse it into one pass, to the same bits.
     */
    default Tensor siluBackward(Tensor a, Tensor g) {
        Tensor s = unary(UnaryOp.SIGMOID, a);
        return g.mul(s.mul(a.mul(s.affine(-1f, 1f)).affine(1f, 1f)));
    }

    /**
     * SwiGLU's gate, silu(a) * b, elementwise (a and b of one shape). This default composes it; a backend
     * may fuse it into one pass, to the same bits.
     */
    default Tensor swiglu(Tensor a, Tensor b) { return unary(UnaryOp.SILU, a).mul(b); }

    /**
     * Backward of {@link #swiglu} for the upstream gradient g: {da, db} with db = g * silu(a) and
     * da = {@link #siluBackward}(a, g * b). This default composes it; a backend may fuse it, to the same bits.
     */
    default Tensor[] swigluBackward(Tensor a, Tensor b, Tensor g) {
        return new Tensor[] {siluBackward(a, g.mul(b)), g.mul(unary(UnaryOp.SILU, a))};
    }

    /** Sum of all elements as a rank-0 tensor of this backend (the CPU accumulates in double). */
    Tensor sumAll(Tensor a);

    /** Sums {@code a} down to {@code target}, the inverse of broadcasting {@code target} to a's shape. */
    Tensor sumTo(Tensor a, Shape target);

    /** Axis permutation (a copy): result axis i is input axis {@code perm[i]}. */
    Tensor permute(Tensor a, int[] perm);

    /** Copy of {@code a[..., start:end, ...]} along {@code axis}. */
    Tensor slice(Tensor a, int axis, int start, int end);

    /** Concatenation along {@code axis}. */
    Tensor concat(int axis, Tensor... parts);

    /**
     * RMSNorm over the last axis: {@code x / sqrt(mean(x^2) + eps) * g}; also fills {@code rstd} [rows],
     * a tensor of this backend, in place.
     */
    Tensor rmsNorm(Tensor x, Tensor g, float eps, Tensor rstd);

    /** Backward of RMSNorm: returns dx; accumulates dg into {@code dg} when it is not null. */
    Tensor rmsNormBackward(Tensor x, Tensor g, Tensor rstd, Tensor dy, Tensor dg);

    /** Rows of {@code table} [V, H] picked by {@code ids}: result [ids.length, H]. */
    Tensor embedding(Tensor table, int[] ids);

    /** Backward of {@link #embedding}: {@code dTable[ids[i]] += dy[i]} in place. */
    void embeddingBackward(Tensor dTable, int[] ids, Tensor dy);

    /**
     * Rotary embedding of {@code x} [B, T, nHeads, headDim] at {@code positions} [T], rotating
     * interleaved pairs (2i, 2i+1) of each head with theta {@code theta}; {@code inverse} rotates
     * back (the backward pass).
     */
    Tensor rope(Tensor x, int[] positions, float theta, boolean inverse);

    /**
     * Fused attention (online softmax). q [B, Tq, nH, hd], k and v [B, Tk, nKv, hd], checked by
     * {@link AttentionDims#of}; a causal mask needs Tq == Tk. Result [B, Tq, nH, hd]; {@code lse}
     * [B, nH, Tq], a tensor of this backend, is filled in place for the backward pass.
     */
    Tensor attention(Tensor q, Tensor k, Tensor v, AttentionMask mask, Tensor lse);

    /** Backward of {@link #attention}: accumulates into the non-null gradients dq, dk, dv. */
    void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut,
                           Tensor dq, Tensor dk, Tensor dv, AttentionMask mask);

    /**
     * Cross-entropy of rows of {@code logits} [R, V] against {@code targets} [R] (a negative target
     * is ignored): returns the per-row losses [R], -log softmax(logits)[target] (0 for ignored rows),
     * as a tensor of this backend.
     */
    Tensor crossEntropy(Tensor logits, int[] targets);

    /**
     * Backward of {@link #crossEntropy}: dlogits [R, V] = (softmax - onehot) * rowScale[r] * upstream
     * (0 for ignored rows); {@code rowScale} [R] and the rank-0 {@code upstream} are tensors of this backend.
     */
    Tensor crossEntropyBackward(Tensor logits, int[] targets, Tensor rowScale, Tensor upstream);

    /** {@code a += s * b} in place (same shapes). */
    void addInPlace(Tensor a, Tensor b, float s);

    /**
     * One AdamW step in place (torch.optim.AdamW semantics): {@code p -= lr*wd*p}, then
     * {@code m = b1 m + (1-b1) g}, {@code v = b2 v + (1-b2) g^2},
     * {@code p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)}.
     */
    void adamw(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
               float weightDecay, int step);
}
