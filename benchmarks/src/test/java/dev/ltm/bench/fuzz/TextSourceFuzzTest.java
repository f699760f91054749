package dev.ltm.bench.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ltm.optim.data.DataException;
import dev.ltm.optim.data.TextSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The corpus reader on arbitrary files: non-blank documents or one {@link DataException} line.
 * Byte 0 of the input says what to build: bit 0 a folder (else one file), bits 1-2 the first file's
 * kind and bits 3-4 the second's (.txt, .md, .jsonl), bit 5 the JSONL field "body" instead of "text";
 * the rest is the content, split at the first 0 byte between the two files of a folder.
 */
class TextSourceFuzzTest {
    private static final String[] KINDS = {".txt", ".md", ".jsonl", ".jsonl"};
    private static Path root;

    @BeforeAll
    static void folder() throws IOException { root = Files.createTempDirectory("ltm-fuzz-text"); }

    @AfterAll
    static void clean() throws IOException { Fuzzing.deleteTree(root); }

    @FuzzTest
    void anyFileOrFolderGivesDocumentsOrOneLine(byte[] input) throws IOException {
        if (input.length == 0) return;
        int how = input[0] & 0xFF;
        boolean folder = (how & 1) != 0;
        String field = (how & 32) != 0 ? "body" : TextSource.DEFAULT_FIELD;
        byte[] content = Arrays.copyOfRange(input, 1, input.length);
        Path dir = root.resolve("corpus");
        Fuzzing.deleteTree(dir);
        Files.createDirectories(dir.resolve("sub"));
        Path first = dir.resolve("a" + KINDS[(how >> 1) & 3]);
        if (folder) {
            int cut = 0;
            while (cut < content.length && content[cut] != 0) cut++;
            Files.write(first, Arrays.copyOfRange(content, 0, cut));
            Files.write(dir.resolve("sub").resolve("b" + KINDS[(how >> 3) & 3]),
                    Arrays.copyOfRange(content, Math.min(content.length, cut + 1), content.length));
        } else {
            Files.write(first, content);
        }
        List<String> docs;
        try {
            docs = TextSource.load(folder ? dir : first, field);
        } catch (DataException e) {
            Fuzzing.assertOneLine(e);
            return;
        }
        assertThat(docs).isNotEmpty().allSatisfy(d -> assertThat(d).isNotBlank());
    }
}
