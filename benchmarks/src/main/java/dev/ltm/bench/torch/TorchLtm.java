package dev.ltm.bench.torch;

import static dev.ltm.bench.torch.TorchEngine.add;
import static dev.ltm.bench.torch.TorchEngine.div;
import static dev.ltm.bench.torch.TorchEngine.mul;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.TokenBatch;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.FastFitter;
import dev.ltm.optim.Schedules;
import dev.ltm.tensor.AttentionMask;
import dev.ltm.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Latent Thought Model of spec sections 1-2 written a second time, from PyTorch ops through DJL
 * and nothing of our engine: the one reference that the parity tests (module {@code test}) compare
 * our model with and that {@code bench compare} times ours against. Weights are named and stored
 * [out, in] as in our model (like torch.nn.Linear); autograd is PyTorch's own. Besides the model it
 * runs the same fast fit and the same dual-rate training step as ours; in the fast fit the weights
 * do not require gradients (as ours are frozen), so PyTorch computes gradients to mu and logvar only.
 *
 * <p>Memory: every array made here is a copy in memory PyTorch allocated and owns ({@link
 * TorchEngine#owned}); what lives as long as the model (weights, RoPE tables, masks, moments) is
 * taken out of the current {@link NDScope} ({@link #keep}), everything else belongs to the caller's
 * scope, or to the manager where the caller opens none. Scalars, too, are PyTorch's ({@link
 * TorchEngine#scalar}): never DJL's Number overloads, whose buffers the GC frees under autograd.
 */
public final class TorchLtm {
    private final LtmConfig c;
    private final NDManager m;
    private final LinkedHashMap<String, NDArray> w = new LinkedHashMap<>();
    /** The slow optimizer and its settings; null for a model built without a trainer. */
    private final TorchAdamW slow;
    private final DualRateTrainer.Settings trainSettings;
    private final boolean reusePrefix;
    /** cos and sin [1, T, 1, hd/2] per token count T, and of the thought positions; made once, kept. */
    private final Map<Integer, NDArray[]> ropeTables = new HashMap<>();
    private final NDArray[] thoughtRope;
    /** Causal (windowed) additive masks [T, T] of 0 and -inf per token count T. */
    private final Map<Integer, NDArray> masks = new HashMap<>();
    private int slowSteps;

    /**
     * A copy of {@code weights} in PyTorch, trained (by {@link #trainStep}) with {@code settings};
     * {@code reusePrefix} also gives PyTorch's fast fit the z-independent prefix once per fit.
     */
    public TorchLtm(LtmConfig config, Map<String, Tensor> weights, DualRateTrainer.Settings settings, boolean reusePrefix,
                    NDManager manager) {
        this.c = config;
        this.m = manager;
        this.trainSettings = settings;
        this.reusePrefix = reusePrefix;
        weights.forEach((name, t) -> w.put(name, keep(TorchEngine.nd(manager, t))));
        if (settings == null) {
            this.slow = null;
        } else {
            // Weight decay on every matrix, the tied embedding included; none on the RMSNorm gains.
            List<TorchAdamW.Param> params = new ArrayList<>();
            w.forEach((name, p) -> params.add(new TorchAdamW.Param(p, p.getShape().dimension() >= 2 ? settings.weightDecay() : 0f)));
            this.slow = new TorchAdamW(params, settings.beta1(), settings.beta2(), settings.eps(), manager, true);
        }
        this.thoughtRope = config.latentCount() == 0 ? null : keep(ropeTables(manager, config.thoughtPositions(), config));
    }

    /**
     * A copy of {@code weights} in PyTorch for forward and backward passes only, as the parity tests
     * use it: {@link #weights()} are the leaves whose gradients they read; {@link #trainStep} refuses.
     */
    public TorchLtm(LtmConfig config, Map<String, Tensor> weights, NDManager manager) {
        this(config, weights, null, false, manager);
    }

    /** The weights by name, in our model's order: leaves of PyTorch's autograd when a caller asks for their gradients. */
    public Map<String, NDArray> weights() { return Collections.unmodifiableMap(w); }

    // ---- the model (spec section 1) ---------------------------------------------------------

    /** Logits [B, T, V] of tokens [B][T] given z [B, L, m, H] (null when N_z = 0). */
    public NDArray logits(int[][] tokens, NDArray z) {
        return logitsAfterPrefix(prefix(tokens), z);
    }

    /** The z-independent part: the embedding and layer 1's self-attention block, [B, T, H]. */
    NDArray prefix(int[][] tokens) {
        return selfAttentionBlock(0, embed(tokens));
    }

    /** Layers 1..L after layer 1's self-attention block, then the head tied to the embedding. */
    NDArray logitsAfterPrefix(NDArray x, NDArray z) {
        for (int l = 0; l < c.layers(); l++) {
            String n = "layers." + l + ".";
            if (l > 0) x = selfAttentionBlock(l, x);
            if (c.latentCount() > 0) {
                // h = h + CrossAttn(RMSNorm(h), z_l): keys/values straight from z_l, RoPE at thought positions.
                NDArray zl = z.get(":, " + l + ", :, :");
                NDArray[] tok = rope((int) x.getShape().get(1));
                NDArray a = rmsNorm(x, w.get(n + "cross_norm.g"), c.normEps());
                NDArray q = rotate(heads(linear(a, w.get(n + "cross.wq")), c.heads()), tok);
                NDArray k = rotate(heads(linear(zl, w.get(n + "cross.wk")), c.kvHeads()), thoughtRope);
                NDArray v = heads(linear(zl, w.get(n + "cross.wv")), c.kvHeads());
                x = x.add(linear(mergeHeads(attention(q, k, v, null)), w.get(n + "cross.wo")));
            }
            // out = h + SwiGLU(RMSNorm(h)).
            NDArray a = rmsNorm(x, w.get(n + "ffn_norm.g"), c.normEps());
            x = x.add(swiGlu(a, w.get(n + "ffn.w1"), w.get(n + "ffn.w2"), w.get(n + "ffn.w3")));
        }
        return linear(rmsNorm(x, w.get("norm_f.g"), c.normEps()), w.get("tok_emb"));
    }

    /** h = x + SelfAttn(RMSNorm(x)): causal, sliding window, RoPE on q and k. */
    private NDArray selfAttentionBlock(int l, NDArray x) {
        String n = "layers." + l + ".attn.";
        int t = (int) x.getShape().get(1);
        NDArray[] tok = rope(t);
        NDArray a = rmsNorm(x, w.get("layers." + l + ".attn_norm.g"), c.normEps());
        NDArray q = rotate(heads(linear(a, w.get(n + "wq")), c.heads()), tok);
        NDArray k = rotate(heads(linear(a, w.get(n + "wk")), c.kvHeads()), tok);
        NDArray v = heads(linear(a, w.get(n + "wv")), c.kvHeads());
        NDArray mask = masks.computeIfAbsent(t, size -> keep(maskMatrix(m, size, size, c.selfAttentionMask())));
        return x.add(linear(mergeHeads(attention(q, k, v, mask)), w.get(n + "wo")));
    }

    /** Token embeddings [B, T, H] (torch.nn.functional.embedding, differentiable to tok_emb). */
    private NDArray embed(int[][] tokens) {
        NDArray ids = TorchEngine.owned(m.create(flat(tokens), new Shape(tokens.length, tokens[0].length)));
        return ids.getNDArrayInternal().embedding(ids, w.get("tok_emb"), SparseFormat.DENSE).singletonOrThrow();
    }

    /** [B, T, n*hd] viewed as [B, T, n, hd]. */
    private NDArray heads(NDArray x, int n) {
        long[] s = x.getShape().getShape();
        return x.reshape(s[0], s[1], n, c.headDim());
    }

    /** [B, T, nH, hd] back to [B, T, H]. */
    private NDArray mergeHeads(NDArray x) {
        long[] s = x.getShape().getShape();
        return x.reshape(s[0], s[1], c.width());
    }

    /** The RoPE tables of positions 0 .. t-1, made once per t. */
    private NDArray[] rope(int t) {
        return ropeTables.computeIfAbsent(t, n -> {
            int[] pos = new int[n];
            for (int i = 0; i < n; i++) pos[i] = i;
            return keep(ropeTables(m, pos, c));
        });
    }

    private static NDArray[] ropeTables(NDManager m, int[] positions, LtmConfig c) {
        return ropeTables(m, positions, c.ropeTheta(), c.headDim());
    }

    // ---- the ops, from PyTorch primitives ---------------------------------------------------

    /** x [..., in] times w [out, in] transposed (torch.nn.functional.linear without bias). */
    public static NDArray linear(NDArray x, NDArray weight) { return x.matMul(weight.transpose()); }

    /** x / sqrt(mean(x^2) + eps) * g over the last axis. */
    public static NDArray rmsNorm(NDArray x, NDArray g, float eps) {
        return x.div(add(x.square().mean(new int[] {-1}, true), eps).sqrt()).mul(g);
    }

    /** w2(silu(w1 a) * w3 a). */
    public static NDArray swiGlu(NDArray a, NDArray w1, NDArray w2, NDArray w3) {
        NDArray u = linear(a, w1);
        return linear(u.mul(Activation.sigmoid(u)).mul(linear(a, w3)), w2);
    }

    /** RoPE of x [B, T, nH, hd] at {@code positions} [T]: {@link #rotate} with {@link #ropeTables}. */
    public static NDArray rope(NDManager m, NDArray x, int[] positions, float theta) {
        return rotate(x, ropeTables(m, positions, theta, (int) x.getShape().get(3)));
    }

    /**
     * cos and sin [1, T, 1, hd/2] of the angles pos * theta^(-2i/hd), the frequencies computed in
     * float32 PyTorch ops as llama does.
     */
    static NDArray[] ropeTables(NDManager m, int[] positions, float theta, int headDim) {
        int t = positions.length, half = headDim / 2;
        float[] p = new float[t];
        for (int i = 0; i < t; i++) p[i] = positions[i];
        NDArray exponent = div(m.arange(0f, (float) headDim, 2f, DataType.FLOAT32), headDim);
        NDArray freq = TorchEngine.scalar(m, theta).pow(exponent).pow(TorchEngine.scalar(m, -1f));
        NDArray angle = TorchEngine.owned(m.create(p, new Shape(t, 1))).mul(freq.reshape(1, half)).reshape(1, t, 1, half);
        return new NDArray[] {angle.cos(), angle.sin()};
    }

    /** RoPE on interleaved pairs (2i, 2i+1) of each head of x [B, T, n, hd] with tables cos, sin [1, T, 1, hd/2]. */
    static NDArray rotate(NDArray x, NDArray[] cosSin) {
        long[] s = x.getShape().getShape();
        NDArray pairs = x.reshape(s[0], s[1], s[2], s[3] / 2, 2);
        NDArray x0 = pairs.get("..., 0"), x1 = pairs.get("..., 1");
        NDArray cos = cosSin[0], sin = cosSin[1];
        return x0.mul(cos).sub(x1.mul(sin)).stack(x0.mul(sin).add(x1.mul(cos)), 4).reshape(s);
    }

    /** {@link #attention(NDArray, NDArray, NDArray, NDArray)} under {@code mask}, its matrix made for these sizes. */
    public static NDArray attention(NDManager m, NDArray q, NDArray k, NDArray v, AttentionMask mask) {
        return attention(q, k, v, maskMatrix(m, (int) q.getShape().get(1), (int) k.getShape().get(1), mask));
    }

    /**
     * softmax(q k^T / sqrt(hd) + mask) v with q [B, Tq, nH, hd], k and v [B, Tk, nKv, hd]; query head
     * h reads K/V head h / (nH / nKv); mask null: every key is seen (cross-attention).
     */
    static NDArray attention(NDArray q, NDArray k, NDArray v, NDArray mask) {
        long[] qs = q.getShape().getShape(), ks = k.getShape().getShape();
        long b = qs[0], tq = qs[1], nh = qs[2], hd = qs[3], tk = ks[1], nkv = ks[2], g = nh / nkv;
        // [B, nKv, g, Tq, hd] against [B, nKv, 1, Tk, hd]: no copy of K/V per query head.
        NDArray qg = q.reshape(b, tq, nkv, g, hd).transpose(0, 2, 3, 1, 4);
        NDArray kg = k.transpose(0, 2, 1, 3).reshape(b, nkv, 1, tk, hd);
        NDArray vg = v.transpose(0, 2, 1, 3).reshape(b, nkv, 1, tk, hd);
        NDArray scores = mul(qg.matMul(kg.transpose(0, 1, 2, 4, 3)), (float) (1.0 / Math.sqrt(hd)));
        if (mask != null) scores = scores.add(mask);
        NDArray o = scores.softmax(-1).matMul(vg);
        return o.transpose(0, 3, 1, 2, 4).reshape(b, tq, nh, hd);
    }

    /**
     * The additive mask [Tq, Tk] of 0 and -inf: causal with width W lets query i see keys
     * i-W+1 .. i; none gives null (every key seen), as {@link #attention(NDArray, NDArray, NDArray, NDArray)} takes it.
     */
    static NDArray maskMatrix(NDManager m, int tq, int tk, AttentionMask mask) {
        if (!(mask instanceof AttentionMask.Causal causal)) return null;
        int window = causal.window();
        float[] add = new float[tq * tk];
        for (int i = 0; i < tq; i++) {
            for (int j = 0; j < tk; j++) add[i * tk + j] = j <= i && j > i - window ? 0f : Float.NEGATIVE_INFINITY;
        }
        return TorchEngine.owned(m.create(add, new Shape(tq, tk)));
    }

    // ---- the bound (spec section 2) ---------------------------------------------------------

    /** z = mu + eps * exp(logvar / 2). */
    public static NDArray z(NDArray mu, NDArray logvar, NDArray eps) {
        return mu.add(eps.mul(mul(logvar, 0.5f).exp()));
    }

    /** KL(N(mu, exp(logvar)) || N(0, I)) of each sequence: [B], from mu and logvar [B, ...]. */
    public static NDArray klPerSequence(NDArray mu, NDArray logvar) {
        long b = mu.getShape().get(0);
        // An explicit row size, as -1 cannot be inferred when N_z = 0 leaves no elements.
        return mul(klTerms(mu, logvar).reshape(b, mu.size() / b).sum(new int[] {1}), -0.5f);
    }

    /** KL(q || N(0, I)) summed over the batch. */
    private static NDArray klSum(NDArray mu, NDArray logvar) {
        return mul(klTerms(mu, logvar).sum(), -0.5f);
    }

    /** The terms of KL = -1/2 sum(1 + logvar - mu^2 - exp(logvar)), elementwise. */
    private static NDArray klTerms(NDArray mu, NDArray logvar) {
        return add(logvar, 1f).sub(mu.square()).sub(logvar.exp());
    }

    /** Token NLL summed over each sequence: [B], from logits [B, T, V] and targets [B][T] (negative: not predicted). */
    public static NDArray nllPerSequence(NDManager m, NDArray logits, int[][] targets) {
        long[] s = logits.getShape().getShape();
        int b = (int) s[0], t = (int) s[1];
        int[] flat = new int[b * t];
        for (int i = 0; i < b; i++) System.arraycopy(targets[i], 0, flat, i * t, t);
        return crossEntropyRows(m, logits.reshape(b * t, s[2]), flat).reshape(b, t).sum(new int[] {1});
    }

    /** Sum over the batch of the token NLL of logits [B, T, V] (negative targets are not predicted). */
    private NDArray nllSum(NDArray logits, TokenBatch batch) {
        return crossEntropyRows(m, logits.reshape(batch.batchSize() * batch.length(), c.vocabSize()), batch.flatTargets()).sum();
    }

    /** -log softmax(logits_r)[targets_r] per row of logits [R, V]: [R]; negative targets give 0. */
    public static NDArray crossEntropyRows(NDManager m, NDArray logits, int[] targets) {
        long r = logits.getShape().get(0);
        long[] idx = new long[targets.length];
        float[] keep = new float[targets.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = Math.max(0, targets[i]);
            keep[i] = targets[i] >= 0 ? 1f : 0f;
        }
        NDArray picked = logits.logSoftmax(1).gather(TorchEngine.owned(m.create(idx, new Shape(r, 1))), 1).reshape(r);
        return picked.neg().mul(TorchEngine.owned(m.create(keep, new Shape(r))));
    }

    // ---- the fast fit and the dual-rate step (spec section 2) --------------------------------

    /** The outcome of a fit: z = mu + eps * sigma [B, L, m, H] and the final sum of NELBO over the batch. */
    public record Fit(float[] z, double nelbo) {}

    /**
     * Fits mu and logvar from the given start (the same tensors our fitter starts from) for
     * {@code fast.steps()} AdamW steps with the weights not requiring gradients; returns z and the
     * bound measured by one more forward pass.
     */
    public Fit fastFit(TokenBatch batch, Tensor mu0, Tensor logvar0, Tensor eps0, FastFitter.Settings fast) {
        try (NDScope _ = new NDScope()) {
            NDArray[] zAndBound = fit(batch, mu0, logvar0, eps0, fast);
            return new Fit(zAndBound[0].toFloatArray(), zAndBound[1].getFloat());
        }
    }

    /** z (no gradient) and the bound, in the caller's scope. */
    private NDArray[] fit(TokenBatch batch, Tensor mu0, Tensor logvar0, Tensor eps0, FastFitter.Settings fast) {
        NDArray mu = TorchEngine.nd(m, mu0), logvar = TorchEngine.nd(m, logvar0), eps = TorchEngine.nd(m, eps0);
        mu.setRequiresGradient(true);
        logvar.setRequiresGradient(true);
        TorchAdamW opt = new TorchAdamW(List.of(new TorchAdamW.Param(mu, fast.weightDecay()),
                new TorchAdamW.Param(logvar, fast.weightDecay())),
                fast.beta1(), fast.beta2(), fast.eps(), m, false);
        // Weights require no gradient, so the prefix records no graph: computed once it is a constant.
        NDArray prefix = reusePrefix ? prefix(batch.inputs()) : null;
        for (int s = 0; s < fast.steps(); s++) {
            try (NDScope _ = new NDScope()) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray x = reusePrefix ? prefix : prefix(batch.inputs());
                    NDArray loss = nllSum(logitsAfterPrefix(x, z(mu, logvar, eps)), batch).add(klSum(mu, logvar));
                    gc.backward(loss);
                }
                opt.step(Schedules.fastCosine(s, fast.steps(), fast.lr()));
                opt.zeroGrad();
            }
        }
        mu.setRequiresGradient(false);
        logvar.setRequiresGradient(false);
        NDArray z = z(mu, logvar, eps);
        NDArray x = reusePrefix ? prefix : prefix(batch.inputs());
        NDArray bound = nllSum(logitsAfterPrefix(x, z), batch).add(klSum(mu, logvar));
        return new NDArray[] {z, bound};
    }

    /** What one training step measured: the slow loss (mean NLL per token given z) and the gradient norm before clipping. */
    public record Step(double loss, double gradNorm) {}

    /**
     * One dual-rate step (spec section 2): the fast fit from the given start, then one slow AdamW
     * step on the mean next-token NLL given z, with global-norm clipping and the warm-up cosine lr.
     */
    public Step trainStep(TokenBatch batch, Tensor mu0, Tensor logvar0, Tensor eps0) {
        if (slow == null) throw new IllegalStateException("TorchLtm: built without trainer settings, it cannot take a training step");
        try (NDScope _ = new NDScope()) {
            NDArray z = c.latentCount() == 0 ? null : fit(batch, mu0, logvar0, eps0, trainSettings.fast())[0];
            w.values().forEach(p -> p.setRequiresGradient(true));
            NDArray loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                loss = div(nllSum(logits(batch.inputs(), z), batch), batch.tokenCount());
                gc.backward(loss);
            }
            double norm = slow.clipGlobalNorm(trainSettings.clipNorm());
            DualRateTrainer.Settings s = trainSettings;
            slow.step(Schedules.warmupCosine(slowSteps, s.warmupSteps(), s.totalSteps(), s.peakLr()));
            slow.zeroGrad();
            w.values().forEach(p -> p.setRequiresGradient(false));
            slowSteps++;
            return new Step(loss.getFloat(), norm);
        }
    }

    // ---- helpers ----------------------------------------------------------------------------

    /** Takes an array out of the current scope: it lives as long as the manager. */
    static NDArray keep(NDArray a) {
        NDScope.unregister(a);
        return a;
    }

    private static NDArray[] keep(NDArray[] arrays) {
        for (NDArray a : arrays) keep(a);
        return arrays;
    }

    private static long[] flat(int[][] tokens) {
        int t = tokens[0].length;
        long[] ids = new long[tokens.length * t];
        for (int b = 0; b < tokens.length; b++) for (int j = 0; j < t; j++) ids[b * t + j] = tokens[b][j];
        return ids;
    }

    /** Sets a leaf's accumulated gradient to zero (torch's param.grad.zero_()). */
    static void zeroGrad(NDArray p) {
        JniUtils.zeroGrad((PtNDArray) p);
    }
}
