package dev.ltm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CrashBenchTest {
    @TempDir Path dir;

    @Test
    void aRunKilledWithSigkillAndResumedEndsWithTheUninterruptedRunsBytes() {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        CrashBench.Result r = CrashBench.run(dir, 3, 10, 7, new PrintStream(log, true, StandardCharsets.UTF_8));
        String text = log.toString(StandardCharsets.UTF_8);
        assertThat(r.kills()).as(text).isEqualTo(3);
        assertThat(r.loadable()).as(text).isEqualTo(3);
        assertThat(r.rounds()).as(text).isGreaterThanOrEqualTo(1);
        assertThat(r.equal()).as(text).isTrue();
        assertThat(text).contains("kill 1 after", "round 1: final checkpoint equals the uninterrupted run's");
        assertThat(r.line()).isEqualTo("crash: 3 kills, 3 loadable, resumed run equals uninterrupted: yes");
    }

    @Test
    void foldersWithDifferentWeightsAreNotTheSame(@TempDir Path other) throws Exception {
        java.nio.file.Files.createDirectories(dir.resolve("a"));
        java.nio.file.Files.createDirectories(other.resolve("b"));
        for (String f : new String[] {"config.json", "model.safetensors", "optimizer.safetensors", "trainer.json"}) {
            java.nio.file.Files.writeString(dir.resolve("a").resolve(f), "x");
            java.nio.file.Files.writeString(other.resolve("b").resolve(f), f.equals("model.safetensors") ? "y" : "x");
        }
        assertThat(CrashBench.sameFiles(dir.resolve("a"), other.resolve("b"))).isFalse();
        assertThat(CrashBench.sameFiles(dir.resolve("a"), dir.resolve("a"))).isTrue();
    }
}
