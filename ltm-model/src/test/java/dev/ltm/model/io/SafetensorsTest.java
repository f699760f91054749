package dev.ltm.model.io;

import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafetensorsTest {
    @TempDir Path dir;

    private static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) b[i] = Float.floatToRawIntBits(a[i]);
        return b;
    }

    private static Map<String, Tensor> randomTensors(long seed) {
        Rng rng = new Rng(seed);
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("zeta.scalar", Tensor.randn(rng, 0, 1));
        m.put("layers.1.wq", Tensor.randn(rng, 0, 0.02, 13, 7));
        m.put("layers.0.wq", Tensor.randn(rng, 0, 0.02, 7, 13));
        m.put("embed", Tensor.randn(rng, 0, 1, 5, 3, 11));
        m.put("empty", Tensor.zeros(2, 0, 3));
        m.put("one", Tensor.randn(rng, 0, 1, 1));
        m.put("big", Tensor.randn(rng, 0, 1, 70_001)); // more than one I/O chunk
        float[] odd = {Float.NaN, Float.intBitsToFloat(0x7fc00001), Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                -0.0f, Float.MIN_VALUE, Float.MAX_VALUE};
        m.put("special", Tensor.of(odd, 7));
        return m;
    }

    @Test
    void roundTripIsBitExactWithMetadata() {
        Map<String, Tensor> tensors = randomTensors(3);
        Map<String, String> meta = Map.of("format", "pt", "config", "{\"dim\": 64}", "ünïcode", "✓");
        Path file = dir.resolve("model.safetensors");
        Safetensors.write(file, tensors, meta);

        Safetensors.Contents back = Safetensors.read(file);
        assertThat(back.metadata()).isEqualTo(meta);
        assertThat(back.tensors().keySet()).containsExactly(
                "big", "embed", "empty", "layers.0.wq", "layers.1.wq", "one", "special", "zeta.scalar");
        for (var e : tensors.entrySet()) {
            Tensor t = back.tensors().get(e.getKey());
            assertThat(t.shape()).as(e.getKey()).isEqualTo(e.getValue().shape());
            assertThat(bits(t.data())).as(e.getKey()).containsExactly(bits(e.getValue().data()));
        }
        assertThat(back.tensors().get("zeta.scalar").rank()).isZero();
    }

    @Test
    void fileFollowsTheSafetensorsLayout() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("b", Tensor.of(new float[] {1.5f, -2f}, 2));
        tensors.put("a", Tensor.of(new float[] {3f}, 1, 1));
        Path file = dir.resolve("x.safetensors");
        Safetensors.write(file, tensors, Map.of());

        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat((8 + n) % 8).isZero();
        assertThat(bytes.length).isEqualTo(8 + n + 12);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertThat(header.stripTrailing()).isEqualTo(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}");
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) (8 + n), 12).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(List.of(data.getFloat(), data.getFloat(), data.getFloat())).containsExactly(3f, 1.5f, -2f);
    }

    /** A file from raw parts, as another tool (or a corruption) might produce it. */
    private Path craft(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.write(h);
        out.write(data);
        Path file = dir.resolve("crafted.safetensors");
        Files.write(file, out.toByteArray());
        return file;
    }

    @Test
    void readsHalfAndBfloat16AsFloat32() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        data.putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-0.25f));
        data.putShort((short) (Float.floatToRawIntBits(3.0f) >>> 16)).putShort((short) (Float.floatToRawIntBits(-7.5f) >>> 16));
        Path file = craft("{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"g\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[4,8]}}", data.array());
        Safetensors.Contents c = Safetensors.read(file);
        assertThat(c.tensors().keySet()).containsExactly("h", "g");
        assertThat(c.tensors().get("h").data()).containsExactly(1.5f, -0.25f);
        assertThat(c.tensors().get("g").data()).containsExactly(3.0f, -7.5f);
        assertThat(c.metadata()).isEmpty();
    }

    private void assertOneLineError(Path file, String expectedPart) {
        assertThatThrownBy(() -> Safetensors.read(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith("safetensors " + file + ": ")
                .hasMessageContaining(expectedPart)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void truncatedFileIsReported() throws IOException {
        Path file = dir.resolve("t.safetensors");
        Safetensors.write(file, randomTensors(5), Map.of());
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 3));
        assertOneLineError(file, "truncated: tensor 'zeta.scalar' ends at data byte");

        Files.write(file, new byte[] {1, 2, 3, 4, 5});
        assertOneLineError(file, "file is 5 bytes, too short");
    }

    @Test
    void headerLengthBeyondTheFileIsReported() throws IOException {
        Path file = dir.resolve("t.safetensors");
        Safetensors.write(file, Map.of("w", Tensor.zeros(3)), Map.of());
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, bytes.length);
        Files.write(file, bytes);
        assertOneLineError(file, "runs past the end of the " + bytes.length + "-byte file");

        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
        Files.write(file, bytes);
        assertOneLineError(file, "header length 18446744073709551615 is not a plausible header size");
    }

    @Test
    void wrongHeadersAreReported() throws IOException {
        assertOneLineError(craft("{\"w\": {\"dtype\": \"F32\", ", new byte[4]), "header is not valid JSON");
        assertOneLineError(craft("[1, 2, 3]", new byte[0]), "header is not a JSON object");
        assertOneLineError(craft("{\"w\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]),
                "tensor 'w': unsupported dtype I64 (expected F32, F16 or BF16)");
        assertOneLineError(craft("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", new byte[4]), "tensor 'w': missing shape");
        assertOneLineError(craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4]), "has an invalid size");
        assertOneLineError(craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[4]),
                "data_offsets must be [begin, end]");
        assertOneLineError(craft("{\"__metadata__\":{\"a\":1}}", new byte[0]), "__metadata__ value of 'a' is not a string");
        assertOneLineError(craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "Duplicate field 'w'");
    }

    @Test
    void badOffsetsAreReported() throws IOException {
        assertOneLineError(craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", new byte[20]),
                "tensor 'w': data_offsets [0, 20] hold 20 bytes, shape [2, 3] of F32 needs 24");
        assertOneLineError(craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", new byte[8]),
                "are not an interval");
        assertOneLineError(craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]),
                "tensor 'b': data_offsets [4, 12] overlap the previous tensor, which ends at 8");
        assertOneLineError(craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]),
                "leaving a gap after byte 0");
        assertOneLineError(craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[9]),
                "data section is 9 bytes but the tensors cover 4");
    }

    @Test
    void missingFileIsReported() {
        Path file = dir.resolve("nope.safetensors");
        assertThatThrownBy(() -> Safetensors.read(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessage("safetensors " + file + ": file not found");
    }

    @Test
    void loadIntoChecksNamesAndShapes() {
        Path file = dir.resolve("m.safetensors");
        Rng rng = new Rng(9);
        Tensor w = Tensor.randn(rng, 0, 1, 3, 5);
        Safetensors.write(file, Map.of("w", w, "g", Tensor.full(1f, 5)), Map.of("step", "17"));

        Map<String, Tensor> model = new LinkedHashMap<>();
        model.put("w", Tensor.zeros(3, 5));
        model.put("g", Tensor.zeros(5));
        assertThat(Safetensors.loadInto(file, model)).containsEntry("step", "17");
        assertThat(model.get("w").data()).containsExactly(w.data());
        assertThat(model.get("g").data()).containsOnly(1f);

        assertThatThrownBy(() -> Safetensors.loadInto(file, Map.of("w", Tensor.zeros(5, 3), "g", Tensor.zeros(5))))
                .isInstanceOf(CheckpointException.class)
                .hasMessage("safetensors " + file + ": tensor 'w' has shape [3, 5], expected [5, 3]");
        assertThatThrownBy(() -> Safetensors.loadInto(file, Map.of("w", Tensor.zeros(3, 5), "g", Tensor.zeros(5), "h", Tensor.zeros(2))))
                .hasMessage("safetensors " + file + ": tensor 'h' is missing (expected shape [2])");
        assertThatThrownBy(() -> Safetensors.loadInto(file, Map.of("w", Tensor.zeros(3, 5))))
                .hasMessage("safetensors " + file + ": unexpected tensor 'g' (not in the model)");
    }
}
