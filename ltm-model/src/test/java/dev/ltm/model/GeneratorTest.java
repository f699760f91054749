package dev.ltm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import org.junit.jupiter.api.Test;

class GeneratorTest {
    /** A random model with a large init so that logits are far from ties and z visibly matters. */
    private static LatentThoughtModel model(int latents, int window, int kvHeads) {
        LtmConfig c = LtmConfig.builder().vocabSize(37).width(24).layers(2).heads(4).kvHeads(kvHeads).latentCount(latents).maxSeqLen(20)
                .window(window).initStd(0.3f).build();
        return new LatentThoughtModel(c, new Rng(11));
    }

    private static Tensor z(LtmConfig c, long seed) {
        return c.latentCount() == 0 ? null : Tensor.randn(new Rng(seed), 0, 1, 1, c.layers(), c.latentsPerLayer(), c.width());
    }

    @Test
    void kvCacheMatchesFullRecompute() {
        int[][] setups = {{4, 0, 4}, {4, 5, 2}, {0, 0, 1}, {8, 3, 4}};
        for (int[] s : setups) {
            LatentThoughtModel m = model(s[0], s[1], s[2]);
            Generator g = new Generator(m);
            Tensor z = z(m.config(), 3);
            int[] prompt = {1, 5, 9};
            for (Sampling sampling : new Sampling[] {Sampling.greedy(), new Sampling(1.0, 0, 1), new Sampling(0.8, 5, 0.9)}) {
                int[] cached = g.generate(prompt, z, 14, sampling, new Rng(5), -1);
                int[] full = g.generateUncached(prompt, z, 14, sampling, new Rng(5), -1);
                assertThat(cached).as("N_z=%d W=%d kv=%d %s", s[0], s[1], s[2], sampling).hasSize(14).containsExactly(full);
            }
        }
    }

    @Test
    void generationStopsAtTheStopTokenAndAtTheContext() {
        LatentThoughtModel m = model(4, 0, 4);
        Generator g = new Generator(m);
        Tensor z = z(m.config(), 1);
        int[] free = g.generate(new int[] {2}, z, 30, Sampling.greedy(), new Rng(1), -1);
        assertThat(free).as("prompt 1 + 19 new fill the context of 20").hasSize(19);
        int stop = free[3];
        int[] stopped = g.generate(new int[] {2}, z, 30, Sampling.greedy(), new Rng(1), stop);
        assertThat(stopped[stopped.length - 1]).isEqualTo(stop);
        assertThat(stopped.length).isLessThanOrEqualTo(4);
    }

    @Test
    void thoughtsChangeWhatIsGenerated() {
        LatentThoughtModel m = model(4, 0, 4);
        Generator g = new Generator(m);
        int[] a = g.generate(new int[] {2}, z(m.config(), 1).mul(Tensor.scalar(3f)), 12, Sampling.greedy(), new Rng(1), -1);
        int[] b = g.generate(new int[] {2}, z(m.config(), 2).mul(Tensor.scalar(3f)), 12, Sampling.greedy(), new Rng(1), -1);
        assertThat(a).isNotEqualTo(b);
    }

    @Test
    void samplingRespectsTopKAndTopP() {
        float[] logits = {0f, 3f, 2.5f, -1f, 2.9f};
        assertThat(Sampling.greedy().next(logits, new Rng(1))).isEqualTo(1);
        Rng rng = new Rng(4);
        for (int i = 0; i < 200; i++) {
            assertThat(new Sampling(1.0, 2, 1).next(logits, rng)).isIn(1, 4);
            assertThat(new Sampling(5.0, 0, 0.01).next(logits, rng)).isEqualTo(1);
        }
        int[] counts = new int[5];
        for (int i = 0; i < 4000; i++) counts[Sampling.temperature(1.0).next(logits, rng)]++;
        double p1 = Math.exp(3) / (1 + Math.exp(3) + Math.exp(2.5) + Math.exp(-1) + Math.exp(2.9));
        assertThat(counts[1] / 4000.0).isBetween(p1 - 0.04, p1 + 0.04);
        assertThatThrownBy(() -> new Sampling(-1, 0, 1)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new Sampling(1, 0, 0)).hasMessageContaining("topP");
    }

    @Test
    void badPromptsGetClearErrors() {
        LatentThoughtModel m = model(4, 0, 4);
        Generator g = new Generator(m);
        Tensor z = z(m.config(), 1);
        assertThatThrownBy(() -> g.generate(new int[20], z, 1, Sampling.greedy(), new Rng(1), -1))
                .hasMessageContaining("prompt of 20 tokens").hasMessageContaining("context of 20");
        assertThatThrownBy(() -> g.generate(new int[0], z, 1, Sampling.greedy(), new Rng(1), -1)).hasMessageContaining("empty");
        assertThatThrownBy(() -> g.generate(new int[] {1}, null, 1, Sampling.greedy(), new Rng(1), -1)).hasMessageContaining("z null");
    }
}
