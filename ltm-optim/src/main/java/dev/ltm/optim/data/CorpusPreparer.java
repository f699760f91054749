package dev.ltm.optim.data;

import dev.ltm.model.io.AtomicFiles;
import dev.ltm.model.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Tokenizes a text source once into a prepared corpus ({@link TokenShards}): streaming, so that a
 * corpus of any size passes through a bounded buffer, with every document framed as
 * {@link Packing#frame} frames it. The folder is built beside {@code out} and swapped in whole
 * (the manifest written last), so a failed run leaves {@code out} as it was.
 */
public final class CorpusPreparer {
    private CorpusPreparer() {}

    /** The JSONL field to read and the most tokens per shard. */
    public record Options(String field, long shardTokens) {
        /** Checks the ranges. */
        public Options {
            if (field == null || field.isEmpty()) throw new IllegalArgumentException("prepare: the JSONL field name is empty");
            if (shardTokens < 1) throw new IllegalArgumentException("prepare: --shard-tokens " + shardTokens + " must be >= 1");
        }

        /** JSONL's "text" field, shards of 2^30 tokens (2 GiB of 2-byte ids). */
        public static Options defaults() { return new Options(TextSource.DEFAULT_FIELD, 1L << 30); }
    }

    /** Progress, reported after each 256 KiB read. */
    @FunctionalInterface
    public interface Listener {
        /** {@code bytesRead} of {@code totalBytes} of source read, giving {@code documents} documents and {@code tokens} tokens so far. */
        void onProgress(long bytesRead, long totalBytes, long documents, long tokens);
    }

    /** What was written: counts, shards, source bytes read and the seconds it took. */
    public record Summary(Path dir, long documents, long tokens, int shards, int tokenBytes, long bytesRead, double seconds) {
        /** Source megabytes (10^6 bytes) per second. */
        public double megabytesPerSecond() { return seconds > 0 ? bytesRead / 1e6 / seconds : 0; }
    }

    /** Prepares {@code source} (a .txt/.md/.jsonl file or folder, as {@link TextSource#load} reads it) into the folder {@code out}. */
    public static Summary prepare(Path source, Tokenizer tokenizer, Path out, Options options, Listener listener) {
        return prepare(source, tokenizer, out, options, listener, new TextStream(TextStream.CHUNK_CHARS));
    }

    static Summary prepare(Path source, Tokenizer tokenizer, Path out, Options options, Listener listener, TextStream stream) {
        long t0 = System.nanoTime();
        List<Path> files = TextStream.files(source);
        long totalBytes = 0;
        for (Path f : files) {
            try {
                totalBytes += Files.size(f);
            } catch (IOException e) {
                throw new DataException("cannot read " + f + ": " + e.getMessage(), e);
            }
        }
        long total = totalBytes;
        long[] read = {0};
        TokenShards.Manifest[] written = {null};
        AtomicFiles.writeDirectory(out, tmp -> {
            try (ShardWriter writer = new ShardWriter(tmp, tokenizer, options.shardTokens())) {
                long documents = stream.stream(files, options.field(), new TextStream.Sink() {
                    @Override public void begin() { io(writer::begin); }

                    @Override public void text(String chunk) { io(() -> writer.add(tokenizer.encode(chunk))); }

                    @Override public void end() { io(writer::end); }

                    @Override public void read(long bytes) {
                        read[0] = bytes;
                        listener.onProgress(bytes, total, writer.documents(), writer.tokens());
                    }
                });
                if (documents == 0) {
                    throw new DataException("corpus is empty: " + source + (Files.isDirectory(source)
                            ? " (no non-empty .txt, .md or .jsonl documents in it)" : " (no non-empty documents)"));
                }
                written[0] = writer.finish();
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        });
        TokenShards.Manifest m = written[0];
        return new Summary(out, m.documents(), m.tokens(), m.shards().size(), m.tokenBytes(), read[0], (System.nanoTime() - t0) / 1e9);
    }

    private interface IoAction { void run() throws IOException; }

    private static void io(IoAction action) {
        try {
            action.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
