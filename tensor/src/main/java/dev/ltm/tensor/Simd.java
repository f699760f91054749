package dev.ltm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector width the kernels use. System property {@code ltm.vector}: unset means the
 * platform's preferred width; {@code 0} means scalar only, so every SIMD path can be checked
 * against plain Java.
 */
public final class Simd {
    /** The species kernels vectorise with. */
    public static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Whether the SIMD paths are enabled. */
    public static final boolean ENABLED = Integer.getInteger("ltm.vector", F.length()) != 0;

    /**
     * Butterfly shuffles i -> i ^ step for step = 1, 2, 4, ..., 32 (up to 2048-bit vectors), each its own
     * constant, so that C2 sees the shuffle it rearranges by: a loop over a list of them boxed the vector
     * at every step (attention's forward allocated 24 MB per call that way, 13 MB with constants). Where
     * a caller does not inline the reduction, its vector argument is still boxed once per call: C2 stops
     * inlining at its node limit, which a caller that also inlines {@link #exp} can reach (Attention.expShifted
     * did, and now sums in a separate small method). Steps of L or more are never used.
     */
    private static final VectorShuffle<Float> X1 = butterfly(1), X2 = butterfly(2), X4 = butterfly(4), X8 = butterfly(8),
            X16 = butterfly(16), X32 = butterfly(32);

    private Simd() {}

    private static VectorShuffle<Float> butterfly(int step) {
        return VectorShuffle.fromOp(F, i -> (i ^ step) & (F.length() - 1));
    }

    /**
     * Sum of the lanes in a fixed pairwise order (step L/2 first, down to 1). {@code reduceLanes(ADD)}
     * leaves the order open, and the interpreter and the compiled code do differ, which would make runs
     * irreproducible.
     */
    public static float sumLanes(FloatVector v) {
        int len = F.length();
        if (len > 32) v = v.add(v.rearrange(X32));
        if (len > 16) v = v.add(v.rearrange(X16));
        if (len > 8) v = v.add(v.rearrange(X8));
        if (len > 4) v = v.add(v.rearrange(X4));
        if (len > 2) v = v.add(v.rearrange(X2));
        if (len > 1) v = v.add(v.rearrange(X1));
        return v.lane(0);
    }

    /** The largest lane, by the same butterfly (exact in any order; {@code reduceLanes(MAX)} allocated in attention's forward on AVX2). */
    public static float maxLanes(FloatVector v) {
        int len = F.length();
        if (len > 32) v = v.max(v.rearrange(X32));
        if (len > 16) v = v.max(v.rearrange(X16));
        if (len > 8) v = v.max(v.rearrange(X8));
        if (len > 4) v = v.max(v.rearrange(X4));
        if (len > 2) v = v.max(v.rearrange(X2));
        if (len > 1) v = v.max(v.rearrange(X1));
        return v.lane(0);
    }

    private static final float LOG2E = 1.44269504f, LN2_HI = 0.693145752f, LN2_LO = 1.42860677e-6f;
    /** 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits. */
    private static final float ROUNDER = 12582912f;
    private static final float EXP_MIN = -87.33f, EXP_MAX = 88.72f;

    /**
     * e^x lane by lane from IEEE additions and multiplications only (about 1 ulp): range reduction
     * x = n ln2 + r, a degree-7 Taylor polynomial on |r| <= ln2/2, then 2^n built in the exponent bits.
     * Unlike {@code lanewise(EXP)}, whose intrinsic and fallback differ, it gives the same bits
     * interpreted or compiled, so training runs are reproducible. Below about -87.3 it returns 0.
     */
    public static FloatVector exp(FloatVector x) {
        VectorMask<Float> tiny = x.compare(VectorOperators.LT, EXP_MIN);
        FloatVector c = x.max(EXP_MIN).min(EXP_MAX);
        FloatVector t = c.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, ROUNDER));
        FloatVector n = t.sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), c);
        r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(F, 1f / 5040f);
        p = p.fma(r, FloatVector.broadcast(F, 1f / 720f));
        p = p.fma(r, FloatVector.broadcast(F, 1f / 120f));
        p = p.fma(r, FloatVector.broadcast(F, 1f / 24f));
        p = p.fma(r, FloatVector.broadcast(F, 1f / 6f));
        p = p.fma(r, FloatVector.broadcast(F, 0.5f));
        p = p.fma(r, FloatVector.broadcast(F, 1f));
        p = p.fma(r, FloatVector.broadcast(F, 1f));
        IntVector bits = t.reinterpretAsInts().sub(0x4B400000 - 127).lanewise(VectorOperators.LSHL, 23);
        FloatVector scale = bits.reinterpretAsFloats();
        return p.mul(scale).blend(0f, tiny);
    }
}
