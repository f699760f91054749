package dev.ltm.optim.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Loads a text corpus as a list of documents: a {@code .txt} or {@code .md} file is one
 * document; a {@code .jsonl} file gives one document per line, from a string field ("text" by
 * default). A folder is searched recursively for those three kinds, in sorted path order so
 * that the corpus is the same on every machine. Files must be valid UTF-8; empty documents are
 * skipped. Every fault is a {@link DataException} with a one-line message naming the file.
 */
public final class TextSource {
    private TextSource() {}

    /** The JSONL field read by {@link #load(Path)}. */
    public static final String DEFAULT_FIELD = "text";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The documents of {@code path} (a file or a folder), reading JSONL's "text" field. */
    public static List<String> load(Path path) { return load(path, DEFAULT_FIELD); }

    /** The documents of {@code path} (a file or a folder), reading JSONL's {@code jsonField}. */
    public static List<String> load(Path path, String jsonField) {
        if (!Files.exists(path)) throw new DataException("corpus not found: " + path);
        List<Path> files = Files.isDirectory(path) ? corpusFiles(path) : List.of(path);
        List<String> docs = new ArrayList<>();
        for (Path f : files) {
            String text = readUtf8(f);
            if (isJsonl(f)) docs.addAll(jsonlDocuments(f, text, jsonField));
            else if (!text.isBlank()) docs.add(text);
        }
        if (docs.isEmpty()) {
            throw new DataException("corpus is empty: " + path + (Files.isDirectory(path)
                    ? " (no non-empty .txt, .md or .jsonl documents in it)" : " (no non-empty documents)"));
        }
        return docs;
    }

    static boolean isJsonl(Path f) { return f.getFileName().toString().endsWith(".jsonl"); }

    static List<Path> corpusFiles(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile)
                    .filter(p -> {
                        String n = p.getFileName().toString();
                        return n.endsWith(".txt") || n.endsWith(".md") || n.endsWith(".jsonl");
                    })
                    .sorted()
                    .toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new DataException("cannot list corpus folder " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The file's text; invalid UTF-8 is an error naming the file and the byte offset. A leading BOM is dropped. */
    static String readUtf8(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new DataException("cannot read " + file + ": " + e.getMessage(), e);
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = decoder.decode(in, out, true);
        if (!r.isError()) r = decoder.flush(out);
        if (r.isError()) {
            throw new DataException("invalid UTF-8 in " + file + " at byte " + in.position()
                    + String.format(" (0x%02X)", bytes[in.position()] & 0xFF));
        }
        out.flip();
        String text = out.toString();
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    private static List<String> jsonlDocuments(Path file, String text, String field) {
        List<String> docs = new ArrayList<>();
        int lineNo = 0;
        for (String line : text.split("\r?\n", -1)) {
            lineNo++;
            String doc = jsonlDocument(file, lineNo, line, field);
            if (doc != null) docs.add(doc);
        }
        return docs;
    }

    /** The document of one JSONL line: its {@code field}, or null for a blank line or a blank text. */
    static String jsonlDocument(Path file, int lineNo, String line, String field) {
        if (line.isBlank()) return null;
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new DataException(file + ":" + lineNo + ": invalid JSON: " + e.getOriginalMessage().replace('\n', ' '));
        }
        if (node == null || !node.isObject()) throw new DataException(file + ":" + lineNo + ": expected a JSON object per line");
        JsonNode value = node.get(field);
        if (value == null) throw new DataException(file + ":" + lineNo + ": no field '" + field + "'");
        if (!value.isTextual()) throw new DataException(file + ":" + lineNo + ": field '" + field + "' is not a string");
        return value.textValue().isBlank() ? null : value.textValue();
    }
}
