package dev.ltm.model;

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

    /** A config with the spec's defaults: derived SwiGLU width, eps 1e-5, RoPE theta 10000, init std 0.02. */
    public static LtmConfig of(int vocabSize, int width, int layers, int heads, int kvHeads, int latentCount,
                               int maxSeqLen, int window) {
        return new LtmConfig(vocabSize, width, layers, heads, kvHeads, latentCount, maxSeqLen, window, 0, 1e-5f, 10000f, 0.02f);
    }

    /** This config with another init std (tests use a larger one so that z visibly matters). */
    public LtmConfig withInitStd(float std) {
        return new LtmConfig(vocabSize, width, layers, heads, kvHeads, latentCount, maxSeqLen, window, ffnHidden, normEps, ropeTheta, std);
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

    /** The causal window handed to attention: {@code window}, or maxSeqLen (full causal) when it is 0. */
    public int attentionWindow() { return window == 0 ? maxSeqLen : window; }

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
