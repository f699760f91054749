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
        // Candidates sorted by logit, most likely first; ties keep the lower id first.
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
