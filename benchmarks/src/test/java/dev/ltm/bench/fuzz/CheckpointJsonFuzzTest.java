package dev.ltm.bench.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.io.CheckpointException;
import dev.ltm.model.io.Json;
import dev.ltm.optim.Checkpoint;
import dev.ltm.tensor.Shape;
import java.nio.charset.StandardCharsets;

/**
 * A checkpoint's {@code config.json} and {@code trainer.json} from arbitrary bytes (read as UTF-8,
 * as loading does): a valid record, or one {@link CheckpointException} line, an invalid value
 * inside included.
 */
class CheckpointJsonFuzzTest {
    @FuzzTest
    void configJsonParsesOrFailsWithOneLine(byte[] bytes) {
        Checkpoint.Config c;
        try {
            c = Json.fromJson(new String(bytes, StandardCharsets.UTF_8), Checkpoint.Config.class);
        } catch (CheckpointException e) {
            Fuzzing.assertOneLine(e);
            return;
        }
        if (c == null || c.model() == null) return;
        // The next thing loading does: the weights' shapes, computed without allocating them.
        try {
            long total = 0;
            for (Shape s : LatentThoughtModel.parameterShapes(c.model()).values()) total += s.size();
            assertThat(total).isPositive();
        } catch (IllegalArgumentException e) {
            Fuzzing.assertOneLine(e);
        }
    }

    @FuzzTest
    void trainerJsonParsesOrFailsWithOneLine(byte[] bytes) {
        try {
            Json.fromJson(new String(bytes, StandardCharsets.UTF_8), Checkpoint.TrainerState.class);
        } catch (CheckpointException e) {
            Fuzzing.assertOneLine(e);
        }
    }
}
