package dev.ltm.model;

import static dev.ltm.autograd.Ops.embedding;
import static dev.ltm.autograd.Ops.linear;
import static dev.ltm.autograd.Ops.reshape;
import static dev.ltm.autograd.Ops.rmsNorm;
import static dev.ltm.autograd.Ops.slice;

import dev.ltm.autograd.NoGrad;
import dev.ltm.autograd.Var;
import dev.ltm.tensor.Backend;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
    private final List<DecoderLayer> layers;

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
        s.put(WeightNames.TOKEN_EMBEDDING, Shape.of(c.vocabSize(), h));
        for (int l = 0; l < c.layers(); l++) {
            WeightNames.Layer n = WeightNames.layer(l);
            s.put(n.attnNorm(), Shape.of(h));
            putProjections(s, n.attn(), h, kv);
            if (c.latentCount() > 0) {
                s.put(n.crossNorm(), Shape.of(h));
                putProjections(s, n.cross(), h, kv);
            }
            s.put(n.ffnNorm(), Shape.of(h));
            s.put(n.w1(), Shape.of(f, h));
            s.put(n.w2(), Shape.of(h, f));
            s.put(n.w3(), Shape.of(f, h));
        }
        s.put(WeightNames.FINAL_NORM, Shape.of(h));
        return s;
    }

    /** wq [H, H], wk and wv [nKv*hd, H], wo [H, H]. */
    private static void putProjections(LinkedHashMap<String, Shape> s, WeightNames.Projections w, int h, int kv) {
        s.put(w.wq(), Shape.of(h, h));
        s.put(w.wk(), Shape.of(kv, h));
        s.put(w.wv(), Shape.of(kv, h));
        s.put(w.wo(), Shape.of(h, h));
    }

    /**
     * A fresh model: matrices and the embedding ~ N(0, initStd^2), the attention outputs {@code wo}
     * and SwiGLU's {@code w3} ~ N(0, (initStd/sqrt(2L))^2), RMSNorm gains 1 (spec section 1).
     */
    public LatentThoughtModel(LtmConfig config, Rng rng) {
        this.config = config;
        this.parameters = new LinkedHashMap<>();
        this.layers = layers(config);
        float std = config.initStd(), residualStd = (float) (std / Math.sqrt(2.0 * config.layers()));
        Set<String> residual = new HashSet<>();
        for (int l = 0; l < config.layers(); l++) residual.addAll(WeightNames.layer(l).residualOutputs());
        parameterShapes(config).forEach((name, shape) -> {
            if (name.endsWith(".g")) parameters.put(name, Tensor.full(1f, shape.dims()));
            else parameters.put(name, Tensor.randn(rng, 0, residual.contains(name) ? residualStd : std, shape.dims()));
        });
    }

    /** A model around existing weights (a checkpoint): names and shapes must match {@link #parameterShapes}. */
    public LatentThoughtModel(LtmConfig config, Map<String, Tensor> weights) {
        this.config = config;
        this.parameters = new LinkedHashMap<>();
        this.layers = layers(config);
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

    private static List<DecoderLayer> layers(LtmConfig c) {
        List<DecoderLayer> layers = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) layers.add(new DecoderLayer(c, l));
        return List.copyOf(layers);
    }

    /** The configuration. */
    public LtmConfig config() { return config; }

    /** The backend that holds the weights (and runs the forward pass). */
    public Backend backend() { return parameters.get(WeightNames.TOKEN_EMBEDDING).backend(); }

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
        DecoderLayer first = layers.get(0);
        Var x = first.selfAttentionBlock(p, embed(p, tokens), pos, first.causal());
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
            DecoderLayer first = layers.get(0);
            Var h = first.selfAttentionBlock(p, embed(p, tokens), positions(tokens), first.causal());
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
            DecoderLayer layer = layers.get(l);
            if (l > 0) x = layer.selfAttentionBlock(p, x, pos, layer.causal());    // h = x + SelfAttn(RMSNorm(x))
            x = layer.afterSelfAttention(p, x, pos, thoughtKeys(p, z, l));         // + CrossAttn(RMSNorm(h), z_l), SwiGLU
        }
        return head(p, x);
    }

    /** Layer l's decoder layer (the KV-cache generator runs the same layers). */
    DecoderLayer layer(int l) { return layers.get(l); }

    /** Cross-attention keys and values of layer l from z [B, L, m, H]; null when N_z = 0. */
    DecoderLayer.ThoughtKeys thoughtKeys(Params p, Var z, int l) {
        return config.latentCount() == 0 ? null : layers.get(l).thoughtKeys(p, group(z, l));
    }

    /** Token embeddings [B, T, H]. */
    public Var embed(Params p, int[][] tokens) {
        int b = tokens.length, t = tokens[0].length, v = config.vocabSize();
        int[] ids = new int[b * t];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                int id = tokens[i][j];
                if (id < 0 || id >= v) throw new IllegalArgumentException("embed: token " + id + " at [" + i + ", " + j
                        + "] outside vocabulary " + v);
                ids[i * t + j] = id;
            }
        }
        return reshape(embedding(p.get(WeightNames.TOKEN_EMBEDDING), ids), b, t, config.width());
    }

    /** Final RMSNorm, then the head tied to the embedding: logits = RMSNorm(h) tok_emb^T, [B, T, V]. */
    public Var head(Params p, Var h) {
        return linear(rmsNorm(h, p.get(WeightNames.FINAL_NORM), config.normEps()), p.get(WeightNames.TOKEN_EMBEDDING));
    }

    /** z_l [B, m, H]: the group of layer l from z [B, L, m, H]. */
    private Var group(Var z, int layer) {
        return reshape(slice(z, 1, layer, layer + 1), z.shape().dim(0), config.latentsPerLayer(), config.width());
    }

    // ---- helpers ----------------------------------------------------------------------------

    /** Token positions 0..T-1 after checking that tokens is a non-empty [B][T] with T <= maxSeqLen. */
    private int[] positions(int[][] tokens) {
        if (tokens.length == 0 || tokens[0].length == 0) throw new IllegalArgumentException("forward: empty token batch");
        int t = tokens[0].length;
        for (int[] row : tokens) {
            if (row.length != t) throw new IllegalArgumentException("forward: token rows of lengths " + t + " and " + row.length
                    + " differ");
        }
        if (t > config.maxSeqLen()) throw new IllegalArgumentException("forward: " + t + " tokens exceed maxSeqLen " + config.maxSeqLen());
        int[] pos = new int[t];
        for (int i = 0; i < t; i++) pos[i] = i;
        return pos;
    }

    private void checkThoughts(Var z, int batch) {
        if (config.latentCount() == 0) {
            if (z != null && z.value().size() != 0) throw new IllegalArgumentException("forward: z " + z.shape()
                    + " given to a model with N_z = 0");
            return;
        }
        Shape want = Shape.of(batch, config.layers(), config.latentsPerLayer(), config.width());
        if (z == null || !z.shape().equals(want)) {
            throw new IllegalArgumentException("forward: z " + (z == null ? "null" : z.shape()) + ", expected [B, L, m, H] = " + want);
        }
    }
}
