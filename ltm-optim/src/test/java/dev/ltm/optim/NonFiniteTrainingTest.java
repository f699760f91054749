package dev.ltm.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.io.CheckpointException;
import dev.ltm.model.io.Safetensors;
import dev.ltm.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A step that is not finite stops the run (or is skipped when asked), before it touches weights, moments or checkpoint. */
class NonFiniteTrainingTest {
    @TempDir Path tmp;

    private static TrainingRun.Options everyStep(Path dir) { return new TrainingRun.Options(dir, 1, 0, 0); }

    @Test
    void aNanStepStopsTheRunNamingTheStepAndLeavesWeightsMomentsAndCheckpointAsTheyWere() throws IOException {
        Path dir = tmp.resolve("ck");
        LatentThoughtModel model = Tiny.model(7);
        TrainingRun run = TrainingRun.start(Tiny.config(), model, Tiny.settings(4), Tiny.dataset(), 2);
        run.runTo(2, everyStep(dir), new TrainingRun.Listener() {});
        byte[] savedWeights = Files.readAllBytes(dir.resolve("model.safetensors"));
        Map<String, float[]> moments = new LinkedHashMap<>();
        run.trainer().optimizerState().forEach((k, t) -> moments.put(k, t.data().clone()));

        model.parameters().get("layers.0.attn.wq").data()[3] = Float.NaN; // as a diverged update would leave it
        float[] wk = model.parameters().get("layers.0.attn.wk").data().clone();

        assertThatThrownBy(() -> run.runTo(4, everyStep(dir), new TrainingRun.Listener() {}))
                .isInstanceOf(NonFiniteException.class)
                .hasMessageStartingWith("training: step 3 of 4 is not finite (loss NaN")
                .hasMessageEndingWith("the checkpoint in " + dir + " is the last one saved")
                .satisfies(e -> assertThat(((NonFiniteException) e).step()).isEqualTo(2))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThat(run.stepCount()).isEqualTo(2);
        assertThat(model.parameters().get("layers.0.attn.wk").data()).containsExactly(wk);
        run.trainer().optimizerState().forEach((k, t) -> assertThat(t.data()).as(k).containsExactly(moments.get(k)));
        assertThat(Files.readAllBytes(dir.resolve("model.safetensors"))).isEqualTo(savedWeights);
        assertThat(Checkpoint.load(dir).trainer().step()).isEqualTo(2);
    }

    @Test
    void skippingCountsTheBatchRetriesTheStepOnTheNextOneAndGivesUpAfterTwentyInARow() {
        LatentThoughtModel model = Tiny.model(8);
        float[] wq = model.parameters().get("layers.1.attn.wq").data();
        float kept = wq[0];
        wq[0] = Float.POSITIVE_INFINITY;
        int[] skipped = {0};
        TrainingRun run = TrainingRun.start(Tiny.config(), model, Tiny.settings(3), Tiny.dataset(), 2);
        TrainingRun.Summary s = run.run(TrainingRun.Options.none(), new TrainingRun.Listener() {
            @Override public boolean onNonFinite(NonFiniteException e) {
                assertThat(e.step()).isZero();
                if (++skipped[0] == 2) wq[0] = kept; // the cause goes away: the step runs on the next batch
                return true;
            }
        });
        assertThat(skipped[0]).isEqualTo(2);
        assertThat(s.steps()).isEqualTo(3);
        assertThat(run.checkpoint().trainer().batchesPosition()).isEqualTo(5); // 2 skipped batches + 3 steps

        LatentThoughtModel broken = Tiny.model(9);
        broken.parameters().get("norm_f.g").data()[0] = Float.NaN;
        TrainingRun hopeless = TrainingRun.start(Tiny.config(), broken, Tiny.settings(3), Tiny.dataset(), 2);
        assertThatThrownBy(() -> hopeless.run(TrainingRun.Options.none(), new TrainingRun.Listener() {
            @Override public boolean onNonFinite(NonFiniteException e) { return true; }
        })).isInstanceOf(NonFiniteException.class)
                .hasMessage("training: 20 batches in a row were not finite at step 1: the model has diverged");
    }

    @Test
    void aCheckpointWithANanWeightOrAnInfiniteMomentIsRefusedNamingTheTensor() {
        Path dir = tmp.resolve("nan");
        TrainingRun run = TrainingRun.start(Tiny.config(), Tiny.model(3), Tiny.settings(1), Tiny.dataset(), 2);
        run.run(new TrainingRun.Options(dir, 0, 0, 0), new TrainingRun.Listener() {});
        Checkpoint good = Checkpoint.load(dir);

        good.model().parameters().get("layers.2.ffn.w1").data()[11] = Float.NaN;
        Safetensors.write(dir.resolve("model.safetensors"), good.model().parameters(), Map.of());
        assertThatThrownBy(() -> Checkpoint.load(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("model.safetensors: tensor 'layers.2.ffn.w1' holds NaN at entry 11 of ");

        good.model().parameters().get("layers.2.ffn.w1").data()[11] = 0f;
        Safetensors.write(dir.resolve("model.safetensors"), good.model().parameters(), Map.of());
        LinkedHashMap<String, Tensor> moments = new LinkedHashMap<>(good.optimizer());
        String name = moments.keySet().iterator().next();
        moments.get(name).data()[0] = Float.POSITIVE_INFINITY;
        Safetensors.write(dir.resolve("optimizer.safetensors"), moments, Map.of());
        assertThatThrownBy(() -> Checkpoint.load(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("optimizer.safetensors: tensor '" + name + "' holds Infinity at entry 0 of ");
    }

    @Test
    void aConfigClaimingAHugeModelIsRefusedByTheWeightsFileBeforeAnythingIsAllocated() throws IOException {
        Path dir = tmp.resolve("huge");
        new Checkpoint(Tiny.config(), Tiny.model(4), null, null).save(dir);
        // Width 16384: the weights of this config would take tens of GiB; the 16-wide file shows it is not that model.
        String config = Files.readString(dir.resolve("config.json")).replaceFirst("\"width\" : 16", "\"width\" : 16384");
        Files.writeString(dir.resolve("config.json"), config);
        assertThatThrownBy(() -> Checkpoint.load(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("model.safetensors: tensor 'tok_emb' has shape [258, 16], expected [258, 16384]");
    }
}
