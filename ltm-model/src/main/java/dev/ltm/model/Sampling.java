package dev.ltm.model;

import dev.ltm.tensor.Rng;
import java.util.Arrays;

/**
 * How the next token is drawn from the logits (spec section 3): greedy when the temperature is
 * 0, otherwise multinomial at that temperature, restricted to the {@code topK} most likely
 * tokens (0 = all) and to the smallest set whose probability reaches {@code topP} (1 = all).
 */
public record Sampling(double temperature, int topK, double topP) {
    public Sampling {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("sampling: temperature " + temperature + " must be finite and >= 0");
        }
        if (topK < 0) throw new IllegalArgumentException("sampling: topK " + topK + " must be >= 0 (0 = no limit)");
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("sampling: topP " + topP + " must be in (0, 1]");
    }

    /** Always the most likely token. */
    public static Sampling greedy() { return new Sampling(0, 0, 1); }

    /** Plain multinomial sampling at a temperature. */
    public static Sampling temperature(double t) { return new Sampling(t, 0, 1); }

    /**
     * Draws a token id from {@code logits} [V]; a NaN or infinite logit is an {@link IllegalArgumentException}
     * (the model's output is broken, and no token is a meaningful answer).
     */
    public int next(float[] logits, Rng rng) {
        int v = logits.length;
        if (v == 0) throw new IllegalArgumentException("sampling: no logits to sample from");
        for (int i = 0; i < v; i++) {
            if (!Float.isFinite(logits[i])) {
                throw new IllegalArgumentException("sampling: the logit of token " + i + " is " + logits[i]
                        + " (expected finite logits: the model's weights or thoughts are not finite)");
            }
        }
        if (temperature == 0) {
            int best = 0;
            for (int i = 1; i < v; i++) if (logits[i] > logits[best]) best = i;
            return best;
        }
        if (topK == 0 && topP >= 1) return multinomial(logits, rng);
        // Candidates ranked by logit, most likely first, ties by the lower id: primitive sort keys, and
        // with top-k only the k best are ranked (a bounded selection, not a sort of the vocabulary).
        int keep = topK == 0 ? v : Math.min(topK, v);
        long[] ranked = topK == 0 ? sortedKeys(logits) : topKeys(logits, keep);
        double max = logits[id(ranked[0])];
        double[] p = new double[keep];
        double total = 0;
        for (int i = 0; i < keep; i++) {
            p[i] = Math.exp((logits[id(ranked[i])] - max) / temperature);
            total += p[i];
        }
        if (topP < 1) {
            double acc = 0;
            int n = 0;
            while (n < keep && acc < topP * total) acc += p[n++];
            keep = Math.max(1, n);
            total = acc;
        }
        double u = rng.uniform() * total;
        for (int i = 0; i < keep; i++) {
            u -= p[i];
            if (u < 0) return id(ranked[i]);
        }
        return id(ranked[keep - 1]);
    }

    /** Plain multinomial at the temperature over the whole vocabulary, in id order: no ranking needed. */
    private int multinomial(float[] logits, Rng rng) {
        int v = logits.length;
        float max = logits[0];
        for (int i = 1; i < v; i++) max = Math.max(max, logits[i]);
        double[] p = new double[v];
        double total = 0;
        for (int i = 0; i < v; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            total += p[i];
        }
        double u = rng.uniform() * total;
        for (int i = 0; i < v; i++) {
            u -= p[i];
            if (u < 0) return i;
        }
        return v - 1;
    }

    /**
     * A key per token that sorts ascending as "higher logit first, then lower id": the logit's bits
     * made order-preserving and inverted in the high half, the id in the low half (-0 counts as +0).
     */
    static long rankKey(float logit, int id) {
        int bits = Float.floatToIntBits(logit + 0f);
        int ordered = bits ^ ((bits >> 31) & 0x7fffffff); // ascending with the float value, as a signed int
        return ((long) ~ordered << 32) | id;
    }

    private static int id(long key) { return (int) key; }

    /** Every token's key, sorted. */
    private static long[] sortedKeys(float[] logits) {
        long[] keys = new long[logits.length];
        for (int i = 0; i < keys.length; i++) keys[i] = rankKey(logits[i], i);
        Arrays.sort(keys);
        return keys;
    }

    /** The k smallest keys (the k best tokens), sorted: one pass with a sorted buffer of k. */
    private static long[] topKeys(float[] logits, int k) {
        long[] best = new long[k];
        int n = 0;
        for (int i = 0; i < logits.length; i++) {
            long key = rankKey(logits[i], i);
            if (n == k && key >= best[k - 1]) continue;
            int at = n == k ? k - 1 : n++;
            while (at > 0 && best[at - 1] > key) {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = key;
        }
        return best;
    }

    /** The reference the ranked paths must equal: every token boxed and sorted by logit, then as {@link #next}. */
    int nextBySortingAll(float[] logits, Rng rng) {
        int v = logits.length;
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : Integer.compare(a, b));
        int keep = topK == 0 ? v : Math.min(topK, v);
        double max = logits[order[0]];
        double[] p = new double[keep];
        double total = 0;
        for (int i = 0; i < keep; i++) {
            p[i] = Math.exp((logits[order[i]] - max) / temperature);
            total += p[i];
        }
        if (topP < 1) {
            double acc = 0;
            int n = 0;
            while (n < keep && acc < topP * total) acc += p[n++];
            keep = Math.max(1, n);
            total = acc;
        }
        double u = rng.uniform() * total;
        for (int i = 0; i < keep; i++) {
            u -= p[i];
            if (u < 0) return order[i];
        }
        return order[keep - 1];
    }
}
