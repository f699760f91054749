package dev.ltm.model;

import static dev.ltm.autograd.Ops.add;
import static dev.ltm.autograd.Ops.attention;
import static dev.ltm.autograd.Ops.linear;
import static dev.ltm.autograd.Ops.reshape;
import static dev.ltm.autograd.Ops.rmsNorm;
import static dev.ltm.autograd.Ops.rope;
import static dev.ltm.autograd.Ops.swiglu;

import dev.ltm.autograd.Var;
import dev.ltm.tensor.AttentionMask;

/**
 * One decoder layer l of spec section 1, written once for the full forward pass and for cached
 * decoding ({@link Generator}); x [B, T, H] in and out:
 * <pre>
 * h   = x + SelfAttn(RMSNorm(x))          causal, sliding window W, RoPE on q and k, grouped K/V heads
 * h   = h + CrossAttn(RMSNorm(h), z_l)    when N_z > 0: keys and values from z_l, no mask
 * out = h + SwiGLU(RMSNorm(h))
 * </pre>
 * Where self-attention finds its keys and values is a {@link SelfKeys}: the block's own with the
 * causal mask ({@link #causal}), or a KV cache that adds them and attends to the window it keeps.
 */
final class DecoderLayer {
    /** Self-attention's keys and values: given this block's q, k, v (RoPE applied), the attention output [B, T, nH, hd]. */
    interface SelfKeys {
        Var attend(Var q, Var k, Var v);
    }

    /** Cross-attention's keys and values [B, m, nKv, hd] of one thought group z_l (computed once per generation). */
    record ThoughtKeys(Var keys, Var values) {}

    private final LtmConfig config;
    private final WeightNames.Layer names;

    DecoderLayer(LtmConfig config, int layer) {
        this.config = config;
        this.names = WeightNames.layer(layer);
    }

    /** The full forward pass's keys and values: the block's own, under the config's causal mask. */
    SelfKeys causal() {
        AttentionMask mask = config.selfAttentionMask(); // spec 1: token i sees max(0, i-W+1)..i
        return (q, k, v) -> attention(q, k, v, mask);
    }

    /** The whole layer; {@code thoughts} is null when N_z = 0. */
    Var forward(Params p, Var x, int[] positions, SelfKeys self, ThoughtKeys thoughts) {
        return afterSelfAttention(p, selfAttentionBlock(p, x, positions, self), positions, thoughts);
    }

    /** The layer after its self-attention block: cross-attention (when {@code thoughts} is not null), then SwiGLU. */
    Var afterSelfAttention(Params p, Var h, int[] positions, ThoughtKeys thoughts) {
        if (thoughts != null) h = crossAttentionBlock(p, h, positions, thoughts);
        return feedForwardBlock(p, h);
    }

    /** h = x + SelfAttn(RMSNorm(x)). */
    Var selfAttentionBlock(Params p, Var x, int[] positions, SelfKeys self) {
        Var a = norm(p, names.attnNorm(), x);
        WeightNames.Projections w = names.attn();
        float theta = config.ropeTheta();
        Var q = rope(splitHeads(linear(a, p.get(w.wq())), config.heads()), positions, theta);
        Var k = rope(splitHeads(linear(a, p.get(w.wk())), config.kvHeads()), positions, theta);
        Var v = splitHeads(linear(a, p.get(w.wv())), config.kvHeads());
        return add(x, attentionOutput(p, w.wo(), self.attend(q, k, v)));
    }

    /** Cross-attention k and v [B, m, nKv, hd] straight from z_l [B, m, H]; RoPE on k at the thought positions. */
    ThoughtKeys thoughtKeys(Params p, Var zl) {
        WeightNames.Projections w = names.cross();
        Var k = rope(splitHeads(linear(zl, p.get(w.wk())), config.kvHeads()), config.thoughtPositions(), config.ropeTheta());
        Var v = splitHeads(linear(zl, p.get(w.wv())), config.kvHeads());
        return new ThoughtKeys(k, v);
    }

    /** h = h + CrossAttn(RMSNorm(h), z_l): queries from tokens (RoPE at their positions), no mask. */
    Var crossAttentionBlock(Params p, Var h, int[] positions, ThoughtKeys thoughts) {
        Var a = norm(p, names.crossNorm(), h);
        WeightNames.Projections w = names.cross();
        Var q = rope(splitHeads(linear(a, p.get(w.wq())), config.heads()), positions, config.ropeTheta());
        Var o = attention(q, thoughts.keys(), thoughts.values(), AttentionMask.none()); // spec 1: every token sees all of z_l
        return add(h, attentionOutput(p, w.wo(), o));
    }

    /** out = h + SwiGLU(RMSNorm(h)), SwiGLU(a) = w2(silu(w1 a) * w3 a). */
    Var feedForwardBlock(Params p, Var h) {
        Var a = norm(p, names.ffnNorm(), h);
        return add(h, linear(swiglu(linear(a, p.get(names.w1())), linear(a, p.get(names.w3()))), p.get(names.w2())));
    }

    /** Merges heads o [B, T, nH, hd] to [B, T, H] and applies the output weight {@code wo} [H, H]. */
    private Var attentionOutput(Params p, String wo, Var o) {
        return linear(reshape(o, o.shape().dim(0), o.shape().dim(1), config.width()), p.get(wo));
    }

    private Var norm(Params p, String gain, Var x) { return rmsNorm(x, p.get(gain), config.normEps()); }

    /** [B, T, n*hd] viewed as [B, T, n, hd]. */
    private Var splitHeads(Var x, int n) {
        return reshape(x, x.shape().dim(0), x.shape().dim(1), n, config.headDim());
    }
}
