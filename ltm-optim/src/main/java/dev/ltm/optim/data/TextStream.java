package dev.ltm.optim.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The documents of a text source, as {@link TextSource#load} reads them (same files, order, UTF-8
 * checks, BOM and blank rules, same error messages), streamed: a file is decoded 256 KiB at a time, a
 * {@code .txt}/{@code .md} document reaches the sink in chunks of about {@code chunkChars}
 * characters, a JSONL document one line at a time. Memory stays bounded by the chunk (or by the
 * longest JSONL line), however large the files.
 *
 * <p>A chunk ends where GPT-2's pre-tokenizer splits anyway, so that encoding chunk by chunk gives
 * the same ids as encoding the whole text: after a lone line break between two non-space
 * characters ({@code x\ny}), or before a space between two non-space characters ({@code x y}):
 * no pre-token of r50k's pattern contains a non-space followed by a space or a line break, and a
 * lone line break is a pre-token of its own. A text with no such place in a chunk's second half
 * is cut anywhere but inside a surrogate pair (exact for bytes, a few ids may differ for GPT-2).
 */
final class TextStream {
    /** Characters per chunk by default. */
    static final int CHUNK_CHARS = 1 << 16;

    private static final int READ_BYTES = 1 << 18;

    /** Receives documents: {@code begin}, one or more {@code text} chunks, {@code end}; and the bytes read so far. */
    interface Sink {
        /** A document starts. */
        void begin();

        /** The next chunk of the current document. */
        void text(String chunk);

        /** The current document ends. */
        void end();

        /** {@code bytes} of the source have been read. */
        default void read(long bytes) {}
    }

    private final int chunkChars;

    TextStream(int chunkChars) {
        if (chunkChars < 16) throw new IllegalArgumentException("text stream: chunk of " + chunkChars + " characters, at least 16");
        this.chunkChars = chunkChars;
    }

    /** The files of {@code path} in the order {@link TextSource#load} reads them. */
    static List<Path> files(Path path) {
        if (!Files.exists(path)) throw new DataException("corpus not found: " + path);
        return Files.isDirectory(path) ? TextSource.corpusFiles(path) : List.of(path);
    }

    /** Streams every document of {@code files} (JSONL's {@code field}) to {@code sink}; returns how many there were. */
    long stream(List<Path> files, String field, Sink sink) {
        long[] read = {0};
        long documents = 0;
        for (Path f : files) {
            long before = read[0];
            Consumer chars = TextSource.isJsonl(f) ? new JsonlLines(f, field, sink) : new Chunker(sink);
            decode(f, chars, bytes -> sink.read(read[0] = before + bytes));
            documents += chars.finish();
        }
        return documents;
    }

    /** Takes the decoded characters of one file. */
    private interface Consumer {
        void accept(char[] chars, int from, int to);

        /** The file ended: returns the number of documents it gave. */
        long finish();
    }

    /** One .txt/.md file as one document, cut into chunks. */
    private final class Chunker implements Consumer {
        private final Sink sink;
        private final StringBuilder carry = new StringBuilder();
        private boolean sawText, begun;

        Chunker(Sink sink) { this.sink = sink; }

        @Override public void accept(char[] chars, int from, int to) {
            if (!sawText) {
                for (int i = from; i < to && !sawText; i++) sawText = !Character.isWhitespace(chars[i]);
            }
            carry.append(chars, from, to - from);
            // A blank prefix is held back: a file that is blank to its end is no document (TextSource's rule).
            while (sawText && carry.length() >= 2 * chunkChars) emit(cut(carry, chunkChars, 2 * chunkChars));
        }

        private void emit(int at) {
            if (!begun) {
                sink.begin();
                begun = true;
            }
            sink.text(carry.substring(0, at));
            carry.delete(0, at);
        }

        @Override public long finish() {
            if (!sawText) return 0;
            if (!carry.isEmpty()) emit(carry.length());
            sink.end();
            return 1;
        }
    }

    /** Where to end a chunk within {@code text[0..limit)}: the last place past {@code min} where GPT-2's pre-tokenizer splits anyway. */
    static int cut(CharSequence text, int min, int limit) {
        for (int p = limit - 2; p > min; p--) {
            char before = text.charAt(p - 1), at = text.charAt(p);
            if (before == '\n' && solid(text.charAt(p - 2)) && solid(at)) return p;
            if (at == ' ' && solid(before) && solid(text.charAt(p + 1))) return p;
        }
        return Character.isHighSurrogate(text.charAt(limit - 1)) ? limit - 1 : limit;
    }

    /** Surely not whitespace for any pattern: a letter, a digit or visible ASCII. */
    private static boolean solid(char c) { return c > ' ' && c < 127 || Character.isLetterOrDigit(c); }

    /** A JSONL file: one document per non-blank line's field. */
    private static final class JsonlLines implements Consumer {
        private final Path file;
        private final String field;
        private final Sink sink;
        private final StringBuilder line = new StringBuilder();
        private int lineNo;
        private long documents;

        JsonlLines(Path file, String field, Sink sink) {
            this.file = file;
            this.field = field;
            this.sink = sink;
        }

        @Override public void accept(char[] chars, int from, int to) {
            int start = from;
            for (int i = from; i < to; i++) {
                if (chars[i] != '\n') continue;
                line.append(chars, start, i - start);
                endLine();
                start = i + 1;
            }
            line.append(chars, start, to - start);
        }

        private void endLine() {
            lineNo++;
            if (!line.isEmpty() && line.charAt(line.length() - 1) == '\r') line.setLength(line.length() - 1);
            String doc = TextSource.jsonlDocument(file, lineNo, line.toString(), field);
            line.setLength(0);
            if (doc == null) return;
            sink.begin();
            sink.text(doc);
            sink.end();
            documents++;
        }

        @Override public long finish() {
            endLine();
            return documents;
        }
    }

    /** Decodes {@code file} as strict UTF-8, dropping a leading BOM; invalid bytes are an error naming the file and the offset. */
    private static void decode(Path file, Consumer out, java.util.function.LongConsumer progress) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.allocate(READ_BYTES);
        CharBuffer chars = CharBuffer.allocate(READ_BYTES);
        long consumed = 0; // bytes before in's position 0
        boolean first = true, eof = false;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (!eof) {
                eof = ch.read(in) < 0;
                in.flip();
                CoderResult r = decoder.decode(in, chars, eof);
                if (!r.isError() && eof) r = decoder.flush(chars);
                if (r.isError()) {
                    throw new DataException("invalid UTF-8 in " + file + " at byte " + (consumed + in.position())
                            + String.format(" (0x%02X)", in.get(in.position()) & 0xFF));
                }
                chars.flip();
                int from = 0;
                if (first && chars.hasRemaining()) {
                    first = false;
                    if (chars.get(0) == '\uFEFF') from = 1;
                }
                out.accept(chars.array(), from, chars.limit());
                chars.clear();
                consumed += in.position();
                in.compact();
                progress.accept(consumed);
            }
        } catch (IOException e) {
            throw new DataException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
