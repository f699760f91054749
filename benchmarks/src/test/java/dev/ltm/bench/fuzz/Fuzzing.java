package dev.ltm.bench.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

/** What every fuzz target checks of the error it was given: the documented type carries one line. */
final class Fuzzing {
    private Fuzzing() {}

    static void assertOneLine(RuntimeException e) {
        assertThat(e.getMessage()).as("message of " + e).isNotBlank().doesNotContain("\n").doesNotContain("\r");
    }
}
