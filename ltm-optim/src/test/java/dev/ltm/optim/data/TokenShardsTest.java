package dev.ltm.optim.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ltm.model.tokenizer.ByteTokenizer;
import dev.ltm.model.tokenizer.Gpt2Tokenizer;
import dev.ltm.model.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenShardsTest {
    @TempDir static Path tmp;
    static Path corpus;
    static final Tokenizer BYTES = new ByteTokenizer();
    static Tokenizer gpt2;

    /** A folder of .txt, .md and .jsonl files with what trips tokenizers: Unicode, runs of spaces and blank lines, CRLF, a BOM, tabs. */
    @BeforeAll
    static void writeCorpus() throws IOException {
        gpt2 = new Gpt2Tokenizer();
        corpus = Files.createDirectories(tmp.resolve("corpus"));
        List<String> stories = StoryCorpus.texts(StoryCorpus.generate(11, 60));
        StringBuilder longDoc = new StringBuilder("\uFEFF");
        for (int i = 0; i < 20; i++) {
            longDoc.append(stories.get(i)).append(i % 3 == 0 ? "\n\n"
                    : "\n").append("  ünïcödé — 😀 ça  va?\t").append(i).append(i % 4 == 0 ? "\r\n" : " \n");
        }
        Files.writeString(corpus.resolve("a-long.txt"), longDoc);
        Files.createDirectories(corpus.resolve("sub"));
        Files.writeString(corpus.resolve("sub/b.md"), "# Title\n\nSome   markdown,   with  spaces.\n" + stories.get(20));
        Files.writeString(corpus.resolve("sub/blank.txt"), " \n\t\n");
        ObjectMapper json = new ObjectMapper();
        StringBuilder lines = new StringBuilder();
        for (int i = 21; i < 60; i++) {
            lines.append(json.writeValueAsString(java.util.Map.of("text", stories.get(i)))).append(i % 5 == 0 ? "\r\n" : "\n");
            if (i == 30) lines.append("\n");
        }
        Files.writeString(corpus.resolve("c.jsonl"), lines);
    }

    /** The corpus prepared with {@code tokenizer}, in shards of 997 tokens and text chunks of 40 characters,
            so that both cuts happen often. */
    static Path prepare(Tokenizer tokenizer, String name) {
        Path out = tmp.resolve(name);
        if (!Files.exists(out)) {
            CorpusPreparer.prepare(corpus, tokenizer, out, new CorpusPreparer.Options("text", 997), (a, b, c, d) -> {}, new TextStream(40));
        }
        return out;
    }

    static void assertSameWindows(Windows shards, Windows memory) {
        assertThat(shards.size()).isEqualTo(memory.size());
        assertThat(shards.windowLength()).isEqualTo(memory.windowLength());
        for (int i = 0; i < memory.size(); i++) {
            assertThat(shards.tokens(i)).as("window %d", i).containsExactly(memory.tokens(i));
            assertThat(shards.length(i)).as("length %d", i).isEqualTo(memory.length(i));
            assertThat(shards.document(i)).as("document %d", i).isEqualTo(memory.document(i));
        }
        assertThat(shards.targetTokens()).isEqualTo(memory.targetTokens());
    }

    @Test
    void shardWindowsEqualTheInMemoryWindowsForBothTokenizersAndLayouts() {
        List<String> docs = TextSource.load(corpus);
        for (Tokenizer tok : List.of(BYTES, gpt2)) {
            TokenShards shards = TokenShards.open(prepare(tok, "eq-" + tok.name()));
            assertThat(shards.documentCount()).isEqualTo(docs.size());
            assertThat(shards.manifest().shards()).hasSizeGreaterThan(2);
            for (Dataset.Layout layout : Dataset.Layout.values()) {
                for (int seqLen : new int[] {7, 64}) {
                    Dataset memory = Dataset.build(docs, tok, seqLen, 0.2, 5, layout);
                    Dataset disk = Dataset.fromShards(shards, seqLen, 0.2, 5, layout);
                    assertThat(disk.tokenizer()).isEqualTo(memory.tokenizer());
                    assertSameWindows(disk.train(), memory.train());
                    assertSameWindows(disk.validation(), memory.validation());
                    Batches a = new Batches(disk.train(), 3, 9), b = new Batches(memory.train(), 3, 9);
                    for (int k = 0; k < 5; k++) assertThat(a.next().tokens()).isDeepEqualTo(b.next().tokens());
                }
            }
        }
    }

    @Test
    void chunkedEncodingEqualsWholeEncodingAndTextsRoundTrip() {
        List<String> docs = TextSource.load(corpus);
        for (Tokenizer tok : List.of(BYTES, gpt2)) {
            TokenShards shards = TokenShards.open(prepare(tok, "eq-" + tok.name()));
            for (int d = 0; d < docs.size(); d++) assertThat(shards.documentTokens(d)).containsExactly(Packing.frame(docs.get(d), tok));
            assertThat(shards.texts()).containsExactlyElementsOf(docs);
        }
    }

    @Test
    void aSingleDocumentIsCutInTwoAtTheTokenAfterTheTrainingShare() throws IOException {
        Path file = Files.writeString(tmp.resolve("one.txt"), "abcdefghij".repeat(10));
        Path dir = tmp.resolve("one");
        CorpusPreparer.prepare(file, BYTES, dir, CorpusPreparer.Options.defaults(), (a, b, c, d) -> {});
        Dataset ds = Dataset.fromShards(TokenShards.open(dir), 4, 0.25, 1, Dataset.Layout.CONCATENATED);
        // 102 framed tokens, cut at 77: 15 training windows of 5 (BOS + 74 letters), 5 validation windows of the rest.
        assertThat(ds.train().size()).isEqualTo(15);
        assertThat(ds.train().tokens(0)).containsExactly(ByteTokenizer.BOS, 'a', 'b', 'c', 'd');
        assertThat(ds.validation().size()).isEqualTo(5);
        assertThat(ds.validation().tokens(0)).containsExactly('g', 'h', 'i', 'j', 'a');
        assertThat(ds.validation().document(0)).isEqualTo(1);
    }

    @Test
    void preparingStreamsThroughBoundedBuffers() throws IOException {
        String line = "a line of text that repeats, ünïcödé included\n";
        Path big = Files.writeString(tmp.resolve("big.txt"), line.repeat(60_000)); // about 2.8 MB, one document
        int[] longest = {0};
        long docs = new TextStream(TextStream.CHUNK_CHARS).stream(List.of(big), "text", new TextStream.Sink() {
            @Override public void begin() {}
            @Override public void text(String chunk) { longest[0] = Math.max(longest[0], chunk.length()); }
            @Override public void end() {}
        });
        assertThat(docs).isEqualTo(1);
        assertThat(longest[0]).isPositive().isLessThanOrEqualTo(2 * TextStream.CHUNK_CHARS);
        Path dir = Files.createDirectories(tmp.resolve("bounded"));
        try (ShardWriter w = new ShardWriter(dir, BYTES, 1 << 20)) {
            w.begin();
            for (int i = 0; i < 50; i++) w.add(BYTES.encode(line.repeat(200)));
            w.end();
            assertThat(w.tokens()).isGreaterThan(5L * ShardWriter.BUFFER_TOKENS);
            assertThat(w.largestPending()).isEqualTo(ShardWriter.BUFFER_TOKENS);
            w.finish();
        }
        assertThat(TokenShards.open(dir).manifest().shards()).hasSize(1);
    }

    /** A fresh copy of a prepared corpus to break. */
    static Path copy(Path from, String name) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        return dir;
    }

    static void editManifest(Path dir, java.util.function.Consumer<ObjectNode> edit) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode m = (ObjectNode) json.readTree(dir.resolve(TokenShards.MANIFEST).toFile());
        edit.accept(m);
        Files.write(dir.resolve(TokenShards.MANIFEST), json.writeValueAsBytes(m));
    }

    static String crc(Path f) throws IOException {
        CRC32C c = new CRC32C();
        c.update(Files.readAllBytes(f));
        return String.format("%08x", c.getValue());
    }

    @Test
    void damagedOrMismatchedCorporaAreOneLineDataErrors() throws IOException {
        Path good = prepare(BYTES, "eq-byte");
        Path corrupt = copy(good, "corrupt");
        byte[] shard = Files.readAllBytes(corrupt.resolve("shard-00001.bin"));
        shard[10] ^= 1;
        Files.write(corrupt.resolve("shard-00001.bin"), shard);
        assertOneLine(corrupt, "shard-00001.bin: CRC-32C");

        Path truncated = copy(good, "truncated");
        try (FileChannel ch = FileChannel.open(truncated.resolve("shard-00000.bin"), StandardOpenOption.WRITE)) { ch.truncate(100); }
        assertOneLine(truncated, "100 bytes on disk, the manifest says 1994 (truncated)");

        Path vocab = copy(good, "vocab");
        editManifest(vocab, m -> m.put("vocabSize", 300));
        assertOneLine(vocab, "vocabulary 300 does not match tokenizer byte's 258");

        Path missing = copy(good, "missing");
        Files.delete(missing.resolve(TokenShards.MANIFEST));
        assertOneLine(missing, "has no manifest.json");
        assertThat(TokenShards.isPrepared(missing)).isTrue();

        Path absurd = copy(good, "absurd");
        editManifest(absurd, m -> m.put("documents", Long.MAX_VALUE / 4));
        assertOneLine(absurd, "document count");
        editManifest(absurd, m -> {
            m.put("documents", 1_000_000_000L);
            m.put("tokens", 4_000_000_000L);
            ((ObjectNode) m.get("index")).put("tokens", 1_000_000_001L).put("bytes", 8_000_000_008L);
        });
        assertOneLine(absurd, "token counts do not add up");

        Path offsets = copy(good, "offsets");
        Path index = offsets.resolve(TokenShards.INDEX);
        byte[] idx = Files.readAllBytes(index);
        ByteBuffer.wrap(idx).order(ByteOrder.LITTLE_ENDIAN).putLong(16, 1L); // offset 2 below offset 1
        Files.write(index, idx);
        String fixedCrc = crc(index);
        editManifest(offsets, m -> ((ObjectNode) m.get("index")).put("crc32c", fixedCrc));
        assertOneLine(offsets, "documents.bin: offset 2 is 1");

        Path ids = copy(good, "ids");
        Path s0 = ids.resolve("shard-00000.bin");
        byte[] tokens = Files.readAllBytes(s0);
        ByteBuffer.wrap(tokens).order(ByteOrder.LITTLE_ENDIAN).putShort(2, (short) 4000);
        Files.write(s0, tokens);
        String idsCrc = crc(s0);
        editManifest(ids, m -> ((ObjectNode) m.get("shards").get(0)).put("crc32c", idsCrc));
        TokenShards opened = TokenShards.open(ids);
        assertThatThrownBy(() -> opened.texts().getFirst()).isInstanceOf(DataException.class)
                .hasMessageContaining("is id 4000, outside the vocabulary [0, 258)");

        assertThatThrownBy(() -> TokenShards.open(good).requireTokenizer(gpt2)).isInstanceOf(DataException.class)
                .hasMessageContaining("was prepared with tokenizer byte (vocabulary 258), the model uses gpt2 (vocabulary 50258)");
    }

    static void assertOneLine(Path dir, String fragment) {
        assertThatThrownBy(() -> TokenShards.open(dir)).isInstanceOf(DataException.class).hasMessageContaining(fragment)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void arbitraryBytesInAnyFileGiveADataExceptionOrAValidCorpus() throws IOException {
        Path good = prepare(BYTES, "eq-byte");
        Random rng = new Random(20261202);
        List<String> names = new ArrayList<>(List.of(TokenShards.MANIFEST, TokenShards.INDEX, "shard-00000.bin"));
        for (int trial = 0; trial < 90; trial++) {
            Path dir = copy(good, "fuzz" + trial);
            Path f = dir.resolve(names.get(trial % names.size()));
            byte[] bytes = Files.readAllBytes(f);
            switch (rng.nextInt(3)) {
                case 0 -> { for (int k = 0; k < 1 + rng.nextInt(4); k++) bytes[rng.nextInt(bytes.length)] = (byte) rng.nextInt(256); }
                case 1 -> bytes = Arrays.copyOf(bytes, rng.nextInt(bytes.length));
                default -> {
                    bytes = new byte[rng.nextInt(64)];
                    rng.nextBytes(bytes);
                }
            }
            Files.write(f, bytes);
            try {
                TokenShards t = TokenShards.open(dir);
                Windows w = Dataset.pack(t, 16, Dataset.Layout.CONCATENATED);
                for (int i = 0; i < w.size(); i++) w.tokens(i);
            } catch (DataException expected) {
                assertThat(expected.getMessage()).isNotBlank().doesNotContain("\n");
            }
        }
        assertThat(new String(Files.readAllBytes(good.resolve(TokenShards.MANIFEST)),
                StandardCharsets.UTF_8)).contains("\"tokenizer\" : \"byte\"");
    }
}
