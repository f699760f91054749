package dev.ltm.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ltm.model.Sampling;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LtmThreadSafetyTest {
    private static final List<String> TEXTS = Tiny.texts(6);

    private static Ltm trained() {
        Ltm ltm = Ltm.create(Tiny.CONFIG, "byte", 3);
        ltm.train(TEXTS, 3, 2, 3e-3f, 2);
        return ltm;
    }

    @Test
    void twoThreadsGenerateAndEvaluateAsOneThreadDoesOneAfterTheOther() throws Exception {
        Ltm ltm = trained();
        Generation.Options options = Generation.Options.defaults().withMaxTokens(12).withSampling(Sampling.temperature(0.8)).withSeed(4);
        Evaluator.Result evaluated = ltm.evaluate(TEXTS.subList(0, 3), 3);
        String generated = ltm.generate("Once upon", options).text();
        String unconditioned = ltm.generate(null, options.withSeed(5)).text();

        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 3; round++) {
                Future<Evaluator.Result> e = pool.submit(() -> ltm.evaluate(TEXTS.subList(0, 3), 3));
                Future<String> g = pool.submit(() -> ltm.generate("Once upon", options).text());
                Future<String> u = pool.submit(() -> ltm.generate(null, options.withSeed(5)).text());
                assertThat(e.get(2, TimeUnit.MINUTES)).isEqualTo(evaluated);
                assertThat(g.get(2, TimeUnit.MINUTES)).isEqualTo(generated);
                assertThat(u.get(2, TimeUnit.MINUTES)).isEqualTo(unconditioned);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void readingOrTrainingWhileAnotherThreadTrainsIsRefusedWithoutWaiting() throws Exception {
        Ltm ltm = trained();
        CountDownLatch inStep = new CountDownLatch(1), release = new CountDownLatch(1);
        TrainingRun.Listener holdFirstStep = new TrainingRun.Listener() {
            @Override public void onStep(DualRateTrainer.Step step) {
                if (inStep.getCount() == 0) return;
                inStep.countDown();
                try {
                    release.await(1, TimeUnit.MINUTES);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            DualRateTrainer.Settings settings = Tiny.settings(2);
            Future<TrainingRun.Summary> training = pool.submit(() -> ltm.train(TEXTS, settings, 2, holdFirstStep));
            assertThat(inStep.await(1, TimeUnit.MINUTES)).isTrue();
            assertThatThrownBy(() -> ltm.generate("Once", Generation.Options.defaults().withMaxTokens(2)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("generate while another thread trains");
            assertThatThrownBy(() -> ltm.evaluate(TEXTS, 1)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("evaluate while another thread trains");
            assertThatThrownBy(() -> ltm.train(TEXTS, 1, 2, 1e-3f, 1)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("train while another thread");
            release.countDown();
            assertThat(training.get(2, TimeUnit.MINUTES).steps()).isEqualTo(2);
            assertThat(ltm.generate("Once", Generation.Options.defaults().withMaxTokens(2)).tokens()).isNotEmpty();
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
    }
}
