package dev.ltm.it;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import dev.ltm.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Latent Thought Model of spec sections 1-2 written a second time, from PyTorch ops through
 * DJL and nothing of our engine: the reference the parity tests compare our model with.
 * Weights are named as in our model and stored [out, in] like torch.nn.Linear; autograd is
 * PyTorch's own (record with a GradientCollector around the calls).
 */
final class TorchLtm {

    /** The model's shape; {@code window} 0 means full causal attention. */
    record Dims(int vocab, int width, int layers, int heads, int kvHeads, int latents, int maxSeqLen, int window,
                float normEps, float ropeTheta) {
        int headDim() { return width / heads; }

        int perLayer() { return latents / layers; }
    }

    private final Dims d;
    private final Map<String, NDArray> w;

    TorchLtm(Dims d, Map<String, NDArray> weights) {
        this.d = d;
        this.w = weights;
    }

    /** Copies each of our weights into an NDArray of the same shape, in the same order. */
    static LinkedHashMap<String, NDArray> copyWeights(NDManager m, Map<String, Tensor> ours) {
        LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
        ours.forEach((name, t) -> out.put(name, Parity.nd(m, t)));
        return out;
    }

    // ---- the model (spec section 1) ---------------------------------------------------------

    /** Logits [B, T, V] of tokens [B][T] given z [B, L, m, H] (null when N_z = 0). */
    NDArray logits(NDManager m, int[][] tokens, NDArray z) {
        int b = tokens.length, t = tokens[0].length;
        int[] pos = new int[t];
        for (int i = 0; i < t; i++) pos[i] = i;
        NDArray x = embed(m, tokens);
        for (int l = 0; l < d.layers(); l++) {
            String n = "layers." + l + ".";
            // h = x + SelfAttn(RMSNorm(x)): causal window, RoPE on q and k.
            NDArray a = rmsNorm(x, w.get(n + "attn_norm.g"), d.normEps());
            NDArray q = rope(m, heads(linear(a, w.get(n + "attn.wq")), d.heads()), pos, d.ropeTheta());
            NDArray k = rope(m, heads(linear(a, w.get(n + "attn.wk")), d.kvHeads()), pos, d.ropeTheta());
            NDArray v = heads(linear(a, w.get(n + "attn.wv")), d.kvHeads());
            NDArray o = attention(m, q, k, v, true, d.window());
            x = x.add(linear(o.reshape(b, t, d.width()), w.get(n + "attn.wo")));
            if (d.latents() > 0) {
                // h = h + CrossAttn(RMSNorm(h), z_l): keys/values straight from z_l, RoPE at thought positions.
                NDArray zl = z.get(":, " + l + ", :, :");
                NDArray c = rmsNorm(x, w.get(n + "cross_norm.g"), d.normEps());
                NDArray cq = rope(m, heads(linear(c, w.get(n + "cross.wq")), d.heads()), pos, d.ropeTheta());
                NDArray ck = rope(m, heads(linear(zl, w.get(n + "cross.wk")), d.kvHeads()), thoughtPositions(), d.ropeTheta());
                NDArray cv = heads(linear(zl, w.get(n + "cross.wv")), d.kvHeads());
                NDArray co = attention(m, cq, ck, cv, false, 0);
                x = x.add(linear(co.reshape(b, t, d.width()), w.get(n + "cross.wo")));
            }
            // out = h + SwiGLU(RMSNorm(h)).
            NDArray f = rmsNorm(x, w.get(n + "ffn_norm.g"), d.normEps());
            x = x.add(swiGlu(f, w.get(n + "ffn.w1"), w.get(n + "ffn.w2"), w.get(n + "ffn.w3")));
        }
        // Final RMSNorm, head tied to the embedding.
        return linear(rmsNorm(x, w.get("norm_f.g"), d.normEps()), w.get("tok_emb"));
    }

    /** Token embeddings [B, T, H] as one-hot rows times tok_emb (exact, and differentiable in PyTorch). */
    private NDArray embed(NDManager m, int[][] tokens) {
        int b = tokens.length, t = tokens[0].length, v = d.vocab();
        float[] hot = new float[b * t * v];
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) hot[(i * t + j) * v + tokens[i][j]] = 1f;
        return Parity.owned(m.create(hot, new Shape(b, t, v))).matMul(w.get("tok_emb"));
    }

    /** Vector j of each group sits at position j * (maxSeqLen / N_z) (spec section 1). */
    private int[] thoughtPositions() {
        int[] p = new int[d.perLayer()];
        for (int j = 0; j < p.length; j++) p[j] = j * (d.maxSeqLen() / d.latents());
        return p;
    }

    private NDArray heads(NDArray x, int n) {
        long[] s = x.getShape().getShape();
        return x.reshape(s[0], s[1], n, d.headDim());
    }

    // ---- the bound (spec section 2) ---------------------------------------------------------

    /** z = mu + eps * exp(logvar / 2). */
    static NDArray z(NDArray mu, NDArray logvar, NDArray eps) {
        return mu.add(eps.mul(logvar.mul(0.5f).exp()));
    }

    /** KL(N(mu, exp(logvar)) || N(0, I)) of each sequence: [B], from mu and logvar [B, ...]. */
    static NDArray klPerSequence(NDArray mu, NDArray logvar) {
        NDArray inner = logvar.add(1f).sub(mu.square()).sub(logvar.exp());
        long b = mu.getShape().get(0);
        // An explicit row size, as -1 cannot be inferred when N_z = 0 leaves no elements.
        return inner.reshape(b, mu.size() / b).sum(new int[] {1}).mul(-0.5f);
    }

    /** Token NLL summed over each sequence: [B], from logits [B, T, V] and targets [B][T] (negative: not predicted). */
    static NDArray nllPerSequence(NDManager m, NDArray logits, int[][] targets) {
        long[] s = logits.getShape().getShape();
        int b = (int) s[0], t = (int) s[1];
        int[] flat = new int[b * t];
        float[] weight = new float[b * t];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                flat[i * t + j] = targets[i][j];
                weight[i * t + j] = targets[i][j] >= 0 ? 1f : 0f;
            }
        }
        NDArray rows = crossEntropyRows(m, logits.reshape(b * t, s[2]), flat);
        return rows.mul(Parity.owned(m.create(weight, new Shape(b * t)))).reshape(b, t).sum(new int[] {1});
    }

    // ---- the ops, from PyTorch primitives ---------------------------------------------------

    /** x [..., in] times w [out, in] transposed. */
    static NDArray linear(NDArray x, NDArray w) { return x.matMul(w.transpose()); }

    /** x / sqrt(mean(x^2) + eps) * g over the last axis. */
    static NDArray rmsNorm(NDArray x, NDArray g, float eps) {
        int last = x.getShape().dimension() - 1;
        return x.div(x.square().mean(new int[] {last}, true).add(eps).sqrt()).mul(g);
    }

    /** w2(silu(w1 a) * w3 a). */
    static NDArray swiGlu(NDArray a, NDArray w1, NDArray w2, NDArray w3) {
        NDArray u = linear(a, w1);
        return linear(u.mul(Activation.sigmoid(u)).mul(linear(a, w3)), w2);
    }

    /**
     * RoPE of x [B, T, nH, hd] at positions [T], theta as given: pairs (2i, 2i+1) rotate by angle
     * pos * theta^(-2i/hd), the frequencies computed in float32 as llama does.
     */
    static NDArray rope(NDManager m, NDArray x, int[] positions, float theta) {
        long[] s = x.getShape().getShape();
        int t = (int) s[1], half = (int) s[3] / 2;
        float[] p = new float[t];
        for (int i = 0; i < t; i++) p[i] = positions[i];
        NDArray exponent = m.arange(0f, (float) s[3], 2f, DataType.FLOAT32).div((float) s[3]);
        NDArray freq = Parity.owned(m.create(theta)).pow(exponent).pow(-1f);
        NDArray angle = Parity.owned(m.create(p, new Shape(t, 1))).mul(freq.reshape(1, half)).reshape(1, t, 1, half);
        NDArray cos = angle.cos(), sin = angle.sin();
        NDArray pairs = x.reshape(s[0], s[1], s[2], half, 2);
        NDArray x0 = pairs.get("..., 0"), x1 = pairs.get("..., 1");
        NDArray r0 = x0.mul(cos).sub(x1.mul(sin)), r1 = x0.mul(sin).add(x1.mul(cos));
        return r0.stack(r1, 4).reshape(s);
    }

    /**
     * softmax(q k^T / sqrt(hd) + mask) v with q [B, Tq, nH, hd], k and v [B, Tk, nKv, hd]; query
     * head h reads K/V head h / (nH / nKv). Causal: query i sees keys i-window+1 .. i (window 0:
     * all keys up to i); not causal: every key. The mask is an explicit matrix of 0 and -inf.
     */
    static NDArray attention(NDManager m, NDArray q, NDArray k, NDArray v, boolean causal, int window) {
        long[] qs = q.getShape().getShape(), ks = k.getShape().getShape();
        long b = qs[0], tq = qs[1], nh = qs[2], hd = qs[3], tk = ks[1], nkv = ks[2], g = nh / nkv;
        float[] mask = new float[(int) (tq * tk)];
        for (int i = 0; i < tq; i++) {
            for (int j = 0; j < tk; j++) {
                boolean seen = !causal || (j <= i && (window <= 0 || j > i - window));
                mask[(int) (i * tk + j)] = seen ? 0f : Float.NEGATIVE_INFINITY;
            }
        }
        // Group the query heads by their K/V head: [B, nKv, g, Tq, hd] against [B, nKv, 1, Tk, hd].
        NDArray qg = q.reshape(b, tq, nkv, g, hd).transpose(0, 2, 3, 1, 4);
        NDArray kg = k.transpose(0, 2, 1, 3).reshape(b, nkv, 1, tk, hd);
        NDArray vg = v.transpose(0, 2, 1, 3).reshape(b, nkv, 1, tk, hd);
        NDArray scores = qg.matMul(kg.transpose(0, 1, 2, 4, 3)).mul((float) (1.0 / Math.sqrt(hd)))
                .add(Parity.owned(m.create(mask, new Shape(tq, tk))));
        NDArray o = scores.softmax(4).matMul(vg); // [B, nKv, g, Tq, hd]
        return o.transpose(0, 3, 1, 2, 4).reshape(b, tq, nh, hd);
    }

    /** -log softmax(logits_r)[targets_r] per row: [R]; negative targets give 0. */
    static NDArray crossEntropyRows(NDManager m, NDArray logits, int[] targets) {
        long r = logits.getShape().get(0);
        long[] idx = new long[targets.length];
        float[] keep = new float[targets.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = Math.max(0, targets[i]);
            keep[i] = targets[i] >= 0 ? 1f : 0f;
        }
        NDArray picked = logits.logSoftmax(1).gather(Parity.owned(m.create(idx, new Shape(r, 1))), 1).reshape(r);
        return picked.neg().mul(Parity.owned(m.create(keep, new Shape(r))));
    }
}
