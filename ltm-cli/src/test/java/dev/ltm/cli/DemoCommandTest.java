package dev.ltm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ltm.optim.Checkpoint;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoCommandTest {
    @TempDir Path tmp;

    @Test
    void demoPrintsTheTableTheSamplesAndTheComparisonLast() {
        CliTest.Outcome o = CliTest.run("demo", "--steps", "4", "--stories", "40", "--batch", "4", "--seq-len", "48",
                "--width", "16", "--val-windows", "4", "--t-fast", "2", "--out", tmp.toString());
        assertThat(o.code()).as(o.err()).isZero();
        List<String> lines = o.out().lines().toList();
        assertThat(lines.getLast()).matches("demo: LTM ppl-bound \\d+\\.\\d{3} vs baseline ppl \\d+\\.\\d{3}");
        assertThat(o.out()).contains("T_fast | NELBO/token | PPL bound").contains("Conditioned samples").contains("Unconditioned samples");
        for (int t : new int[] {0, 1, 2, 4, 8, 16, 32, 64}) {
            assertThat(lines).anyMatch(l -> l.matches("\\s+" + t + " \\|\\s+\\d+\\.\\d{4} \\|\\s+\\d+\\.\\d{3}"));
        }
        Path ltm = tmp.resolve("demo-ltm"), baseline = tmp.resolve("demo-baseline");
        assertThat(lines).contains("checkpoints: " + ltm + " (LTM), " + baseline + " (baseline); ltm serve shows them");
        assertThat(Checkpoint.load(ltm).config().model().latentCount()).isEqualTo(2);
        assertThat(Checkpoint.load(baseline).config().model().latentCount()).isZero();
        assertThat(Checkpoint.load(ltm).trainer().step()).isEqualTo(4);
    }

    /**
     * The latent-factor corpus at equal training steps and the same batches, with a short attention
     * window (2 bytes) so that the thoughts can carry what the window cannot see; the LTM's figure is
     * its tightest bound over the demo's table (T_fast up to 64). At this small size one run is close
     * to a coin flip decided by rounding: over seeds 1-6 (N_z=4, 200 steps) the LTM's bound beat the
     * baseline's perplexity in 5 runs (by 4-9%) and lost in one (seed 5: 9.17 vs 8.47, a run whose
     * decoder never learned to use z), and a change of summation order in the GEMM turned a 7.48 vs
     * 8.42 win at N_z=2 into an 11.2 loss. So three seeds are run, and the LTM must win on at least
     * two of them and on the geometric mean of the three ratios.
     */
    @Test
    void ltmBeatsTheBaselineOnTheStoryCorpusAtEqualSteps() {
        Pattern last = Pattern.compile("demo: LTM ppl-bound (\\S+) vs baseline ppl (\\S+)");
        int wins = 0;
        double logRatioSum = 0;
        StringBuilder runs = new StringBuilder();
        for (int seed = 1; seed <= 3; seed++) {
            CliTest.Outcome o = CliTest.run("demo", "--seed", Integer.toString(seed), "--latents", "4", "--window", "2",
                    "--steps", "200", "--batch", "8", "--seq-len", "64", "--width", "32", "--stories", "1000",
                    "--val-windows", "32", "--out", tmp.resolve("seed" + seed).toString());
            assertThat(o.code()).as(o.err()).isZero();
            Matcher m = last.matcher(o.out().lines().toList().getLast());
            assertThat(m.matches()).isTrue();
            double ltm = Double.parseDouble(m.group(1)), baseline = Double.parseDouble(m.group(2));
            if (ltm < baseline) wins++;
            logRatioSum += Math.log(ltm / baseline);
            runs.append(String.format(Locale.ROOT, " seed %d: %.3f vs %.3f;", seed, ltm, baseline));
        }
        assertThat(wins).as("runs where the LTM bound beat the baseline perplexity:" + runs).isGreaterThanOrEqualTo(2);
        assertThat(Math.exp(logRatioSum / 3)).as("geometric mean of LTM bound / baseline perplexity:" + runs).isLessThan(1.0);
    }

    @Test
    void badDemoOptionsAreOneLineErrors() {
        CliTest.run("demo", "--latents", "0").isOneLineError("--latents 0");
        CliTest.run("demo", "--width", "30").isOneLineError("width 30");
    }
}
