package dev.ltm.tensor;

import java.util.SplittableRandom;

/**
 * A seeded random generator for tensors: uniform and standard normal draws, reproducible
 * across runs and platforms for the same seed. Not thread-safe; give each thread its own, or
 * {@link #split()} one.
 */
public final class Rng {
    private final SplittableRandom random;
    private double spareNormal;
    private boolean hasSpare;

    /** A generator with the given seed. */
    public Rng(long seed) { this.random = new SplittableRandom(seed); }

    private Rng(SplittableRandom random) { this.random = random; }

    /** An independent generator derived from this one (advances this one). */
    public Rng split() { return new Rng(random.split()); }

    /** Uniform in [0, 1). */
    public double uniform() { return random.nextDouble(); }

    /** Uniform integer in [0, bound). */
    public int nextInt(int bound) { return random.nextInt(bound); }

    /** A 64-bit value, for deriving seeds. */
    public long nextLong() { return random.nextLong(); }

    /** Standard normal N(0, 1), by the polar Box-Muller method in double precision. */
    public double normal() {
        if (hasSpare) {
            hasSpare = false;
            return spareNormal;
        }
        double u, v, s;
        do {
            u = 2 * random.nextDouble() - 1;
            v = 2 * random.nextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        double f = Math.sqrt(-2 * Math.log(s) / s);
        spareNormal = v * f;
        hasSpare = true;
        return u * f;
    }

    /** Fills {@code out} with {@code mean + std * N(0,1)}. */
    public void fillNormal(float[] out, double mean, double std) {
        for (int i = 0; i < out.length; i++) out[i] = (float) (mean + std * normal());
    }

    /** Fills {@code out} with uniform values in [lo, hi). */
    public void fillUniform(float[] out, double lo, double hi) {
        for (int i = 0; i < out.length; i++) out[i] = (float) (lo + (hi - lo) * uniform());
    }
}
