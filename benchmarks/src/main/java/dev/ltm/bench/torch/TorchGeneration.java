package dev.ltm.bench.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.Sampling;
import dev.ltm.model.WeightNames;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;

/**
 * KV-cached decoding of one sequence (spec section 3) in PyTorch ops through DJL, the twin of our
 * {@code Generator.generate} for side-by-side timing: the same weights, the same per-token loop
 * (embed one token, each layer adds its k and v to a preallocated cache [1, maxSeqLen, nKv, hd] and
 * attends to the window's cached keys, cross-attention to z_l's keys and values computed once, the
 * tied head), and the same {@link Sampling} on the logits read back, so both draw the same tokens
 * when their logits agree.
 */
public final class TorchGeneration {
    private final LtmConfig c;
    private final NDManager m;
    private final Map<String, NDArray> w = new HashMap<>();
    /** cos and sin [1, maxSeqLen, 1, hd/2] of the token positions 0..maxSeqLen-1. */
    private final NDArray[] tokenRope;
    private final NDArray[] thoughtRope;

    /** A copy of {@code weights} (named as in our model, stored [out, in]) in {@code manager}. */
    public TorchGeneration(LtmConfig config, Map<String, Tensor> weights, NDManager manager) {
        this.c = config;
        this.m = manager;
        weights.forEach((name, t) -> w.put(name, kept(TorchEngine.nd(manager, t))));
        int[] positions = new int[config.maxSeqLen()];
        for (int i = 0; i < positions.length; i++) positions[i] = i;
        this.tokenRope = ropeTables(positions);
        this.thoughtRope = config.latentCount() == 0 ? null : ropeTables(config.thoughtPositions());
    }

    /**
     * Continues {@code prompt} by {@code maxNewTokens} tokens (fewer at maxSeqLen) given thoughts
     * {@code z} [1, L, m, H] (null when N_z = 0); returns the new tokens.
     */
    public int[] generate(int[] prompt, Tensor z, int maxNewTokens, Sampling sampling, Rng rng) {
        try (NDScope _ = new NDScope()) {
            int layers = c.layers(), kv = c.kvHeads(), hd = c.headDim();
            NDArray[] keys = new NDArray[layers], values = new NDArray[layers], zKeys = new NDArray[layers], zValues = new NDArray[layers];
            NDArray zt = z == null ? null : TorchEngine.nd(m, z);
            for (int l = 0; l < layers; l++) {
                keys[l] = m.zeros(new Shape(1, c.maxSeqLen(), kv, hd));
                values[l] = m.zeros(new Shape(1, c.maxSeqLen(), kv, hd));
                if (zt != null) {
                    WeightNames.Projections p = WeightNames.layer(l).cross();
                    NDArray zl = zt.get(":, " + l + ", :, :");
                    zKeys[l] = rotate(heads(linear(zl, w.get(p.wk())), kv), thoughtRope);
                    zValues[l] = heads(linear(zl, w.get(p.wv())), kv);
                }
            }
            // The same loop as our Generator: the prompt fills the cache, then sample, feed, sample ...
            float[] logits = null;
            for (int pos = 0; pos < prompt.length; pos++) logits = step(prompt[pos], pos, keys, values, zKeys, zValues);
            int[] out = new int[Math.min(maxNewTokens, c.maxSeqLen() - prompt.length)];
            int n = 0;
            while (n < out.length) {
                out[n++] = sampling.next(logits, rng);
                if (prompt.length + n >= c.maxSeqLen()) break;
                logits = step(out[n - 1], prompt.length + n - 1, keys, values, zKeys, zValues);
            }
            return out;
        }
    }

    /** Feeds {@code token} at {@code pos}; returns the logits [V] of the next position. */
    private float[] step(int token, int pos, NDArray[] keys, NDArray[] values, NDArray[] zKeys, NDArray[] zValues) {
        try (NDScope _ = new NDScope()) {
            NDArray x = w.get(WeightNames.TOKEN_EMBEDDING).get(token).reshape(1, 1, c.width());
            NDArray[] rope = {tokenRope[0].get(":, " + pos + ":" + (pos + 1)), tokenRope[1].get(":, " + pos + ":" + (pos + 1))};
            int lo = c.selfAttentionMask().firstKey(pos);
            for (int l = 0; l < c.layers(); l++) {
                WeightNames.Layer n = WeightNames.layer(l);
                // h = x + SelfAttn(RMSNorm(x)), this token's k and v written into the cache first
                NDArray a = rmsNorm(x, w.get(n.attnNorm()));
                NDArray q = rotate(heads(linear(a, w.get(n.attn().wq())), c.heads()), rope);
                keys[l].set(new NDIndex(":, " + pos), rotate(heads(linear(a, w.get(n.attn().wk())), c.kvHeads()), rope).get(":, 0"));
                values[l].set(new NDIndex(":, " + pos), heads(linear(a, w.get(n.attn().wv())), c.kvHeads()).get(":, 0"));
                String window = ":, " + lo + ":" + (pos + 1);
                x = x.add(linear(attend(q, keys[l].get(window), values[l].get(window)), w.get(n.attn().wo())));
                if (zKeys[l] != null) {
                    // h = h + CrossAttn(RMSNorm(h), z_l)
                    NDArray b = rmsNorm(x, w.get(n.crossNorm()));
                    NDArray qc = rotate(heads(linear(b, w.get(n.cross().wq())), c.heads()), rope);
                    x = x.add(linear(attend(qc, zKeys[l], zValues[l]), w.get(n.cross().wo())));
                }
                // out = h + w2(silu(w1 a) * w3 a)
                NDArray f = rmsNorm(x, w.get(n.ffnNorm()));
                NDArray u = linear(f, w.get(n.w1()));
                x = x.add(linear(u.mul(Activation.sigmoid(u)).mul(linear(f, w.get(n.w3()))), w.get(n.w2())));
            }
            return linear(rmsNorm(x, w.get(WeightNames.FINAL_NORM)), w.get(WeightNames.TOKEN_EMBEDDING)).toFloatArray();
        }
    }

    /** One query q [1, 1, nH, hd] against k, v [1, S, nKv, hd]: softmax(q k^T / sqrt(hd)) v as [1, 1, H]. */
    private NDArray attend(NDArray q, NDArray k, NDArray v) {
        long s = k.getShape().get(1), nkv = c.kvHeads(), g = c.heads() / nkv, hd = c.headDim();
        NDArray qg = q.reshape(nkv, g, hd);                         // [nKv, g, hd]
        NDArray kg = k.reshape(s, nkv, hd).transpose(1, 2, 0);      // [nKv, hd, S]
        NDArray vg = v.reshape(s, nkv, hd).transpose(1, 0, 2);      // [nKv, S, hd]
        NDArray p = TorchEngine.mul(qg.matMul(kg), (float) (1.0 / Math.sqrt(hd))).softmax(-1);
        return p.matMul(vg).reshape(1, 1, c.width());
    }

    private static NDArray linear(NDArray x, NDArray weight) { return TorchLtm.linear(x, weight); }

    private NDArray rmsNorm(NDArray x, NDArray g) { return TorchLtm.rmsNorm(x, g, c.normEps()); }

    private NDArray heads(NDArray x, int n) {
        long[] s = x.getShape().getShape();
        return x.reshape(s[0], s[1], n, c.headDim());
    }

    /** RoPE on interleaved pairs of x [B, T, n, hd] with cos, sin [1, T, 1, hd/2]: the reference model's rotation. */
    private static NDArray rotate(NDArray x, NDArray[] cosSin) { return TorchLtm.rotate(x, cosSin); }

    /** cos and sin [1, T, 1, hd/2] of pos * theta^(-2i/hd), frequencies in float as in our CPU backend. */
    private NDArray[] ropeTables(int[] positions) {
        int half = c.headDim() / 2, t = positions.length;
        float[] cos = new float[t * half], sin = new float[t * half];
        for (int p = 0; p < t; p++) {
            for (int i = 0; i < half; i++) {
                float freq = (float) (1.0 / Math.pow(c.ropeTheta(), (float) (2 * i) / c.headDim()));
                float angle = positions[p] * freq;
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        Shape s = new Shape(1, t, 1, half);
        return new NDArray[] {kept(m.create(cos, s)), kept(m.create(sin, s))};
    }

    /** Out of the current scope: lives as long as the manager. */
    private static NDArray kept(NDArray a) {
        NDScope.unregister(a);
        return a;
    }
}
