package dev.ltm.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.Sampling;
import dev.ltm.model.tokenizer.ByteTokenizer;
import dev.ltm.tensor.Rng;
import org.junit.jupiter.api.Test;

class GenerationTest {
    final LatentThoughtModel model = new LatentThoughtModel(Tiny.CONFIG.toBuilder().initStd(0.3f).build(), new Rng(5));
    final Generation gen = new Generation(model, new ByteTokenizer(), FastFitter.Settings.defaults());
    final Generation.Options greedy = Generation.Options.defaults().withSampling(Sampling.greedy()).withMaxTokens(8);

    @Test
    void aPromptIsFittedAndContinued() {
        Generation.Result r = gen.generate("Tom ran", greedy.withSeed(3));
        assertThat(r.conditioned()).isTrue();
        assertThat(r.promptTokens()).startsWith(ByteTokenizer.BOS).hasSize(8);
        assertThat(r.promptNelboPerToken()).isFinite().isPositive();
        assertThat(r.tokens()).hasSizeBetween(1, 8);
        assertThat(gen.generate("Tom ran", greedy.withSeed(3)).tokens()).containsExactly(r.tokens());
    }

    @Test
    void withoutAPromptThoughtsComeFromThePrior() {
        Generation.Result r = gen.generate(null, greedy.withSeed(4));
        assertThat(r.conditioned()).isFalse();
        assertThat(r.promptNelboPerToken()).isNaN();
        assertThat(r.tokens()).isNotEmpty();
        assertThat(gen.generate("", greedy.withSeed(4)).tokens()).containsExactly(r.tokens());
    }

    @Test
    void zLayersKeepsOnlyTheChosenGroups() {
        Generation.Result none = gen.generate("Tom ran", greedy.withZLayers("none"));
        assertThat(none.zLayers().layers()).isEmpty();
        // With no thoughts kept, generation no longer depends on the fitted z: any seed gives the same greedy text.
        assertThat(gen.generate("Mia hid", greedy.withZLayers("none").withSeed(9)).tokens().length).isPositive();
        assertThat(gen.generate(null, greedy.withZLayers("none").withSeed(1)).tokens())
                .containsExactly(gen.generate(null, greedy.withZLayers("none").withSeed(2)).tokens());
        assertThatThrownBy(() -> gen.generate("x", greedy.withZLayers("1,9"))).hasMessageContaining("layer 9 is outside 1..3");
    }

    @Test
    void aPromptLongerThanTheContextIsRefused() {
        assertThatThrownBy(() -> gen.generate("a".repeat(22), greedy))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("generate: the prompt is 23 tokens with BOS, the context holds 23: give a prompt of at most 21 tokens");
    }
}
