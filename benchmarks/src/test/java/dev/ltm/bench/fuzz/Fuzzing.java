package dev.ltm.bench.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/** What every fuzz target checks of the error it was given (the documented type carries one line), and scratch clean-up. */
public final class Fuzzing {
    private Fuzzing() {}

    /** Fails unless {@code e} has a non-blank message of one line. */
    public static void assertOneLine(RuntimeException e) {
        assertThat(e.getMessage()).as("message of " + e).isNotBlank().doesNotContain("\n").doesNotContain("\r");
    }

    /** Deletes {@code p} and everything under it, if it exists (the targets' scratch folders). */
    static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (var walk = Files.walk(p)) {
            for (Path f : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
