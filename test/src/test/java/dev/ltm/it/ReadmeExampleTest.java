package dev.ltm.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Library use" example compiles against the modules and runs. */
class ReadmeExampleTest {
    @TempDir Path tmp;

    @Test
    void theLibraryExampleInTheReadmeCompilesAndRuns() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int section = readme.indexOf("## Library use");
        assertThat(section).as("README has a Library use section").isPositive();
        Matcher m = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertThat(m.find(section)).as("a java block after the heading").isTrue();
        String source = m.group(1);
        Matcher name = Pattern.compile("public class (\\w+)").matcher(source);
        assertThat(name.find()).isTrue();
        Path src = tmp.resolve(name.group(1) + ".java");
        Files.writeString(src, source);

        // Surefire may hide the class path in a manifest-only jar; it publishes the real one here.
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        StringWriter diagnostics = new StringWriter();
        Path classes = Files.createDirectories(tmp.resolve("classes"));
        boolean ok = javac.getTask(diagnostics, null, null,
                List.of("-classpath", classPath, "-d", classes.toString(), "--add-modules", "jdk.incubator.vector", "-proc:none"),
                null, javac.getStandardFileManager(null, null, StandardCharsets.UTF_8).getJavaFileObjects(src.toFile())).call();
        assertThat(ok).as(diagnostics.toString()).isTrue();

        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        URL[] urls = Stream.concat(Stream.of(classes.toString()), Stream.of(classPath.split(File.pathSeparator)))
                .map(p -> { try { return Path.of(p).toUri().toURL(); } catch (Exception e) { throw new IllegalStateException(e); } })
                .toArray(URL[]::new);
        try (URLClassLoader loader = new URLClassLoader(urls, ClassLoader.getPlatformClassLoader())) {
            Method main = loader.loadClass(name.group(1)).getMethod("main", String[].class);
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            main.invoke(null, (Object) new String[0]);
        } finally {
            System.setOut(old);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(printed).contains("NELBO/token").contains("PPL bound").contains("z layers").contains("1-2");
        assertThat(printed.lines().filter(l -> l.startsWith("T_fast 4:"))).hasSize(2);
    }
}
