package dev.ltm.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.ltm.optim.Evaluator;
import dev.ltm.optim.FastFitter;
import dev.ltm.optim.TrainingData;
import dev.ltm.optim.data.Windows;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusEncoderTest {
    @TempDir static Path dir;
    static final FastFitter.Settings FAST = FastFitter.Settings.defaults().withSteps(3);
    static Path checkpoint;

    @BeforeAll static void saveModel() {
        checkpoint = dir.resolve("ckpt");
        SharedSpark.checkpoint(3).save(checkpoint);
    }

    private static String out(String name) { return dir.resolve(name).toString(); }

    private static List<Row> rows(Path out) {
        return SharedSpark.session().read().parquet(out.toString()).orderBy("window").collectAsList();
    }

    @Test void theBoundEqualsEvalAndTheRowsDoNotDependOnPartitioningOrRetries() {
        SparkSession spark = SharedSpark.session();
        Windows windows = SharedSpark.windows();
        int batch = 3;
        CorpusEncoder.Summary one = CorpusEncoder.encode(spark, checkpoint, windows, FAST, 7, batch, true, out("one.parquet"), 1,
                TaskHook.NONE);
        CorpusEncoder.Summary many = CorpusEncoder.encode(spark, checkpoint, windows, FAST, 7, batch, true, out("many.parquet"), 5,
                SharedSpark.failFirstAttempt());

        Evaluator.Result eval = new Evaluator(SharedSpark.checkpoint(3).model(), FAST, 7)
                .evaluate(TrainingData.inOrder(windows, batch, 0), FAST.steps());
        assertThat(one.windows()).isEqualTo(windows.size());
        assertThat(one.tokens()).isEqualTo(eval.tokens());
        assertThat(one.nelboPerToken()).isCloseTo(eval.nelboPerToken(), within(1e-9 * eval.nelboPerToken()));
        assertThat(one.toString()).startsWith("encode: " + windows.size() + " windows, NELBO/token ");

        // One task or five, the first attempt of one of them failed on purpose: the same rows, bit for bit.
        List<Row> a = rows(dir.resolve("one.parquet")), b = rows(dir.resolve("many.parquet"));
        assertThat(a).hasSize(windows.size());
        for (int i = 0; i < a.size(); i++) {
            assertThat(a.get(i).getInt(1)).isEqualTo(i);
            assertThat(a.get(i).getInt(0)).isEqualTo(windows.document(i));
            assertThat(a.get(i).getInt(2)).isEqualTo(windows.length(i) - 1);
            assertThat(b.get(i).getDouble(3)).isEqualTo(a.get(i).getDouble(3));
            assertThat(b.get(i).getList(5)).isEqualTo(a.get(i).getList(5)).hasSize(SharedSpark.CONFIG.latentCount() * 16);
            assertThat(b.get(i).getList(6)).isEqualTo(a.get(i).getList(6));
        }
        assertThat(many.nelbo()).isCloseTo(one.nelbo(), within(1e-9 * one.nelbo()));
    }

    @Test void withoutLatentsTheArraysAreNull() {
        CorpusEncoder.encode(SharedSpark.session(), checkpoint, SharedSpark.windows(), FAST, 7, 4, false, out("bare.parquet"), 0,
                TaskHook.NONE);
        Row r = rows(dir.resolve("bare.parquet")).getFirst();
        assertThat(r.isNullAt(5)).isTrue();
        assertThat(r.getDouble(3)).isPositive();
    }

    @Test void anExistingOutputIsRefused() {
        assertThatThrownBy(() -> CorpusEncoder.encode(SharedSpark.session(), checkpoint, SharedSpark.windows(), FAST, 7, 4, false,
                dir.toString(), 0, TaskHook.NONE)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already exists");
    }
}
