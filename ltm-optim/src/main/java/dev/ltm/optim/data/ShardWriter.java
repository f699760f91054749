package dev.ltm.optim.data;

import dev.ltm.model.tokenizer.Tokenizer;
import it.unimi.dsi.fastutil.ints.IntArrayList;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Writes the files of a prepared corpus ({@link TokenShards} describes the layout) into an empty
 * folder: framed documents go through a token buffer of at most {@link #BUFFER_TOKENS} ids to the
 * current shard, a new shard starting every {@code shardTokens} tokens; document offsets go to the
 * index; {@link #finish} writes the manifest last.
 */
final class ShardWriter implements AutoCloseable {
    /** Ids held before they are written out. */
    static final int BUFFER_TOKENS = 1 << 16;

    private final Path dir;
    private final Tokenizer tokenizer;
    private final int tokenBytes;
    private final long shardTokens;
    private final IntArrayList pending = new IntArrayList(BUFFER_TOKENS);
    private final ByteBuffer bytes;
    private final List<TokenShards.FileEntry> shards = new ArrayList<>();
    private final FileChannel index;
    private final CRC32C indexCrc = new CRC32C();
    private final ByteBuffer indexBytes = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    private FileChannel shard;
    private CRC32C shardCrc;
    private long inShard, tokens, documents;
    private int largestPending;

    ShardWriter(Path dir, Tokenizer tokenizer, long shardTokens) throws IOException {
        if (shardTokens < 1) throw new IllegalArgumentException("prepare: shardTokens " + shardTokens + " must be >= 1");
        this.dir = dir;
        this.tokenizer = tokenizer;
        this.tokenBytes = TokenShards.tokenBytes(tokenizer.vocabSize());
        this.shardTokens = shardTokens;
        this.bytes = ByteBuffer.allocate(BUFFER_TOKENS * tokenBytes).order(ByteOrder.LITTLE_ENDIAN);
        this.index = FileChannel.open(dir.resolve(TokenShards.INDEX), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    /** Starts a document: records its offset and writes BOS. */
    void begin() throws IOException {
        offset(tokens);
        add(tokenizer.bos());
    }

    /** Appends ids of the current document. */
    void add(int[] ids) throws IOException {
        for (int id : ids) add(id);
    }

    /** Ends the current document with EOS. */
    void end() throws IOException {
        add(tokenizer.eos());
        documents++;
    }

    private void add(int id) throws IOException {
        if (id < 0 || id >= tokenizer.vocabSize()) {
            throw new IllegalArgumentException("prepare: tokenizer " + tokenizer.name() + " gave id " + id + " outside [0, "
                    + tokenizer.vocabSize() + ")");
        }
        pending.add(id);
        tokens++;
        largestPending = Math.max(largestPending, pending.size());
        if (pending.size() == BUFFER_TOKENS) flush();
    }

    private void flush() throws IOException {
        int i = 0;
        while (i < pending.size()) {
            if (shard == null || inShard == shardTokens) nextShard();
            int n = (int) Math.min(pending.size() - i, shardTokens - inShard);
            bytes.clear();
            for (int k = i; k < i + n; k++) {
                if (tokenBytes == 2) bytes.putShort((short) pending.getInt(k));
                else bytes.putInt(pending.getInt(k));
            }
            bytes.flip();
            shardCrc.update(bytes.duplicate());
            while (bytes.hasRemaining()) shard.write(bytes);
            inShard += n;
            i += n;
        }
        pending.clear();
    }

    private void nextShard() throws IOException {
        closeShard();
        String name = String.format("shard-%05d.bin", shards.size());
        shard = FileChannel.open(dir.resolve(name), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        shardCrc = new CRC32C();
        inShard = 0;
        shards.add(new TokenShards.FileEntry(name, 0, 0, null));
    }

    private void closeShard() throws IOException {
        if (shard == null) return;
        shard.close();
        shard = null;
        String name = shards.getLast().file();
        shards.set(shards.size() - 1, new TokenShards.FileEntry(name, inShard, inShard * tokenBytes, hex(shardCrc)));
    }

    private void offset(long value) throws IOException {
        if (indexBytes.remaining() < Long.BYTES) writeIndex();
        indexBytes.putLong(value);
    }

    private void writeIndex() throws IOException {
        indexBytes.flip();
        indexCrc.update(indexBytes.duplicate());
        while (indexBytes.hasRemaining()) index.write(indexBytes);
        indexBytes.clear();
    }

    private static String hex(CRC32C crc) { return String.format("%08x", crc.getValue()); }

    /** Documents finished so far. */
    long documents() { return documents; }

    /** Tokens written so far, BOS and EOS included. */
    long tokens() { return tokens; }

    /** The most ids the buffer ever held (at most {@link #BUFFER_TOKENS}). */
    int largestPending() { return largestPending; }

    /** Writes what is buffered, the index's last offset and then the manifest; returns the manifest. */
    TokenShards.Manifest finish() throws IOException {
        flush();
        closeShard();
        offset(tokens);
        writeIndex();
        index.close();
        TokenShards.FileEntry indexEntry = new TokenShards.FileEntry(TokenShards.INDEX, documents + 1, (documents + 1) * Long.BYTES,
                hex(indexCrc));
        TokenShards.Manifest m = new TokenShards.Manifest(TokenShards.FORMAT, tokenizer.name(), tokenizer.vocabSize(), tokenBytes,
                documents, tokens, indexEntry, List.copyOf(shards));
        Files.write(dir.resolve(TokenShards.MANIFEST), TokenShards.JSON.writeValueAsBytes(m));
        return m;
    }

    @Override public void close() throws IOException {
        index.close();
        if (shard != null) shard.close();
    }
}
