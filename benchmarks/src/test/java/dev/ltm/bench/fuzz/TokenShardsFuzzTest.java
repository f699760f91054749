package dev.ltm.bench.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ltm.optim.data.DataException;
import dev.ltm.optim.data.TokenShards;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The prepared-shard reader on a folder of arbitrary files: {@link TokenShards#open} gives shards
 * whose documents all decode, or one {@link DataException} line; never another error, and no
 * allocation sized by a field before the files' sizes confirm it (the heap is far smaller than
 * the sizes a manifest can claim). The input is {@code [u16 manifest length][u16 index length]}
 * (big-endian), then {@code manifest.json}, {@code documents.bin} and the rest as {@code shard-00000.bin};
 * the seed is a folder {@code ltm prepare} wrote, so mutations start from a valid corpus.
 */
class TokenShardsFuzzTest {
    private static Path root;

    @BeforeAll
    static void folder() throws IOException { root = Files.createTempDirectory("ltm-fuzz-shards"); }

    @AfterAll
    static void clean() { Fuzzing.deleteTree(root); }

    @FuzzTest
    void anyFolderOpensToDecodableDocumentsOrFailsWithOneLine(byte[] input) throws IOException {
        if (input.length < 4) return;
        int manifestLength = Math.min(((input[0] & 0xFF) << 8) | (input[1] & 0xFF), input.length - 4);
        int indexLength = Math.min(((input[2] & 0xFF) << 8) | (input[3] & 0xFF), input.length - 4 - manifestLength);
        int at = 4;
        Path dir = root.resolve("corpus");
        Fuzzing.deleteTree(dir);
        Files.createDirectories(dir);
        Files.write(dir.resolve(TokenShards.MANIFEST), Arrays.copyOfRange(input, at, at += manifestLength));
        Files.write(dir.resolve(TokenShards.INDEX), Arrays.copyOfRange(input, at, at += indexLength));
        Files.write(dir.resolve("shard-00000.bin"), Arrays.copyOfRange(input, at, input.length));
        try {
            TokenShards shards = TokenShards.open(dir);
            List<String> texts = shards.texts();
            assertThat(texts).hasSize(shards.documentCount());
            // Every document's tokens are checked against the vocabulary as they are read.
            for (int d = 0; d < Math.min(texts.size(), 64); d++) assertThat(texts.get(d)).isNotNull();
        } catch (DataException e) {
            Fuzzing.assertOneLine(e);
        }
    }
}
