package dev.ltm.model.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safetensors format, so that other tools (Python's {@code safetensors}, PyTorch) read our
 * weights. Layout:
 * <pre>
 *   u64 little-endian N | N bytes of JSON header, space-padded | data, little-endian
 *   header: {"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
 * </pre>
 * Offsets count from the start of the data section; tensors are stored in sorted name order,
 * back to back. We write F32; we read F32, F16 and BF16 (widened to float32).
 */
public final class Safetensors {
    private Safetensors() {}

    /** What a safetensors file holds: tensors in file order, and the free-form string metadata. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {}

    static final String METADATA_KEY = "__metadata__";
    // Same bound as the reference implementation: a larger header is a corrupt length, not a header.
    static final long MAX_HEADER_BYTES = 100_000_000L;
    private static final int CHUNK_FLOATS = 1 << 16;
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** Writes {@code tensors} (F32) and {@code metadata} to {@code path} atomically. */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) {
        byte[] header = header(tensors, metadata);
        TreeMap<String, Tensor> sorted = new TreeMap<>(tensors);
        AtomicFiles.write(path, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
            out.write(len.array());
            out.write(header);
            for (Tensor t : sorted.values()) writeFloats(out, t.read());
        });
    }

    /** The space-padded JSON header for these tensors, so that 8 + its length is a multiple of 8. */
    static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(METADATA_KEY);
            new TreeMap<>(metadata).forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : new TreeMap<>(tensors).entrySet()) {
            String name = e.getKey();
            if (name.equals(METADATA_KEY) || name.isEmpty()) {
                throw new CheckpointException("safetensors: tensor name '" + name + "' is reserved or empty");
            }
            Tensor t = e.getValue();
            ObjectNode info = root.putObject(name);
            info.put("dtype", "F32");
            ArrayNode shape = info.putArray("shape");
            for (int d : t.shape().dims()) shape.add(d);
            long end = offset + 4L * t.size();
            info.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new CheckpointException("safetensors: cannot build header: " + AtomicFiles.oneLine(e), e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    private static void writeFloats(OutputStream out, float[] data) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(4 * Math.min(CHUNK_FLOATS, Math.max(1, data.length))).order(ByteOrder.LITTLE_ENDIAN);
        for (int from = 0; from < data.length; from += CHUNK_FLOATS) {
            int n = Math.min(CHUNK_FLOATS, data.length - from);
            buf.clear();
            buf.asFloatBuffer().put(data, from, n);
            out.write(buf.array(), 0, 4 * n);
        }
    }

    /** One tensor's entry in the header, validated against the data section's length. */
    private record Entry(String name, String dtype, int[] shape, long begin, long end) {}

    /**
     * Reads every tensor and the metadata of {@code path}. Any fault (missing or truncated file,
     * header length beyond the file, invalid JSON, unsupported dtype, offsets out of range,
     * overlapping or not matching the shape) is a {@link CheckpointException} with a one-line message.
     */
    public static Contents read(Path path) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return read(ch::read, ch.size(), path.toString());
        } catch (NoSuchFileException e) {
            throw new CheckpointException("safetensors " + path + ": file not found");
        } catch (IOException e) {
            throw fail(path, AtomicFiles.oneLine(e));
        }
    }

    /**
     * Reads a safetensors image held in memory, with the same checks as {@link #read(Path)};
     * {@code name} stands for the file in messages.
     */
    public static Contents read(byte[] image, String name) {
        ByteBuffer all = ByteBuffer.wrap(image);
        try {
            return read((buf, pos) -> {
                if (pos >= image.length) return -1;
                int n = (int) Math.min(buf.remaining(), image.length - pos);
                buf.put(all.slice((int) pos, n));
                return n;
            }, image.length, name);
        } catch (IOException e) {
            throw new CheckpointException("safetensors " + name + ": " + AtomicFiles.oneLine(e), e);
        }
    }

    /** Positional reads: {@link FileChannel#read(ByteBuffer, long)}, or a byte array's. */
    private interface Source {
        int read(ByteBuffer buf, long pos) throws IOException;
    }

    private static Contents read(Source ch, long fileSize, String path) throws IOException {
        if (fileSize < 8) throw fail(path, "file is " + fileSize + " bytes, too short for the 8-byte header length");
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0, path);
        long headerLen = lenBuf.flip().getLong();
        if (headerLen < 2 || headerLen > MAX_HEADER_BYTES) {
            throw fail(path, "header length " + Long.toUnsignedString(headerLen) + " is not a plausible header size (2.."
                    + MAX_HEADER_BYTES + ")");
        }
        if (8 + headerLen > fileSize) {
            throw fail(path, "header length " + headerLen + " runs past the end of the " + fileSize + "-byte file");
        }
        ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
        readFully(ch, headerBuf, 8, path);
        long dataStart = 8 + headerLen;
        long dataLen = fileSize - dataStart;

        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = parseHeader(path, headerBuf.array(), metadata);
        checkLayout(path, entries, dataLen);

        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries) tensors.put(e.name, readTensor(ch, e, dataStart, path));
        return new Contents(tensors, metadata);
    }

    private static List<Entry> parseHeader(String path, byte[] header, Map<String, String> metadata) {
        JsonNode root;
        try {
            root = JSON.readTree(new String(header, StandardCharsets.UTF_8).strip());
        } catch (JsonProcessingException e) {
            String why = e.getOriginalMessage() == null ? "" : ": " + e.getOriginalMessage().replace('\n', ' ');
            throw fail(path, "header is not valid JSON" + why);
        }
        if (root == null || !root.isObject()) throw fail(path, "header is not a JSON object");
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            String name = field.getKey();
            JsonNode v = field.getValue();
            if (name.equals(METADATA_KEY)) {
                if (!v.isObject()) throw fail(path, "__metadata__ is not an object of strings");
                for (Map.Entry<String, JsonNode> kv : v.properties()) {
                    if (!kv.getValue().isTextual()) throw fail(path, "__metadata__ value of '" + kv.getKey() + "' is not a string");
                    metadata.put(kv.getKey(), kv.getValue().textValue());
                }
                continue;
            }
            if (!v.isObject()) throw fail(path, "tensor '" + name + "': entry is not an object");
            JsonNode dtype = v.get("dtype"), shape = v.get("shape"), offsets = v.get("data_offsets");
            if (dtype == null || !dtype.isTextual()) throw fail(path, "tensor '" + name + "': missing dtype");
            if (bytesPer(dtype.textValue()) == 0) {
                throw fail(path, "tensor '" + name + "': unsupported dtype " + dtype.textValue() + " (expected F32, F16 or BF16)");
            }
            if (shape == null || !shape.isArray()) throw fail(path, "tensor '" + name + "': missing shape");
            int[] dims = new int[shape.size()];
            for (int i = 0; i < dims.length; i++) {
                JsonNode d = shape.get(i);
                if (!d.canConvertToInt() || !d.isIntegralNumber() || d.intValue() < 0) {
                    throw fail(path, "tensor '" + name + "': shape " + shape + " has an invalid size");
                }
                dims[i] = d.intValue();
            }
            if (offsets == null || !offsets.isArray() || offsets.size() != 2
                    || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()
                    || !offsets.get(0).isIntegralNumber() || !offsets.get(1).isIntegralNumber()) {
                throw fail(path, "tensor '" + name + "': data_offsets must be [begin, end]");
            }
            entries.add(new Entry(name, dtype.textValue(), dims, offsets.get(0).longValue(), offsets.get(1).longValue()));
        }
        return entries;
    }

    /** Offsets must match the shapes, tile the data section from 0 without gaps or overlaps, and end with it. */
    private static void checkLayout(String path, List<Entry> entries, long dataLen) {
        for (Entry e : entries) {
            long count = 1;
            for (int d : e.shape) {
                count *= d;
                if (count > Integer.MAX_VALUE - 8) throw fail(path, "tensor '" + e.name + "': shape " + Arrays.toString(e.shape)
                        + " is too large");
            }
            if (e.begin < 0 || e.end < e.begin) {
                throw fail(path, "tensor '" + e.name + "': data_offsets [" + e.begin + ", " + e.end + "] are not an interval");
            }
            long expected = count * bytesPer(e.dtype);
            if (e.end - e.begin != expected) {
                throw fail(path, "tensor '" + e.name + "': data_offsets [" + e.begin + ", " + e.end + "] hold " + (e.end - e.begin)
                        + " bytes, shape " + Arrays.toString(e.shape) + " of " + e.dtype + " needs " + expected);
            }
            if (e.end > dataLen) {
                throw fail(path, "truncated: tensor '" + e.name + "' ends at data byte " + e.end + " but the file holds " + dataLen
                        + " data bytes");
            }
        }
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long pos = 0;
        for (Entry e : byOffset) {
            if (e.begin < pos) throw fail(path, "tensor '" + e.name + "': data_offsets [" + e.begin + ", " + e.end
                    + "] overlap the previous tensor, which ends at " + pos);
            if (e.begin > pos) throw fail(path, "tensor '" + e.name + "': data_offsets start at " + e.begin
                    + ", leaving a gap after byte " + pos);
            pos = e.end;
        }
        if (pos != dataLen) throw fail(path, "data section is " + dataLen + " bytes but the tensors cover " + pos);
    }

    private static int bytesPer(String dtype) {
        return switch (dtype) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            default -> 0;
        };
    }

    private static Tensor readTensor(Source ch, Entry e, long dataStart, String path) throws IOException {
        int count = (int) ((e.end - e.begin) / bytesPer(e.dtype));
        float[] data = new float[count];
        int per = bytesPer(e.dtype);
        ByteBuffer buf = ByteBuffer.allocate(per * Math.min(CHUNK_FLOATS, Math.max(1, count))).order(ByteOrder.LITTLE_ENDIAN);
        long pos = dataStart + e.begin;
        for (int from = 0; from < count; from += CHUNK_FLOATS) {
            int n = Math.min(CHUNK_FLOATS, count - from);
            buf.clear().limit(per * n);
            readFully(ch, buf, pos, path);
            buf.flip();
            pos += (long) per * n;
            switch (e.dtype) {
                case "F32" -> buf.asFloatBuffer().get(data, from, n);
                case "F16" -> { for (int i = 0; i < n; i++) data[from + i] = Float.float16ToFloat(buf.getShort()); }
                case "BF16" -> { for (int i = 0; i < n; i++) data[from + i] = Float.intBitsToFloat((buf.getShort() & 0xFFFF) << 16); }
                default -> throw new IllegalStateException("unreachable: dtype checked in parseHeader");
            }
        }
        return Tensor.of(data, Shape.of(e.shape));
    }

    private static void readFully(Source ch, ByteBuffer buf, long pos, String path) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) throw fail(path, "truncated: file ended at byte " + pos);
            pos += n;
        }
    }

    /**
     * Copies the tensors of {@code path} into {@code target}'s tensors, which fix the expected names
     * and shapes; the checks are those of {@link #load(Path, Map)}. Returns the file's metadata.
     */
    public static Map<String, String> loadInto(Path path, Map<String, Tensor> target) {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        target.forEach((name, t) -> shapes.put(name, t.shape()));
        Contents c = read(path);
        check(path, c, shapes);
        for (Map.Entry<String, Tensor> e : target.entrySet()) {
            float[] src = c.tensors().get(e.getKey()).read();
            System.arraycopy(src, 0, e.getValue().data(), 0, src.length);
        }
        return c.metadata();
    }

    /**
     * The tensors of {@code path}, which must be exactly those of {@code expected} (names and
     * shapes, in that order), with finite values. A missing name, an unexpected name, a shape
     * mismatch or a NaN or infinite value (weights and optimizer moments are always finite) is a
     * {@link CheckpointException}. Nothing is allocated from the expected shapes, so a config that
     * claims a huge model costs nothing before the file has shown that it holds one.
     */
    public static LinkedHashMap<String, Tensor> load(Path path, Map<String, Shape> expected) {
        Contents c = read(path);
        check(path, c, expected);
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        for (String name : expected.keySet()) out.put(name, c.tensors().get(name));
        return out;
    }

    private static void check(Path path, Contents c, Map<String, Shape> expected) {
        for (Map.Entry<String, Shape> e : expected.entrySet()) {
            Tensor found = c.tensors().get(e.getKey());
            if (found == null) throw fail(path, "tensor '" + e.getKey() + "' is missing (expected shape " + e.getValue() + ")");
            if (!found.shape().equals(e.getValue())) {
                throw fail(path, "tensor '" + e.getKey() + "' has shape " + found.shape() + ", expected " + e.getValue());
            }
        }
        for (String name : c.tensors().keySet()) {
            if (!expected.containsKey(name)) throw fail(path, "unexpected tensor '" + name + "' (not in the model)");
        }
        for (String name : expected.keySet()) {
            float[] v = c.tensors().get(name).read();
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) {
                    throw fail(path, "tensor '" + name + "' holds " + v[i] + " at entry " + i + " of " + v.length
                            + " (expected finite values: the run that wrote it diverged)");
                }
            }
        }
    }

    private static CheckpointException fail(Path path, String why) { return fail(path.toString(), why); }

    private static CheckpointException fail(String path, String why) {
        return new CheckpointException("safetensors " + path + ": " + why);
    }
}
