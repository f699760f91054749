package dev.ltm.bench.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

/**
 * The child side of {@code ltm bench fuzz}: {@code --list} prints every fuzz target of this package
 * ({@code Class#method}, one a line: any {@code *FuzzTest} class with {@code @FuzzTest} methods in
 * {@link #PACKAGES}, so a new target is one new class); {@code Class#method SECONDS} fuzzes one target through JUnit for
 * that long (Jazzer fuzzes only with {@code JAZZER_FUZZ=1} in the environment, which the parent
 * sets) and prints {@code fuzz-result: passed} or {@code fuzz-result: failed: MESSAGE}.
 */
public final class FuzzMain {
    private FuzzMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("--list")) {
            for (Method m : targets()) System.out.println(m.getDeclaringClass().getSimpleName() + "#" + m.getName());
            return;
        }
        if (args.length != 2) throw new IllegalArgumentException("usage: FuzzMain --list | Class#method SECONDS");
        Method target = targets().stream().filter(m -> (m.getDeclaringClass().getSimpleName() + "#" + m.getName()).equals(args[0]))
                .findFirst().orElseThrow(() -> new IllegalArgumentException("no fuzz target " + args[0]));
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectMethod(target.getDeclaringClass(), target))
                // libFuzzer flags after Jazzer's own (the last one wins): the time budget, and a hang limit per input.
                .configurationParameter("jazzer.internal.arg.0", "fuzz")
                .configurationParameter("jazzer.internal.arg.1", "-max_total_time=" + Long.parseLong(args[1]))
                .configurationParameter("jazzer.internal.arg.2", "-timeout=10")
                .build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        launcher.execute(request, listener);
        TestExecutionSummary s = listener.getSummary();
        if (s.getTotalFailureCount() == 0 && s.getTestsSucceededCount() > 0) {
            System.out.println("fuzz-result: passed");
        } else {
            String why = s.getFailures().isEmpty() ? "no test ran" : String.valueOf(s.getFailures().get(0).getException());
            System.out.println("fuzz-result: failed: " + why.replace('\n', ' '));
        }
        System.out.flush();
        // Jazzer's native driver may keep threads alive: end the JVM here.
        Runtime.getRuntime().halt(0);
    }

    /**
     * Packages holding fuzz targets: this one, and the web server's (its target reads package-private
     * request parsers).
     */
    static final List<String> PACKAGES = List.of(FuzzMain.class.getPackageName(), "dev.ltm.web");

    /** The @FuzzTest methods of the *FuzzTest classes in {@link #PACKAGES}, package by package, in name order. */
    static List<Method> targets() throws IOException, URISyntaxException, ClassNotFoundException {
        Path classes = Path.of(FuzzMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<Method> out = new ArrayList<>();
        for (String pkg : PACKAGES) {
            Path dir = classes.resolve(pkg.replace('.', '/'));
            if (!Files.isDirectory(dir)) continue;
            try (var files = Files.list(dir)) {
                for (Path f : files.sorted().toList()) {
                    String n = f.getFileName().toString();
                    if (!n.endsWith("FuzzTest.class")) continue;
                    Class<?> c = Class.forName(pkg + "." + n.substring(0, n.length() - ".class".length()));
                    List<Method> ms = new ArrayList<>();
                    for (Method m : c.getDeclaredMethods()) if (m.isAnnotationPresent(FuzzTest.class)) ms.add(m);
                    ms.sort(Comparator.comparing(Method::getName));
                    out.addAll(ms);
                }
            }
        }
        return out;
    }
}
