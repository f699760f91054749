package dev.ltm.optim;

import dev.ltm.model.LtmConfig;

/**
 * The matmul FLOP model of training (spec section 4), per sequence of {@code n} positions: every
 * product of an (a x k) by a (k x b) matrix costs 2abk; the embedding lookup, norms, RoPE,
 * softmax and elementwise ops are not counted. Self-attention scores and the weighted sum cost
 * 2H each per (query, key) pair in the sliding window, cross-attention the same per (token,
 * thought) pair. A backward pass computes, per matmul, the input gradient and (slow step only) the
 * weight gradient, each as costly as the forward product, and only where a gradient is needed:
 * the fast fit's backward pass reaches z and no weight, and skips the z-independent prefix
 * (the embedding and layer 1's self-attention block, computed once per fit); the slow step's
 * backward pass reaches every weight and not z. The baseline (N_z = 0) step is one forward and one
 * backward pass with weight gradients.
 */
public record Flops(LtmConfig config, int n) {
    /** Checks the positions against the config's context. */
    public Flops {
        if (n < 1 || n > config.maxSeqLen()) {
            throw new IllegalArgumentException("flops: " + n + " positions, expected 1.." + config.maxSeqLen());
        }
    }

    /** (query, key) pairs of causal self-attention with the window: sum over i of min(i + 1, W). */
    public long windowPairs() {
        long w = Math.min(config.selfAttentionMask().window(), n);
        return w * (w + 1) / 2 + (n - w) * w;
    }

    private long h() { return config.width(); }

    private long kv() { return (long) config.kvHeads() * config.headDim(); }

    private long m() { return config.latentsPerLayer(); }

    /** One layer's self-attention block, forward: q, k, v, o projections and the windowed scores and sum. */
    long selfAttention() { return selfProjections() + selfScores(); }

    private long selfProjections() { return 2L * n * h() * h() * 2 + 2L * 2 * n * h() * kv(); }

    private long selfScores() { return 4 * windowPairs() * h(); }

    /** One layer's cross-attention block, forward: q and o from the tokens, k and v from z_l, scores and sum over the m thoughts. */
    long crossAttention() {
        return m() == 0 ? 0 : 2L * n * h() * h() * 2 + 2L * 2 * m() * h() * kv() + 4L * n * m() * h();
    }

    /** One layer's SwiGLU, forward: w1, w3 and w2. */
    long feedForward() { return 6L * n * h() * config.ffnHidden(); }

    /** The tied head, forward. */
    long head() { return 2L * n * h() * config.vocabSize(); }

    /** A whole forward pass. */
    public long forward() { return config.layers() * (selfAttention() + crossAttention() + feedForward()) + head(); }

    /** The z-independent prefix: layer 1's self-attention block (the embedding is a lookup). */
    public long prefix() { return selfAttention(); }

    /** The fast fit's backward pass to z: input gradients only, from the head down to layer 1's cross-attention. */
    public long backwardToZ() {
        long s = head();
        for (int l = 0; l < config.layers(); l++) {
            s += feedForward();
            if (m() > 0) {
                // o projection and the score / sum products (dV, dP, dK); k and v take z itself as input.
                s += 2L * n * h() * h() + 3 * 2L * n * m() * h() + 2L * 2 * m() * h() * kv();
                // Layer 1's queries come from the prefix, a constant: no dQ, no input gradient of wq.
                if (l > 0) s += 2L * n * m() * h() + 2L * n * h() * h();
            }
            // Past layer 1 the self-attention block's input depends on z: input gradients of q, k, v, o and dQ, dK, dV, dP.
            if (l > 0) s += selfProjections() + 2 * selfScores();
        }
        return s;
    }

    /**
     * The slow step's backward pass: input and weight gradients everywhere, except the input gradient of
     * k and v in cross-attention (z is fixed).
     */
    public long backwardToWeights() { return 2 * forward() - config.layers() * (m() == 0 ? 0 : 2L * 2 * m() * h() * kv()); }

    /** One fast step: the forward pass past the prefix and the backward pass to z. */
    public long fastStep() { return forward() - prefix() + backwardToZ(); }

    /** A fast fit of {@code tFast} steps: the prefix once, the steps, and one more forward pass for the bound (spec section 2, step 3). */
    public long fit(int tFast) { return prefix() + tFast * fastStep() + forward() - prefix(); }

    /** The slow step: one forward and one backward pass to the weights, z fixed. */
    public long slowStep() { return forward() + backwardToWeights(); }

    /** One training step per sequence: the fit (none with N_z = 0) and the slow step. */
    public long trainingStep(int tFast) { return (config.latentCount() == 0 ? 0 : fit(tFast)) + slowStep(); }
}
