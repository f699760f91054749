package dev.ltm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ltm encode} and {@code ltm train --master} from the command line: results, and faults as one-line errors. */
class SparkCliTest {
    @TempDir Path tmp;

    private static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as(text).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test void trainOnSparkThenEncodeGivesEvalsBound() {
        Path ckpt = tmp.resolve("ck");
        CliTest.Outcome t = CliTest.run(CliTest.train(ckpt, "--master", "local[2]", "--micro-batch", "1"));
        assertThat(t.code()).as(t.err()).isZero();
        assertThat(t.out()).contains("spark: local[2], 2 cores").contains("trained steps 1..3");
        CliTest.Outcome inProcess = CliTest.run(CliTest.train(tmp.resolve("ref"), "--micro-batch", "1"));
        String loss = "trained steps 1..3: loss ([0-9.]+)";
        double sparkLoss = number(t.out(), loss), inProcessLoss = number(inProcess.out(), loss);
        assertThat(sparkLoss).isCloseTo(inProcessLoss, org.assertj.core.api.Assertions.within(2e-4));

        CliTest.Outcome e = CliTest.run("encode", "--checkpoint", ckpt.toString(), "--out", tmp.resolve("z.parquet").toString(),
                "--master", "local[2]", "--batch", "2", "--seed", "5");
        assertThat(e.code()).as(e.err()).isZero();
        List<String> lines = e.out().lines().toList();
        assertThat(lines.getLast()).matches("encode: \\d+ windows, NELBO/token [0-9.]+, PPL bound [0-9.]+");
        CliTest.Outcome v = CliTest.run("eval", "--checkpoint", ckpt.toString(), "--batch", "2", "--seed", "5");
        assertThat(v.code()).as(v.err()).isZero();
        double eval = number(v.out(), "\\n\\s+2 \\|\\s+([0-9.]+)"), encode = number(lines.getLast(), "NELBO/token ([0-9.]+)");
        assertThat(encode).isCloseTo(eval, org.assertj.core.api.Assertions.within(1e-4)); // eval prints 4 decimals
    }

    @Test void aMissingCheckpointOrAnUnreachableMasterIsOneLineAndExitTwo() {
        long t0 = System.nanoTime();
        CliTest.run("encode", "--checkpoint", tmp.resolve("nothing").toString(), "--out", tmp.resolve("o.parquet").toString())
                .isOneLineError("not found");
        CliTest.run(CliTest.train(tmp.resolve("u"), "--master", "spark://127.0.0.1:1"))
                .isOneLineError("no Spark master answers at 127.0.0.1:1");
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(30);
    }
}
