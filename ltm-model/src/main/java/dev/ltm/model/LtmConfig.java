package dev.ltm.model;

import dev.ltm.tensor.AttentionMask;

/**
 * The shape of a Latent Thought Model (spec section 1). {@code latentCount} is N_z, the total
 * number of thought vectors (0 gives the plain GPT baseline); {@code window} 0 means full causal
 * attention; {@code ffnHidden} 0 is replaced by the spec's derived SwiGLU width.
 */
public record LtmConfig(int vocabSize, int width, int layers, int heads, int kvHeads, int latentCount,
                        int maxSeqLen, int window, int ffnHidden, float normEps, float ropeTheta, float initStd) {

    /** The SwiGLU hidden width is rounded up to a multiple of this (spec section 1). */
    public static final int FFN_MULTIPLE_OF = 32;

    /** Validates every rule of spec section 1 and resolves {@code ffnHidden} 0 to the derived width. */
    public LtmConfig {
        positive("vocabSize", vocabSize);
        positive("width", width);
        positive("layers", layers);
        positive("heads", heads);
        positive("kvHeads", kvHeads);
        positive("maxSeqLen", maxSeqLen);
        if (width % heads != 0) fail("width " + width + " must be divisible by heads " + heads);
        if ((width / heads) % 2 != 0) fail("head width " + width / heads + " (width / heads) must be even for RoPE pairs");
        if (heads % kvHeads != 0) fail("heads " + heads + " must be divisible by kvHeads " + kvHeads);
        if (latentCount < 0) fail("latentCount " + latentCount + " must be >= 0");
        if (latentCount % layers != 0) fail("latentCount " + latentCount + " must be divisible by layers " + layers);
        if (latentCount > maxSeqLen) fail("latentCount " + latentCount + " must be <= maxSeqLen " + maxSeqLen);
        if (window < 0 || window > maxSeqLen) fail("window " + window + " must be in [0, maxSeqLen " + maxSeqLen + "]");
        if (ffnHidden < 0) fail("ffnHidden " + ffnHidden + " must be >= 0 (0 = derived from width)");
        if (ffnHidden == 0) ffnHidden = derivedFfnHidden(width);
        if (!(normEps > 0) || !Float.isFinite(normEps)) fail("normEps " + normEps + " must be positive and finite");
        if (!(ropeTheta > 0) || !Float.isFinite(ropeTheta)) fail("ropeTheta " + ropeTheta + " must be positive and finite");
        if (!(initStd > 0) || !Float.isFinite(initStd)) fail("initStd " + initStd + " must be positive and finite");
    }

    /**
     * A builder with the spec's defaults: kvHeads = heads, N_z = 0, full causal attention (window 0),
     * derived SwiGLU width, eps 1e-5, RoPE theta 10000, init std 0.02. vocabSize, width, layers, heads
     * and maxSeqLen must be set: {@code LtmConfig.builder().vocabSize(258).width(64).layers(2).heads(4)
     * .latentCount(4).maxSeqLen(128).window(32).build()}.
     */
    public static Builder builder() { return new Builder(); }

    /** A builder that starts from this config, to change a few fields by name. */
    public Builder toBuilder() {
        return new Builder().vocabSize(vocabSize).width(width).layers(layers).heads(heads).kvHeads(kvHeads)
                .latentCount(latentCount).maxSeqLen(maxSeqLen).window(window).ffnHidden(ffnHidden)
                .normEps(normEps).ropeTheta(ropeTheta).initStd(initStd);
    }

    /** Named construction of an {@link LtmConfig}; {@link #build()} validates as the constructor does. */
    public static final class Builder {
        private int vocabSize, width, layers, heads, kvHeads, latentCount, maxSeqLen, window, ffnHidden;
        private float normEps = 1e-5f, ropeTheta = 10000f, initStd = 0.02f;

        private Builder() {}

        /** V, the vocabulary size (required). */
        public Builder vocabSize(int v) { vocabSize = v; return this; }
        /** H, the model width (required). */
        public Builder width(int v) { width = v; return this; }
        /** L, the decoder layers (required). */
        public Builder layers(int v) { layers = v; return this; }
        /** Attention heads (required). */
        public Builder heads(int v) { heads = v; return this; }
        /** Grouped K/V heads; 0 or unset means one per head. */
        public Builder kvHeads(int v) { kvHeads = v; return this; }
        /** N_z, thought vectors over all layers; 0 (the default) is the plain GPT baseline. */
        public Builder latentCount(int v) { latentCount = v; return this; }
        /** N, the longest sequence (required). */
        public Builder maxSeqLen(int v) { maxSeqLen = v; return this; }
        /** W, the sliding self-attention window; 0 (the default) is full causal attention. */
        public Builder window(int v) { window = v; return this; }
        /** SwiGLU hidden width; 0 (the default) derives it from the width. */
        public Builder ffnHidden(int v) { ffnHidden = v; return this; }
        /** RMSNorm epsilon. */
        public Builder normEps(float v) { normEps = v; return this; }
        /** RoPE base. */
        public Builder ropeTheta(float v) { ropeTheta = v; return this; }
        /** Standard deviation of the weights' initialisation. */
        public Builder initStd(float v) { initStd = v; return this; }

        /** The validated config. */
        public LtmConfig build() {
            return new LtmConfig(vocabSize, width, layers, heads, kvHeads == 0 ? heads : kvHeads, latentCount,
                    maxSeqLen, window, ffnHidden, normEps, ropeTheta, initStd);
        }
    }

    /** SwiGLU width: multipleOf * ceil(floor(8H/3) / multipleOf) (spec section 1). */
    public static int derivedFfnHidden(int width) {
        int base = 8 * width / 3;
        return FFN_MULTIPLE_OF * ((base + FFN_MULTIPLE_OF - 1) / FFN_MULTIPLE_OF);
    }

    /** Width of one attention head, H / heads. */
    public int headDim() { return width / heads; }

    /** m = N_z / L, the thought vectors read by each layer. */
    public int latentsPerLayer() { return latentCount / layers; }

    /**
     * The mask of self-attention (spec section 1): causal with the sliding window {@code window}, or with
     * maxSeqLen (full causal) when it is 0. The one place where {@code window}'s 0 is read.
     */
    public AttentionMask.Causal selfAttentionMask() { return new AttentionMask.Causal(window == 0 ? maxSeqLen : window); }

    /** Positions of a group's vectors for the cross-attention keys' RoPE: j * (maxSeqLen / N_z) (spec section 1). */
    public int[] thoughtPositions() {
        int m = latentsPerLayer();
        int[] pos = new int[m];
        for (int j = 0; j < m; j++) pos[j] = j * (maxSeqLen / latentCount);
        return pos;
    }

    private static void positive(String field, int value) {
        if (value <= 0) fail(field + " " + value + " must be > 0");
    }

    private static void fail(String message) {
        throw new IllegalArgumentException("LtmConfig: " + message);
    }
}
