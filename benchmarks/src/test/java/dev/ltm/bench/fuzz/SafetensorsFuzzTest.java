package dev.ltm.bench.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ltm.model.io.CheckpointException;
import dev.ltm.model.io.Safetensors;
import dev.ltm.tensor.Tensor;

/** The safetensors reader on arbitrary bytes: a valid image, or one {@link CheckpointException} line; never anything else. */
class SafetensorsFuzzTest {
    @FuzzTest
    void anyBytesReadOrFailWithOneLine(byte[] image) {
        Safetensors.Contents c;
        try {
            c = Safetensors.read(image, "fuzz.safetensors");
        } catch (CheckpointException e) {
            Fuzzing.assertOneLine(e);
            return;
        }
        // What was read fits in what was given: no size was taken from the header unchecked.
        long floats = 0;
        for (Tensor t : c.tensors().values()) floats += t.size();
        assertThat(2 * floats).isLessThanOrEqualTo(image.length);
    }
}
