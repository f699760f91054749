package dev.ltm.tensor;

import jdk.incubator.vector.FloatVector;
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

    private Simd() {}
}
