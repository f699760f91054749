package dev.ltm.optim.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TextSourceTest {
    @TempDir Path dir;

    @Test
    void folderIsReadRecursivelyInSortedOrder() throws IOException {
        Files.createDirectories(dir.resolve("b/sub"));
        Files.writeString(dir.resolve("b/sub/z.txt"), "deep ünïcode 😀");
        Files.writeString(dir.resolve("a.md"), "# title\nmarkdown");
        Files.writeString(dir.resolve("b/data.jsonl"), "{\"text\": \"line one\"}\n\n{\"text\": \"line two\", \"id\": 2}\n");
        Files.writeString(dir.resolve("c.csv"), "ignored,file");
        Files.writeString(dir.resolve("empty.txt"), "  \n");
        assertThat(TextSource.load(dir)).containsExactly("# title\nmarkdown", "line one", "line two", "deep ünïcode 😀");
    }

    @Test
    void singleFileIsOneDocumentAndBomIsDropped() throws IOException {
        Path f = dir.resolve("corpus.txt");
        Files.write(f, ("\uFEFFFirst line.\nSecond line.\n").getBytes(StandardCharsets.UTF_8));
        assertThat(TextSource.load(f)).containsExactly("First line.\nSecond line.\n");
    }

    @Test
    void jsonlFieldIsConfigurableAndErrorsNameTheLine() throws IOException {
        Path f = dir.resolve("d.jsonl");
        Files.writeString(f, "{\"body\": \"a\", \"text\": \"x\"}\r\n{\"body\": \"b\\nc\"}\n");
        assertThat(TextSource.load(f, "body")).containsExactly("a", "b\nc");
        assertThatThrownBy(() -> TextSource.load(f))
                .isInstanceOf(DataException.class).hasMessage(f + ":2: no field 'text'");

        Files.writeString(f, "{\"text\": \"ok\"}\n{\"text\": 3}\n");
        assertThatThrownBy(() -> TextSource.load(f)).hasMessage(f + ":2: field 'text' is not a string");
        Files.writeString(f, "{\"text\": \"ok\"}\n{\"text\": \"cut\n");
        assertThatThrownBy(() -> TextSource.load(f))
                .hasMessageStartingWith(f + ":2: invalid JSON: ")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        Files.writeString(f, "[1, 2]\n");
        assertThatThrownBy(() -> TextSource.load(f)).hasMessage(f + ":1: expected a JSON object per line");
    }

    @Test
    void invalidUtf8IsReportedWithFileAndByteOffset() throws IOException {
        Path f = dir.resolve("bad.txt");
        byte[] ok = "héllo ".getBytes(StandardCharsets.UTF_8); // 7 bytes
        byte[] bytes = new byte[ok.length + 3];
        System.arraycopy(ok, 0, bytes, 0, ok.length);
        bytes[7] = (byte) 0xC3; // a lead byte followed by a non-continuation byte
        bytes[8] = 'x';
        bytes[9] = 'y';
        Files.write(f, bytes);
        assertThatThrownBy(() -> TextSource.load(dir))
                .isInstanceOf(DataException.class)
                .hasMessage("invalid UTF-8 in " + f + " at byte 7 (0xC3)");

        Files.write(f, new byte[] {'a', 'b', (byte) 0xF0, (byte) 0x9F}); // truncated 4-byte sequence at the end
        assertThatThrownBy(() -> TextSource.load(f)).hasMessage("invalid UTF-8 in " + f + " at byte 2 (0xF0)");
    }

    @Test
    void missingOrEmptyCorpusIsAnError() throws IOException {
        Path missing = dir.resolve("nothing-here");
        assertThatThrownBy(() -> TextSource.load(missing))
                .isInstanceOf(DataException.class).hasMessage("corpus not found: " + missing);

        Path empty = Files.createDirectory(dir.resolve("empty"));
        Files.writeString(empty.resolve("notes.csv"), "a,b");
        assertThatThrownBy(() -> TextSource.load(empty))
                .hasMessage("corpus is empty: " + empty + " (no non-empty .txt, .md or .jsonl documents in it)");

        Path blank = Files.writeString(dir.resolve("blank.txt"), "\n\n");
        assertThatThrownBy(() -> TextSource.load(blank)).hasMessage("corpus is empty: " + blank + " (no non-empty documents)");
    }
}
