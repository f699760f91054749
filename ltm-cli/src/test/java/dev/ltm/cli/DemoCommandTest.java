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

    /**
     * The latent-factor corpus at equal training steps and the same batches: with a short attention
     * window (2 bytes) the thoughts carry what the window cannot see, and the LTM's bound beats the
     * baseline's perplexity (about 7.5 vs 8.4 at this small size).
     */
    @Test
    void ltmBeatsTheBaselineOnTheStoryCorpusAtEqualSteps() {
        CliTest.Outcome o = CliTest.run("demo", "--window", "2", "--steps", "200", "--batch", "8", "--seq-len", "64",
                "--width", "32", "--stories", "1000", "--val-windows", "32");
        assertThat(o.code()).as(o.err()).isZero();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("demo: LTM ppl-bound (\\S+) vs baseline ppl (\\S+)")
                .matcher(o.out().lines().toList().getLast());
        assertThat(m.matches()).isTrue();
        double ltm = Double.parseDouble(m.group(1)), baseline = Double.parseDouble(m.group(2));
        assertThat(ltm).as("LTM bound vs baseline perplexity").isLessThan(baseline);
    }

    @Test
    void badDemoOptionsAreOneLineErrors() {
        CliTest.run("demo", "--latents", "0").isOneLineError("--latents 0");
        CliTest.run("demo", "--width", "30").isOneLineError("width 30");
    }
}
