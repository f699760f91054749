package dev.ltm.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** docs/READING.md stays true: every {@code File.java#symbol} it names is declared in that file. */
class ReadingGuideTest {
    private static final Path ROOT = Path.of("..");
    /** A stop: `path/File.java#symbol`, or `File.java#symbol` for the file named last. */
    private static final Pattern STOP = Pattern.compile("`((?:[\\w.-]+/)*)(\\w+\\.java)#(\\w+)`");

    @Test
    void everyFileAndSymbolTheGuideNamesExists() throws Exception {
        String guide = Files.readString(ROOT.resolve("docs/READING.md"));
        Map<String, Path> byName = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        int stops = 0;
        Matcher m = STOP.matcher(guide);
        while (m.find()) {
            stops++;
            String dir = m.group(1), file = m.group(2), symbol = m.group(3);
            Path path = dir.isEmpty() ? byName.get(file) : ROOT.resolve(dir + file);
            if (path == null || !Files.isRegularFile(path)) {
                missing.add(dir + file + " (no such file)");
                continue;
            }
            byName.put(file, path);
            if (!declares(Files.readString(path), symbol)) missing.add(dir + file + "#" + symbol + " (no such symbol)");
        }
        assertThat(stops).as("stops in the guide").isGreaterThanOrEqualTo(20);
        assertThat(missing).as("stops the code no longer has").isEmpty();
    }

    @Test
    void aRenamedSymbolIsCaught() {
        String source = "final class A {\n    Var step(TokenBatch b) { return null; }\n    record Dims(int b) {}\n}\n";
        assertThat(declares(source, "step")).isTrue();
        assertThat(declares(source, "Dims")).isTrue();
        assertThat(declares(source, "fit")).isFalse();
        assertThat(declares("    x = step(b);\n", "step")).as("a call is not a declaration").isFalse();
        assertThat(declares("        return step(b);\n", "step")).as("nor a returned call").isFalse();
    }

    /** Whether {@code source} declares a type or a method named {@code symbol} (a call does not count). */
    static boolean declares(String source, String symbol) {
        String name = Pattern.quote(symbol);
        Pattern type = Pattern.compile("\\b(class|record|interface|enum)\\s+" + name + "\\b");
        Pattern method = Pattern.compile("(?m)^\\s*(?:(?:public|private|protected|static|final|synchronized|default|@Override)\\s+)*"
                + "(?:<[^>]+>\\s+)?(?!(?:return|new|throw|else)\\b)\\w[\\w.<>\\[\\], ]*\\s+" + name + "\\s*\\(");
        return type.matcher(source).find() || method.matcher(source).find();
    }
}
