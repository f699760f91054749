package dev.ltm.tensor;

import java.util.concurrent.ConcurrentHashMap;

/**
 * cos and sin of RoPE's angles (spec section 1: position * theta^(-2i/hd) on interleaved pairs), kept
 * per (head width, theta) for positions 0..n-1 and grown when a larger position comes: the tables cost
 * a pow, a cos and a sin per entry, as much as the rotation itself, and every call used to rebuild them.
 * Entries are computed by the same formula as before, so the rotation's results are unchanged bit for bit.
 */
final class RopeTables {
    /**
     * One table, for positions below {@code positions}, laid out as the head's interleaved elements so
     * that a vector rotation reads it straight: for position p and pair i, at p * 2 half + 2i and
     * + 2i + 1, {@code cosPairs} holds cos twice and {@code sinPairs} holds -sin, then sin.
     */
    record Table(int positions, float[] cosPairs, float[] sinPairs) {}

    private record Key(int headDim, float theta) {}

    private final ConcurrentHashMap<Key, Table> tables = new ConcurrentHashMap<>();

    /** A table for {@code headDim} and {@code theta} that covers every position up to {@code maxPosition}. */
    Table get(int headDim, float theta, int maxPosition) {
        Key key = new Key(headDim, theta);
        Table t = tables.get(key);
        if (t != null && t.positions() > maxPosition) return t;
        // Grown to a power of two, so a growing sequence rebuilds it a logarithmic number of times.
        int n = Integer.highestOneBit(Math.max(1, maxPosition)) * 2;
        Table grown = build(headDim, theta, n);
        tables.merge(key, grown, (old, fresh) -> old.positions() >= fresh.positions() ? old : fresh);
        return grown;
    }

    /** The entries, computed as the reference implementations compute them (frequencies in float32). */
    static Table build(int headDim, float theta, int positions) {
        int half = headDim / 2;
        float[] cosPairs = new float[positions * 2 * half], sinPairs = new float[positions * 2 * half];
        for (int i = 0; i < half; i++) {
            float freq = (float) (1.0 / Math.pow(theta, (float) (2 * i) / headDim));
            for (int p = 0; p < positions; p++) {
                float angle = p * freq, cos = (float) Math.cos(angle), sin = (float) Math.sin(angle);
                int pair = 2 * (p * half + i);
                cosPairs[pair] = cosPairs[pair + 1] = cos;
                sinPairs[pair] = -sin;
                sinPairs[pair + 1] = sin;
            }
        }
        return new Table(positions, cosPairs, sinPairs);
    }
}
