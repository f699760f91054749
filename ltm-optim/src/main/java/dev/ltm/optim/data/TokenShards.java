package dev.ltm.optim.data;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ltm.model.tokenizer.Tokenizer;
import dev.ltm.model.tokenizer.Tokenizers;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * A corpus prepared on disk ({@code ltm prepare}): the framed documents ({@code BOS, tokens..., EOS},
 * as {@link Packing#frame} frames them) back to back in token shards, a document index and a manifest.
 *
 * <p>Layout of the folder: {@code shard-NNNNN.bin} hold the token stream, each token an unsigned
 * little-endian integer of {@code tokenBytes} bytes (2 when the vocabulary fits 65536 ids, else 4);
 * a document may continue from one shard into the next. {@code documents.bin} holds
 * {@code documents + 1} little-endian 64-bit offsets into that stream: document {@code d} is the
 * tokens {@code [offset[d], offset[d+1])}, the first offset is 0 and the last the token count.
 * {@code manifest.json} ({@link Manifest}) names the tokenizer, the counts and each file's size and
 * CRC-32C; it is written last, and the whole folder is swapped in at once, so a folder with a
 * manifest is complete. The shards are memory-mapped, never read into the heap.
 */
public final class TokenShards {
    /** The manifest's file name. */
    public static final String MANIFEST = "manifest.json";
    /** The document index's file name. */
    public static final String INDEX = "documents.bin";
    /** The version of the layout written by this code. */
    public static final int FORMAT = 1;

    /** Largest manifest read: a corpus needs a few hundred bytes per shard. */
    static final long MAX_MANIFEST_BYTES = 16L << 20;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    // Configured once here and never changed afterwards, so sharing it between threads is safe.
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    /** One file of the corpus: its name in the folder, its tokens (index: documents + 1 offsets), its size and CRC-32C (8 hex digits). */
    public record FileEntry(String file, long tokens, long bytes, String crc32c) {}

    /** {@code manifest.json}: what the shards hold and how to check them. */
    public record Manifest(int format, String tokenizer, int vocabSize, int tokenBytes, long documents, long tokens,
                           FileEntry index, List<FileEntry> shards) {}

    private final Path dir;
    private final Manifest manifest;
    private final Tokenizer tokenizer;
    private final MemorySegment index;
    private final MemorySegment[] shards;
    private final long[] shardStarts;

    private TokenShards(Path dir, Manifest manifest, Tokenizer tokenizer, MemorySegment index, MemorySegment[] shards, long[] shardStarts) {
        this.dir = dir;
        this.manifest = manifest;
        this.tokenizer = tokenizer;
        this.index = index;
        this.shards = shards;
        this.shardStarts = shardStarts;
    }

    /** Whether {@code path} is a folder of prepared shards (or what is left of one: shards or an index without a manifest). */
    public static boolean isPrepared(Path path) {
        if (!Files.isDirectory(path)) return false;
        if (Files.exists(path.resolve(MANIFEST)) || Files.exists(path.resolve(INDEX))) return true;
        try (var files = Files.list(path)) {
            return files.anyMatch(f -> f.getFileName().toString().matches("shard-\\d+\\.bin"));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Opens and validates the prepared corpus in {@code dir}: the manifest's fields and counts, every
     * file's size against the manifest (before anything sized by the file is allocated) and its
     * CRC-32C, and the index's offsets; then maps the shards. Any fault, whatever the bytes on disk,
     * is a {@link DataException} with a one-line message naming the file.
     */
    public static TokenShards open(Path dir) {
        if (!Files.isDirectory(dir)) throw new DataException("prepared corpus not found: " + dir + " is not a folder");
        Path manifestFile = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(manifestFile)) {
            throw new DataException(dir + " has no " + MANIFEST + ": not a complete prepared corpus (run ltm prepare again)");
        }
        Manifest m = readManifest(manifestFile);
        Tokenizer tokenizer = check(m, manifestFile);
        long[] starts = new long[m.shards().size() + 1];
        for (int s = 0; s < m.shards().size(); s++) {
            FileEntry e = m.shards().get(s);
            verify(dir, e, m.tokenBytes(), null);
            starts[s + 1] = starts[s] + e.tokens();
        }
        verify(dir, m.index(), Long.BYTES, new IndexCheck(m.tokens()));
        MemorySegment index = map(dir.resolve(m.index().file()));
        MemorySegment[] shards = new MemorySegment[m.shards().size()];
        for (int s = 0; s < shards.length; s++) shards[s] = map(dir.resolve(m.shards().get(s).file()));
        return new TokenShards(dir, m, tokenizer, index, shards, starts);
    }

    private static Manifest readManifest(Path file) {
        try {
            long size = Files.size(file);
            if (size > MAX_MANIFEST_BYTES) throw new DataException(file + ": " + size + " bytes, a manifest has at most "
                    + MAX_MANIFEST_BYTES);
            Manifest m = JSON.readValue(Files.readAllBytes(file), Manifest.class);
            if (m == null) throw new DataException(file + ": empty manifest");
            return m;
        } catch (IOException | RuntimeException e) {
            if (e instanceof DataException d) throw d;
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new DataException(file + ": not a valid manifest: " + firstLine(msg), e);
        }
    }

    /** Checks the manifest's own fields and returns its tokenizer. */
    private static Tokenizer check(Manifest m, Path file) {
        if (m.format() != FORMAT) throw new DataException(file + ": format " + m.format() + ", this code reads format " + FORMAT);
        if (m.tokenizer() == null || !Tokenizers.names().contains(m.tokenizer())) {
            throw new DataException(file + ": unknown tokenizer '" + m.tokenizer() + "', expected one of " + Tokenizers.names());
        }
        Tokenizer tokenizer = Tokenizers.byName(m.tokenizer());
        if (m.vocabSize() != tokenizer.vocabSize()) {
            throw new DataException(file + ": vocabulary " + m.vocabSize() + " does not match tokenizer " + m.tokenizer() + "'s "
                    + tokenizer.vocabSize());
        }
        if (m.tokenBytes() != tokenBytes(m.vocabSize())) {
            throw new DataException(file + ": " + m.tokenBytes() + " bytes per token, a vocabulary of " + m.vocabSize() + " needs "
                    + tokenBytes(m.vocabSize()));
        }
        if (m.documents() < 1 || m.documents() > Integer.MAX_VALUE - 8) {
            throw new DataException(file + ": document count " + m.documents() + " outside [1, " + (Integer.MAX_VALUE - 8) + "]");
        }
        if (m.tokens() < m.documents()) throw new DataException(file + ": " + m.tokens() + " tokens cannot hold " + m.documents()
                + " documents");
        if (m.index() == null || m.index().tokens() != m.documents() + 1) {
            throw new DataException(file + ": the index must hold documents + 1 = " + (m.documents() + 1) + " offsets");
        }
        if (m.shards() == null || m.shards().isEmpty()) throw new DataException(file + ": no shards listed");
        long sum = 0;
        for (FileEntry e : m.shards()) {
            if (e == null || e.tokens() < 1) throw new DataException(file + ": a shard entry is missing or holds no tokens");
            sum += e.tokens();
            if (sum < 0 || sum > m.tokens()) break;
        }
        if (sum != m.tokens()) throw new DataException(file + ": the shards' token counts do not add up to " + m.tokens());
        return tokenizer;
    }

    /** Bytes per token for a vocabulary of {@code vocabSize} ids. */
    static int tokenBytes(int vocabSize) { return vocabSize <= 65536 ? 2 : 4; }

    /** What the index's offsets must satisfy: start at 0, strictly increase, end at the token count. */
    private static final class IndexCheck {
        private final long tokens;
        private long previous = -1, count;

        IndexCheck(long tokens) { this.tokens = tokens; }

        void accept(long offset, Path file) {
            boolean ok = count == 0 ? offset == 0 : offset > previous && offset <= tokens;
            if (!ok) throw new DataException(file + ": offset " + count + " is " + offset + ", expected " + (count == 0 ? "0"
                    : "in (" + previous + ", " + tokens + "]"));
            previous = offset;
            count++;
        }

        void finish(Path file) {
            if (previous != tokens) throw new DataException(file + ": the last offset is " + previous
                    + ", expected the token count " + tokens);
        }
    }

    /** Checks one file's name, size and CRC-32C against its entry, reading it in bounded chunks (the index's offsets too). */
    private static void verify(Path dir, FileEntry e, int unitBytes, IndexCheck offsets) {
        if (e.file() == null || !e.file().matches("[A-Za-z0-9][A-Za-z0-9._-]{0,99}") || e.file().equals(MANIFEST)) {
            throw new DataException(dir.resolve(MANIFEST) + ": bad file name '" + e.file() + "'");
        }
        Path f = dir.resolve(e.file());
        long expected;
        try {
            expected = Math.multiplyExact(e.tokens(), unitBytes);
        } catch (ArithmeticException overflow) {
            throw new DataException(f + ": " + e.tokens() + " entries of " + unitBytes + " bytes overflow a file size");
        }
        if (e.bytes() != expected) throw new DataException(f + ": the manifest says " + e.bytes() + " bytes, " + e.tokens()
                + " entries need " + expected);
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) throw new DataException(f + ": missing (listed in the manifest)");
        CRC32C crc = new CRC32C();
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size != expected) {
                throw new DataException(f + ": " + size + " bytes on disk, the manifest says " + expected + (size < expected
                        ? " (truncated)" : ""));
            }
            ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            long read = 0;
            while (read < size) {
                // Fill the whole buffer (or up to the end): every chunk but the last is 1 MiB, so offsets never straddle two.
                buf.clear();
                while (buf.hasRemaining() && read + buf.position() < size) {
                    if (ch.read(buf) < 0) throw new DataException(f + ": ends after " + (read + buf.position())
                            + " bytes, expected " + size + " (truncated)");
                }
                buf.flip();
                read += buf.remaining();
                crc.update(buf.duplicate());
                if (offsets != null) while (buf.remaining() >= Long.BYTES) offsets.accept(buf.getLong(), f);
            }
            if (offsets != null) offsets.finish(f);
        } catch (IOException ex) {
            throw new DataException(f + ": cannot read: " + firstLine(String.valueOf(ex.getMessage())), ex);
        }
        String actual = String.format("%08x", crc.getValue());
        if (!actual.equalsIgnoreCase(String.valueOf(e.crc32c()))) {
            throw new DataException(f + ": CRC-32C " + actual + ", the manifest says " + e.crc32c() + " (the file is corrupt)");
        }
    }

    private static MemorySegment map(Path f) {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), Arena.ofAuto());
        } catch (IOException e) {
            throw new DataException(f + ": cannot map: " + firstLine(String.valueOf(e.getMessage())), e);
        }
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).replace('\r', ' ');
    }

    /** The folder. */
    public Path dir() { return dir; }

    /** The manifest. */
    public Manifest manifest() { return manifest; }

    /** The tokenizer's name. */
    public String tokenizer() { return manifest.tokenizer(); }

    /** Number of documents. */
    public int documentCount() { return (int) manifest.documents(); }

    /** This corpus, after checking that it was tokenized by {@code expected}: a different name or vocabulary is a {@link DataException}. */
    public TokenShards requireTokenizer(Tokenizer expected) {
        if (!expected.name().equals(manifest.tokenizer()) || expected.vocabSize() != manifest.vocabSize()) {
            throw new DataException(dir + " was prepared with tokenizer " + manifest.tokenizer() + " (vocabulary " + manifest.vocabSize()
                    + "), the model uses " + expected.name() + " (vocabulary " + expected.vocabSize() + ")");
        }
        return this;
    }

    /** End-of-text id, the padding of per-document windows. */
    int eos() { return tokenizer.eos(); }

    /** Offset of document {@code d}'s first token in the stream ({@code d = documents} gives the token count). */
    long documentStart(int d) { return index.get(U64, (long) d * Long.BYTES); }

    /**
     * Copies {@code n} tokens from stream offset {@code from} into {@code dst[off..off+n)}, across
     * shards as needed; an id outside the vocabulary is a {@link DataException}.
     */
    void read(long from, int n, int[] dst, int off) {
        long pos = from;
        int done = 0;
        while (done < n) {
            int s = Arrays.binarySearch(shardStarts, pos);
            if (s < 0) s = -s - 2;
            MemorySegment seg = shards[s];
            long local = pos - shardStarts[s];
            int take = (int) Math.min(n - done, shardStarts[s + 1] - pos);
            int vocab = manifest.vocabSize();
            for (int i = 0; i < take; i++) {
                int id = manifest.tokenBytes() == 2 ? Short.toUnsignedInt(seg.get(U16, (local + i) * 2)) : seg.get(U32, (local + i) * 4);
                if (id < 0 || id >= vocab) {
                    throw new DataException(dir.resolve(manifest.shards().get(s).file()) + ": token " + (local + i) + " is id "
                            + Integer.toUnsignedString(id) + ", outside the vocabulary [0, " + vocab + ")");
                }
                dst[off + done + i] = id;
            }
            done += take;
            pos += take;
        }
    }

    /** The framed tokens of document {@code d}. */
    int[] documentTokens(int d) {
        long start = documentStart(d), end = documentStart(d + 1);
        if (end - start > Integer.MAX_VALUE - 8) throw new DataException(dir + ": document " + d + " has " + (end - start)
                + " tokens, too many to decode");
        int[] out = new int[(int) (end - start)];
        read(start, out.length, out, 0);
        return out;
    }

    /** Every document as text, decoded when asked for (the framing's BOS and EOS dropped): nothing is read ahead. */
    public List<String> texts() {
        return new AbstractList<>() {
            @Override public String get(int d) {
                java.util.Objects.checkIndex(d, size());
                return tokenizer.decode(documentTokens(d));
            }

            @Override public int size() { return documentCount(); }
        };
    }

    /** All documents, in stored order, as a selection for {@link Dataset#fromShards}. */
    Selection documents() {
        int[] ids = new int[documentCount()];
        for (int i = 0; i < ids.length; i++) ids[i] = i;
        return new Selection(this, ids, null);
    }

    /**
     * Some documents of the corpus: entry {@code j} is document {@code ids[j]}, whose token range is
     * given by the index, or by {@code bounds[ids[j]]..bounds[ids[j]+1]} when the corpus's single
     * document was cut in two ({@code bounds} non-null).
     */
    record Selection(TokenShards corpus, int[] ids, long[] bounds) {
        int count() { return ids.length; }

        long start(int j) { return bounds == null ? corpus.documentStart(ids[j]) : bounds[ids[j]]; }

        long end(int j) { return bounds == null ? corpus.documentStart(ids[j] + 1) : bounds[ids[j] + 1]; }

        /** The entries {@code picks} (positions in this selection), in that order. */
        Selection select(int[] picks) {
            int[] chosen = new int[picks.length];
            for (int i = 0; i < picks.length; i++) chosen[i] = ids[picks[i]];
            return new Selection(corpus, chosen, bounds);
        }

        /** A one-document selection cut at token {@code round((1 - valFraction) * length)} into documents 0 and 1. */
        Selection cutInTwo(double valFraction) {
            long start = start(0), end = end(0);
            long cut = start + Math.round((end - start) * (1 - valFraction));
            if (cut <= start || cut >= end) {
                throw new DataException("split: a single document of " + (end - start) + " tokens is too short to split");
            }
            return new Selection(corpus, new int[] {0, 1}, new long[] {start, cut, end});
        }
    }
}
