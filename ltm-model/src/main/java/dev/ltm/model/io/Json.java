package dev.ltm.model.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads and writes records as pretty-printed JSON files (configs, optimizer and trainer state). */
public final class Json {
    private Json() {}

    // Configured once here and never changed afterwards, so sharing it between threads is safe.
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    /** {@code value} as pretty-printed JSON text. */
    public static String toJson(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new CheckpointException("json: cannot write " + value.getClass().getSimpleName() + ": " + AtomicFiles.oneLine(e), e);
        }
    }

    /** Parses {@code json} as a {@code type}; a malformed or mismatched text is a one-line {@link CheckpointException}. */
    public static <T> T fromJson(String json, Class<T> type) {
        try {
            return MAPPER.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new CheckpointException("json: not a valid " + type.getSimpleName() + ": " + firstLine(e), e);
        }
    }

    /** Writes {@code value} to {@code path} as pretty JSON, atomically. */
    public static void write(Path path, Object value) {
        AtomicFiles.writeString(path, toJson(value) + "\n");
    }

    /** Reads {@code path} as a {@code type}; the error names the file. */
    public static <T> T read(Path path, Class<T> type) {
        String text;
        try {
            text = Files.readString(path);
        } catch (NoSuchFileException e) {
            throw new CheckpointException("json " + path + ": file not found");
        } catch (IOException e) {
            throw new CheckpointException("json " + path + ": " + AtomicFiles.oneLine(e), e);
        }
        try {
            return MAPPER.readValue(text, type);
        } catch (JsonProcessingException e) {
            throw new CheckpointException("json " + path + ": not a valid " + type.getSimpleName() + ": " + firstLine(e), e);
        }
    }

    private static String firstLine(JsonProcessingException e) {
        String m = e.getOriginalMessage();
        if (m == null) m = e.getClass().getSimpleName();
        int nl = m.indexOf('\n');
        String line = nl < 0 ? m : m.substring(0, nl);
        var loc = e.getLocation();
        return loc == null ? line : line + " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
    }
}
