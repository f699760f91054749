package dev.ltm.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.TokenBatch;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.FastFitter;
import dev.ltm.optim.TrainingData;
import dev.ltm.optim.data.Batches;
import dev.ltm.optim.data.Windows;
import dev.ltm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

class SparkGradientsTest {
    static final int STEPS = 20, BATCH = 4;

    static DualRateTrainer.Settings settings() {
        return DualRateTrainer.Settings.defaults(2, STEPS, 11).withPeakLr(3e-3f).withFast(FastFitter.Settings.defaults().withSteps(2))
                .withMicroBatch(1);
    }

    static List<TokenBatch> batches() {
        Windows w = SharedSpark.windows();
        Batches it = new Batches(w, BATCH, 11);
        List<TokenBatch> out = new ArrayList<>();
        for (int i = 0; i < STEPS; i++) out.add(TrainingData.tokenBatch(it.next()));
        return out;
    }

    /** Relative distance max|a - b| / max|a| over all weights. */
    static double relativeDistance(LatentThoughtModel a, LatentThoughtModel b) {
        double diff = 0, scale = 0;
        Map<String, Tensor> pb = b.parameters();
        for (var e : a.parameters().entrySet()) {
            float[] x = e.getValue().read(), y = pb.get(e.getKey()).read();
            for (int i = 0; i < x.length; i++) {
                diff = Math.max(diff, Math.abs(x[i] - y[i]));
                scale = Math.max(scale, Math.abs(x[i]));
            }
        }
        return diff / scale;
    }

    @Test void sparkTrainingEqualsInProcessTrainingOverTwentyStepsEvenWhenATaskIsRetried() {
        List<TokenBatch> batches = batches();
        DualRateTrainer local = new DualRateTrainer(SharedSpark.model(1), settings());
        DualRateTrainer spark = new DualRateTrainer(SharedSpark.model(1), settings());
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(SharedSpark.session().sparkContext());
        spark.useGradients(new SparkGradients(sc, 2, SharedSpark.failFirstAttempt()));
        double firstLoss = 0, lastLoss = 0;
        for (int s = 0; s < STEPS; s++) {
            DualRateTrainer.Step a = local.step(batches.get(s)), b = spark.step(batches.get(s));
            assertThat(b.step()).isEqualTo(a.step());
            assertThat(b.tokens()).isEqualTo(a.tokens());
            assertThat(b.loss()).isCloseTo(a.loss(), org.assertj.core.api.Assertions.within(1e-5 * a.loss()));
            assertThat(b.gradNorm()).isCloseTo(a.gradNorm(), org.assertj.core.api.Assertions.within(1e-5 * a.gradNorm()));
            assertThat(b.nelboPerToken()).isCloseTo(a.nelboPerToken(), org.assertj.core.api.Assertions.within(1e-5 * a.nelboPerToken()));
            if (s == 0) firstLoss = a.loss();
            lastLoss = a.loss();
        }
        assertThat(relativeDistance(local.model(), spark.model())).isLessThan(1e-5);
        assertThat(spark.stepCount()).isEqualTo(STEPS);
        // The weights moved: the comparison is between two trained models, not two copies of the initial one.
        assertThat(relativeDistance(local.model(), SharedSpark.model(1))).isGreaterThan(1e-3);
        assertThat(lastLoss).isLessThan(firstLoss);
    }
}
