package dev.ltm.model;

import static dev.ltm.autograd.Ops.add;
import static dev.ltm.autograd.Ops.attention;
import static dev.ltm.autograd.Ops.embedding;
import static dev.ltm.autograd.Ops.linear;
import static dev.ltm.autograd.Ops.mul;
import static dev.ltm.autograd.Ops.reshape;
import static dev.ltm.autograd.Ops.rmsNorm;
import static dev.ltm.autograd.Ops.rope;
import static dev.ltm.autograd.Ops.silu;
import static dev.ltm.autograd.Ops.slice;

import dev.ltm.autograd.NoGrad;
import dev.ltm.autograd.Var;
import dev.ltm.tensor.Backend;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Latent Thought Model of spec section 1: a pre-norm decoder whose layer l also
 * cross-attends to its own group z_l of thought vectors. The weights are named tensors stored
 * [out, in] like torch.nn.Linear; the forward pass is built from autograd ops on {@link Params},
 * so the same code serves the fast fit (frozen weights) and the slow step (trainable weights).
 *
 * <p>Thread safety: the forward methods only read the weights, so on the CPU backend any number of
 * threads may run them (and the fits, decoding and evaluation built on them) at once, each getting
 * the bits it would get alone. Changing the weights (a training step, {@code parameters()} written
 * to) while another thread reads them is not safe: serialise it, as the {@code Ltm} facade does.
 */
public final class LatentThoughtModel {
    private final LtmConfig config;
    private final LinkedHashMap<String, Tensor> parameters;

    // ---- parameters (spec section 1: no biases, tied embedding, init) -----------------------

    /**
     * Every weight's name and shape, in the model's order: {@code tok_emb} [V, H]; per layer l,
     * {@code layers.l.attn_norm.g}, {@code layers.l.attn.{wq,wk,wv,wo}}, when N_z > 0
     * {@code layers.l.cross_norm.g} and {@code layers.l.cross.{wq,wk,wv,wo}}, then
     * {@code layers.l.ffn_norm.g} and {@code layers.l.ffn.{w1,w2,w3}}; finally {@code norm_f.g}.
     */
    public static LinkedHashMap<String, Shape> parameterShapes(LtmConfig c) {
        int h = c.width(), kv = c.kvHeads() * c.headDim(), f = c.ffnHidden();
        LinkedHashMap<String, Shape> s = new LinkedHashMap<>();
        s.put("tok_emb", Shape.of(c.vocabSize(), h));
        for (int l = 0; l < c.layers(); l++) {
            String n = "layers." + l + ".";
            s.put(n + "attn_norm.g", Shape.of(h));
            s.put(n + "attn.wq", Shape.of(h, h));
            s.put(n + "attn.wk", Shape.of(kv, h));
            s.put(n + "attn.wv", Shape.of(kv, h));
            s.put(n + "attn.wo", Shape.of(h, h));
            if (c.latentCount() > 0) {
                s.put(n + "cross_norm.g", Shape.of(h));
                s.put(n + "cross.wq", Shape.of(h, h));
                s.put(n + "cross.wk", Shape.of(kv, h));
                s.put(n + "cross.wv", Shape.of(kv, h));
                s.put(n + "cross.wo", Shape.of(h, h));
            }
            s.put(n + "ffn_norm.g", Shape.of(h));
            s.put(n + "ffn.w1", Shape.of(f, h));
            s.put(n + "ffn.w2", Shape.of(h, f));
            s.put(n + "ffn.w3", Shape.of(f, h));
        }
        s.put("norm_f.g", Shape.of(h));
        return s;
    }

    /**
     * A fresh model: matrices and the embedding ~ N(0, initStd^2), the attention outputs {@code wo}
     * and SwiGLU's {@code w3} ~ N(0, (initStd/sqrt(2L))^2), RMSNorm gains 1 (spec section 1).
     */
    public LatentThoughtModel(LtmConfig config, Rng rng) {
        this.config = config;
        this.parameters = new LinkedHashMap<>();
        float std = config.initStd(), residualStd = (float) (std / Math.sqrt(2.0 * config.layers()));
        parameterShapes(config).forEach((name, shape) -> {
            if (name.endsWith(".g")) parameters.put(name, Tensor.full(1f, shape.dims()));
            else parameters.put(name, Tensor.randn(rng, 0, scaledAtInit(name) ? residualStd : std, shape.dims()));
        });
    }

    /** A model around existing weights (a checkpoint): names and shapes must match {@link #parameterShapes}. */
    public LatentThoughtModel(LtmConfig config, Map<String, Tensor> weights) {
        this.config = config;
        this.parameters = new LinkedHashMap<>();
        LinkedHashMap<String, Shape> shapes = parameterShapes(config);
        for (var e : shapes.entrySet()) {
            Tensor t = weights.get(e.getKey());
            if (t == null) throw new IllegalArgumentException("LatentThoughtModel: weight '" + e.getKey() + "' is missing");
            if (!t.shape().equals(e.getValue())) {
                throw new IllegalArgumentException("LatentThoughtModel: weight '" + e.getKey() + "' has shape " + t.shape()
                        + ", the config needs " + e.getValue());
            }
            parameters.put(e.getKey(), t);
        }
        for (String name : weights.keySet()) {
            if (!shapes.containsKey(name)) throw new IllegalArgumentException("LatentThoughtModel: unexpected weight '" + name + "'");
        }
    }

    private static boolean scaledAtInit(String name) { return name.endsWith(".wo") || name.endsWith(".ffn.w3"); }

    /** The configuration. */
    public LtmConfig config() { return config; }

    /** The backend that holds the weights (and runs the forward pass). */
    public Backend backend() { return parameters.get("tok_emb").backend(); }

    /** This model with its weights on {@code target}: itself when they are already there, else a copy. */
    public LatentThoughtModel to(Backend target) {
        if (target == backend()) return this;
        LinkedHashMap<String, Tensor> moved = new LinkedHashMap<>();
        parameters.forEach((name, t) -> moved.put(name, t.to(target)));
        return new LatentThoughtModel(config, moved);
    }

    /** The weights by name, in {@link #parameterShapes} order; the tensors are the model's own (not copies). */
    public LinkedHashMap<String, Tensor> parameters() { return new LinkedHashMap<>(parameters); }

    /** Number of scalar weights. */
    public long parameterCount() {
        long n = 0;
        for (Tensor t : parameters.values()) n += t.size();
        return n;
    }

    // ---- forward (spec section 1) -----------------------------------------------------------

    /** Logits [B, T, V] for {@code tokens} [B][T] given thoughts {@code z} [B, L, m, H] (null when N_z = 0). */
    public Var logits(Params p, int[][] tokens, Var z) {
        int[] pos = positions(tokens);
        Var x = selfAttentionBlock(p, 0, embed(p, tokens), pos);
        return logitsAfterFirstSelfAttention(p, x, z, pos);
    }

    /**
     * The part of the forward pass that does not depend on z (spec section 2): the embedding and
     * layer 1's self-attention block, as a constant [B, T, H]. Compute it once per fast fit.
     */
    public record Prefix(int[][] tokens, Var hidden) {}

    /** Runs the z-independent prefix without recording gradients (for frozen weights). */
    public Prefix prefix(Params p, int[][] tokens) {
        try (NoGrad _ = NoGrad.enter()) {
            Var h = selfAttentionBlock(p, 0, embed(p, tokens), positions(tokens));
            return new Prefix(tokens, Var.constant(h.value()));
        }
    }

    /** Logits [B, T, V] from a {@link Prefix}: equal to {@link #logits} on the prefix's tokens. */
    public Var logitsFromPrefix(Prefix prefix, Params p, Var z) {
        return logitsAfterFirstSelfAttention(p, prefix.hidden(), z, positions(prefix.tokens()));
    }

    /** Layers 1..L from just after layer 1's self-attention block, then the head. */
    private Var logitsAfterFirstSelfAttention(Params p, Var x, Var z, int[] pos) {
        checkThoughts(z, x.shape().dim(0));
        for (int l = 0; l < config.layers(); l++) {
            if (l > 0) x = selfAttentionBlock(p, l, x, pos);                                   // h = x + SelfAttn(RMSNorm(x))
            if (config.latentCount() > 0) x = crossAttentionBlock(p, l, x, group(z, l), pos);  // h = h + CrossAttn(RMSNorm(h), z_l)
            x = feedForwardBlock(p, l, x);                                                     // out = h + SwiGLU(RMSNorm(h))
        }
        return head(p, x);
    }

    /** Token embeddings [B, T, H]. */
    public Var embed(Params p, int[][] tokens) {
        int b = tokens.length, t = tokens[0].length, v = config.vocabSize();
        int[] ids = new int[b * t];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                int id = tokens[i][j];
                if (id < 0 || id >= v) throw new IllegalArgumentException("embed: token " + id + " at [" + i + ", " + j + "] outside vocabulary " + v);
                ids[i * t + j] = id;
            }
        }
        return reshape(embedding(p.get("tok_emb"), ids), b, t, config.width());
    }

    /** h = x + SelfAttn(RMSNorm(x)): causal, sliding window W, RoPE on q and k, grouped K/V heads. */
    public Var selfAttentionBlock(Params p, int layer, Var x, int[] positions) {
        Var a = norm(p, layerName(layer) + "attn_norm.g", x);
        Var[] qkv = selfAttentionQkv(p, layer, a, positions);
        Var o = attention(qkv[0], qkv[1], qkv[2], config.attentionWindow()); // spec 1: token i sees max(0, i-W+1)..i
        return add(x, attentionOutput(p, layerName(layer) + "attn.wo", o));
    }

    /** h = h + CrossAttn(RMSNorm(h), z_l): queries from tokens, keys/values from z_l [B, m, H], no mask. */
    public Var crossAttentionBlock(Params p, int layer, Var h, Var zl, int[] positions) {
        Var a = norm(p, layerName(layer) + "cross_norm.g", h);
        Var q = crossAttentionQuery(p, layer, a, positions);
        Var[] kv = crossAttentionKv(p, layer, zl);
        Var o = attention(q, kv[0], kv[1], 0); // spec 1: no mask, every token sees every vector of z_l
        return add(h, attentionOutput(p, layerName(layer) + "cross.wo", o));
    }

    /** out = h + SwiGLU(RMSNorm(h)). */
    public Var feedForwardBlock(Params p, int layer, Var h) {
        return add(h, swiGlu(p, layer, norm(p, layerName(layer) + "ffn_norm.g", h)));
    }

    /** Final RMSNorm, then the head tied to the embedding: logits = RMSNorm(h) tok_emb^T, [B, T, V]. */
    public Var head(Params p, Var h) {
        return linear(norm(p, "norm_f.g", h), p.get("tok_emb"));
    }

    // ---- one block's pieces (a KV cache for generation reuses these) -------------------------

    /** Self-attention q [B, T, nH, hd], k and v [B, T, nKv, hd] of normed input a [B, T, H]; RoPE on q, k at positions. */
    public Var[] selfAttentionQkv(Params p, int layer, Var a, int[] positions) {
        String n = layerName(layer) + "attn.";
        float theta = config.ropeTheta();
        Var q = rope(splitHeads(linear(a, p.get(n + "wq")), config.heads()), positions, theta);
        Var k = rope(splitHeads(linear(a, p.get(n + "wk")), config.kvHeads()), positions, theta);
        Var v = splitHeads(linear(a, p.get(n + "wv")), config.kvHeads());
        return new Var[] {q, k, v};
    }

    /** Cross-attention queries [B, T, nH, hd] of normed input a [B, T, H], RoPE at the token positions. */
    public Var crossAttentionQuery(Params p, int layer, Var a, int[] positions) {
        return rope(splitHeads(linear(a, p.get(layerName(layer) + "cross.wq")), config.heads()), positions, config.ropeTheta());
    }

    /** Cross-attention k and v [B, m, nKv, hd] straight from z_l [B, m, H]; RoPE on k at the thought positions. */
    public Var[] crossAttentionKv(Params p, int layer, Var zl) {
        String n = layerName(layer) + "cross.";
        Var k = rope(splitHeads(linear(zl, p.get(n + "wk")), config.kvHeads()), config.thoughtPositions(), config.ropeTheta());
        Var v = splitHeads(linear(zl, p.get(n + "wv")), config.kvHeads());
        return new Var[] {k, v};
    }

    /** Merges heads o [B, T, nH, hd] to [B, T, H] and applies the output weight {@code wo} [H, H]. */
    public Var attentionOutput(Params p, String wo, Var o) {
        return linear(reshape(o, o.shape().dim(0), o.shape().dim(1), config.width()), p.get(wo));
    }

    /** SwiGLU: w2(silu(w1 a) * w3 a), a [B, T, H]. */
    public Var swiGlu(Params p, int layer, Var a) {
        String n = layerName(layer) + "ffn.";
        return linear(mul(silu(linear(a, p.get(n + "w1"))), linear(a, p.get(n + "w3"))), p.get(n + "w2"));
    }

    /** RMSNorm of x [..., H] with the gain named {@code gain}. */
    public Var norm(Params p, String gain, Var x) { return rmsNorm(x, p.get(gain), config.normEps()); }

    /** z_l [B, m, H]: the group of layer l from z [B, L, m, H]. */
    public Var group(Var z, int layer) {
        return reshape(slice(z, 1, layer, layer + 1), z.shape().dim(0), config.latentsPerLayer(), config.width());
    }

    // ---- helpers ----------------------------------------------------------------------------

    private static String layerName(int layer) { return "layers." + layer + "."; }

    /** [B, T, n*hd] viewed as [B, T, n, hd]. */
    private Var splitHeads(Var x, int n) {
        return reshape(x, x.shape().dim(0), x.shape().dim(1), n, config.headDim());
    }

    /** Token positions 0..T-1 after checking that tokens is a non-empty [B][T] with T <= maxSeqLen. */
    private int[] positions(int[][] tokens) {
        if (tokens.length == 0 || tokens[0].length == 0) throw new IllegalArgumentException("forward: empty token batch");
        int t = tokens[0].length;
        for (int[] row : tokens) {
            if (row.length != t) throw new IllegalArgumentException("forward: token rows of lengths " + t + " and " + row.length + " differ");
        }
        if (t > config.maxSeqLen()) throw new IllegalArgumentException("forward: " + t + " tokens exceed maxSeqLen " + config.maxSeqLen());
        int[] pos = new int[t];
        for (int i = 0; i < t; i++) pos[i] = i;
        return pos;
    }

    private void checkThoughts(Var z, int batch) {
        if (config.latentCount() == 0) {
            if (z != null && z.value().size() != 0) throw new IllegalArgumentException("forward: z " + z.shape() + " given to a model with N_z = 0");
            return;
        }
        Shape want = Shape.of(batch, config.layers(), config.latentsPerLayer(), config.width());
        if (z == null || !z.shape().equals(want)) {
            throw new IllegalArgumentException("forward: z " + (z == null ? "null" : z.shape()) + ", expected [B, L, m, H] = " + want);
        }
    }
}
