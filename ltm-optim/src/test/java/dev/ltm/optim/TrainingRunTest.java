package dev.ltm.optim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingRunTest {
    @TempDir Path tmp;

    @Test
    void resumingFromTheCheckpointFilesEqualsAnUninterruptedRun() throws IOException {
        Path straightDir = tmp.resolve("straight"), resumedDir = tmp.resolve("resumed");
        List<DualRateTrainer.Step> straightSteps = new ArrayList<>(), resumedSteps = new ArrayList<>();
        TrainingRun.start(Tiny.config(), Tiny.model(7), Tiny.settings(5), Tiny.dataset(), 3)
                .run(new TrainingRun.Options(straightDir, 0, 0, 0), new Recorder(straightSteps));

        // Stop after 2 steps, as a crash would, keeping only what is on disk.
        TrainingRun.start(Tiny.config(), Tiny.model(7), Tiny.settings(5), Tiny.dataset(), 3)
                .runTo(2, new TrainingRun.Options(resumedDir, 0, 0, 0), new Recorder(resumedSteps));
        Checkpoint half = Checkpoint.load(resumedDir);
        assertThat(half.trainer().step()).isEqualTo(2);
        TrainingRun resumed = TrainingRun.resume(half, TrainingData.dataset(half.config().data(), half.tokenizer()));
        TrainingRun.Summary rest = resumed.run(new TrainingRun.Options(resumedDir, 0, 0, 0), new Recorder(resumedSteps));
        assertThat(rest.steps()).isEqualTo(3);

        assertThat(resumedSteps).isEqualTo(straightSteps);
        for (String f : new String[] {"config.json", "model.safetensors", "optimizer.safetensors", "trainer.json"}) {
            assertThat(Files.readAllBytes(resumedDir.resolve(f))).as(f).isEqualTo(Files.readAllBytes(straightDir.resolve(f)));
        }
    }

    @Test
    void periodicCheckpointsAndValidationAreReported() {
        List<Integer> saves = new ArrayList<>(), validations = new ArrayList<>();
        Path dir = tmp.resolve("ckpt");
        TrainingRun.Summary s = TrainingRun.start(Tiny.config(), Tiny.model(8), Tiny.settings(4), Tiny.dataset(), 2)
                .run(new TrainingRun.Options(dir, 2, 3, 1), new TrainingRun.Listener() {
                    @Override public void onCheckpoint(int step, Path d) { saves.add(step); }
                    @Override public void onValidation(int step, Evaluator.Result r) {
                        validations.add(step);
                        assertThat(r.nelboPerToken()).isFinite().isPositive();
                    }
                });
        assertThat(saves).containsExactly(2, 4);
        assertThat(validations).containsExactly(3);
        assertThat(s.steps()).isEqualTo(4);
        assertThat(s.last().step()).isEqualTo(3);
        assertThat(s.tokens()).isEqualTo(4 * 2 * 23);
        assertThat(Checkpoint.load(dir).trainer().batchesPosition()).isEqualTo(4);
    }

    private record Recorder(List<DualRateTrainer.Step> steps) implements TrainingRun.Listener {
        @Override public void onStep(DualRateTrainer.Step step) { steps.add(step); }
    }
}
