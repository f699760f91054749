package dev.ltm.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ltm.tensor.Rng;
import org.junit.jupiter.api.Test;

class SamplingTest {
    /** Random logits of odd sizes with many ties (rounded to a coarse grid) and signed zeros. */
    private static float[] logits(Rng rng, int v) {
        float[] x = new float[v];
        for (int i = 0; i < v; i++) x[i] = Math.round(rng.uniform() * 12 - 6) / 2f;
        x[rng.nextInt(v)] = -0f;
        x[rng.nextInt(v)] = 0f;
        return x;
    }

    @Test
    void rankedSamplingEqualsSortingTheWholeVocabulary() {
        Rng gen = new Rng(7);
        Sampling[] cases = {new Sampling(1.0, 1, 1), new Sampling(0.7, 3, 1), new Sampling(1.3, 40, 0.9),
            new Sampling(0.8, 0, 0.95), new Sampling(2.0, 0, 0.3), new Sampling(1.0, 500, 1)};
        for (int trial = 0; trial < 60; trial++) {
            float[] x = logits(gen, 1 + gen.nextInt(300));
            for (Sampling s : cases) {
                long seed = gen.nextInt(1 << 30);
                assertThat(s.next(x, new Rng(seed))).as("%s, V=%d", s, x.length).isEqualTo(s.nextBySortingAll(x, new Rng(seed)));
            }
        }
    }

    @Test
    void plainTemperatureSamplingDrawsTheSoftmaxFrequencies() {
        float[] x = {1f, -2f, 0.5f, 1f, 3f, -0f, 0f};
        double t = 1.5, total = 0;
        double[] p = new double[x.length];
        for (int i = 0; i < x.length; i++) total += p[i] = Math.exp(x[i] / t);
        int[] counts = new int[x.length];
        Rng rng = new Rng(11);
        int draws = 20_000;
        for (int i = 0; i < draws; i++) counts[Sampling.temperature(t).next(x, rng)]++;
        for (int i = 0; i < x.length; i++) assertThat(counts[i] / (double) draws).isCloseTo(p[i] / total,
                org.assertj.core.data.Offset.offset(0.015));
    }

    @Test
    void rankKeysOrderByLogitThenId() {
        assertThat(Sampling.rankKey(2f, 5)).isLessThan(Sampling.rankKey(1f, 0));
        assertThat(Sampling.rankKey(-1f, 3)).isLessThan(Sampling.rankKey(-2f, 0));
        assertThat(Sampling.rankKey(1f, 2)).isLessThan(Sampling.rankKey(1f, 3));
        assertThat(Sampling.rankKey(-0f, 4)).isGreaterThan(Sampling.rankKey(0f, 1)).isLessThan(Sampling.rankKey(-1e-30f, 0));
    }
}
