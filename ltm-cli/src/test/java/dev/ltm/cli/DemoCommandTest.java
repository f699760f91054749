package dev.ltm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class DemoCommandTest {
    @Test
    void demoPrintsTheTableTheSamplesAndTheComparisonLast() {
        CliTest.Outcome o = CliTest.run("demo", "--steps", "4", "--stories", "40", "--batch", "4", "--seq-len", "48",
                "--width", "16", "--val-windows", "4", "--t-fast", "2");
        assertThat(o.code()).as(o.err()).isZero();
        List<String> lines = o.out().lines().toList();
        assertThat(lines.getLast()).matches("demo: LTM ppl-bound \\d+\\.\\d{3} vs baseline ppl \\d+\\.\\d{3}");
        assertThat(o.out()).contains("T_fast | NELBO/token | PPL bound").contains("Conditioned samples").contains("Unconditioned samples");
        for (int t : new int[] {0, 1, 2, 4, 8, 16, 32}) {
            assertThat(lines).anyMatch(l -> l.matches("\\s+" + t + " \\|\\s+\\d+\\.\\d{4} \\|\\s+\\d+\\.\\d{3}"));
        }
    }

    @Test
    void badDemoOptionsAreOneLineErrors() {
        CliTest.run("demo", "--latents", "0").isOneLineError("--latents 0");
        CliTest.run("demo", "--width", "30").isOneLineError("width 30");
    }
}
