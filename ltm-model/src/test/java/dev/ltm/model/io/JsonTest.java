package dev.ltm.model.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JsonTest {
    @TempDir Path dir;

    record TrainerState(long step, double lr, List<Double> losses, String tokenizer) {}

    @Test
    void recordsRoundTripThroughPrettyJson() throws Exception {
        TrainerState s = new TrainerState(1234, 4e-4, List.of(5.5, 4.25), "byte");
        Path f = dir.resolve("trainer.json");
        Json.write(f, s);
        assertThat(Files.readString(f)).contains("\n  \"step\" : 1234");
        assertThat(Json.read(f, TrainerState.class)).isEqualTo(s);
    }

    @Test
    void malformedOrMissingFilesGiveOneLineErrors() throws Exception {
        Path f = dir.resolve("bad.json");
        Files.writeString(f, "{\"step\": 1,\n \"lr\": }");
        assertThatThrownBy(() -> Json.read(f, TrainerState.class))
                .isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith("json " + f + ": not a valid TrainerState: ")
                .hasMessageContaining("line 2")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        Files.writeString(f, "{\"step\": 1, \"lr\": 0.1, \"losses\": [], \"tokenizer\": \"byte\", \"extra\": 2}");
        assertThatThrownBy(() -> Json.read(f, TrainerState.class)).hasMessageContaining("extra");
        Path missing = dir.resolve("none.json");
        assertThatThrownBy(() -> Json.read(missing, TrainerState.class)).hasMessage("json " + missing + ": file not found");
    }
}
