package dev.ltm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ltm.model.io.CheckpointException;
import dev.ltm.model.io.Safetensors;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NaN and infinity never pass silently: not from a weights file, not out of the sampler. */
class NonFiniteTest {
    @TempDir Path dir;

    @Test
    void samplingFromANanOrInfiniteLogitIsAnErrorNotTokenZero() {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[] logits = {0.5f, 2f, bad, -1f};
            for (Sampling s : new Sampling[] {Sampling.greedy(), Sampling.temperature(1), new Sampling(0.7, 2, 0.9)}) {
                assertThatThrownBy(() -> s.next(logits, new Rng(1))).isInstanceOf(IllegalArgumentException.class)
                        .hasMessage("sampling: the logit of token 2 is " + bad + " (expected finite logits: the model's weights or "
                                + "thoughts are not finite)");
            }
        }
        assertThat(Sampling.greedy().next(new float[] {0.5f, 2f, -1f}, new Rng(1))).isEqualTo(1);
    }

    @Test
    void aModelWithANanWeightFailsToGenerateInsteadOfPrintingToken0() {
        LatentThoughtModel m = new LatentThoughtModel(TinyModels.config(), new Rng(2));
        m.parameters().get("layers.1.ffn.w2").data()[7] = Float.NaN;
        Tensor z = Tensor.randn(new Rng(3), 0, 1, 1, 2, 3, 16);
        assertThatThrownBy(() -> new Generator(m).generate(new int[] {1, 2}, z, 5, Sampling.greedy(), new Rng(4), -1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("sampling: the logit of token 0 is NaN");
    }

    @Test
    void loadingANanOrInfiniteValueNamesTheTensorAndTheEntry() {
        Path file = dir.resolve("w.safetensors");
        LinkedHashMap<String, Tensor> w = new LinkedHashMap<>();
        w.put("a", Tensor.of(new float[] {1, 2, 3}, 3));
        w.put("b", Tensor.of(new float[] {1, Float.NEGATIVE_INFINITY}, 2));
        Safetensors.write(file, w, Map.of());
        assertThat(Safetensors.read(file).tensors()).containsKeys("a", "b"); // the format itself carries any float
        LinkedHashMap<String, Tensor> target = new LinkedHashMap<>();
        target.put("a", Tensor.zeros(3));
        target.put("b", Tensor.zeros(2));
        assertThatThrownBy(() -> Safetensors.loadInto(file, target)).isInstanceOf(CheckpointException.class)
                .hasMessage("safetensors " + file + ": tensor 'b' holds -Infinity at entry 1 of 2 (expected finite values: the run that "
                        + "wrote it diverged)");
        assertThat(target.get("a").data()).containsOnly(0f); // nothing was copied
        assertThatThrownBy(() -> Safetensors.load(file, Map.of("a", dev.ltm.tensor.Shape.of(3), "b", dev.ltm.tensor.Shape.of(2))))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("tensor 'b' holds -Infinity at entry 1 of 2");
    }
}
