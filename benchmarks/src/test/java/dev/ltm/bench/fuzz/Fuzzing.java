package dev.ltm.bench.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

/** What every fuzz target checks of the error it was given: the documented type carries one line. */
public final class Fuzzing {
    private Fuzzing() {}

    /** Fails unless {@code e} has a non-blank message of one line. */
    public static void assertOneLine(RuntimeException e) {
        assertThat(e.getMessage()).as("message of " + e).isNotBlank().doesNotContain("\n").doesNotContain("\r");
    }
}
