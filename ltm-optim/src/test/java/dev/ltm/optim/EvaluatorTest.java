package dev.ltm.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.TokenBatch;
import dev.ltm.model.tokenizer.ByteTokenizer;
import dev.ltm.tensor.Rng;
import java.util.List;
import org.junit.jupiter.api.Test;

class EvaluatorTest {
    static List<TokenBatch> batches() { return TrainingData.perDocument(Tiny.texts(5), new ByteTokenizer(), 22, 2); }

    @Test
    void theBoundTightensWithThinkingTimeAndTheAuthorsAverageIsNeverSmaller() {
        LatentThoughtModel m = new LatentThoughtModel(Tiny.CONFIG.toBuilder().initStd(0.3f).build(), new Rng(1));
        List<Evaluator.Result> rs = new Evaluator(m, FastFitter.Settings.defaults(), 3).sweep(batches(), new int[] {0, 8});
        Evaluator.Result r0 = rs.get(0), r8 = rs.get(1);
        assertThat(r0.tFast()).isZero();
        assertThat(r8.nelboPerToken()).isLessThan(r0.nelboPerToken());
        for (Evaluator.Result r : rs) {
            assertThat(r.sequences()).isEqualTo(5);
            assertThat(r.tokens()).isEqualTo(5 * 22);
            assertThat(r.perplexityBound()).isCloseTo(Math.exp(r.nelboPerToken()), within(1e-9));
            assertThat(r.meanSequencePerplexity()).isGreaterThanOrEqualTo(r.perplexityBound() * (1 - 1e-12));
            assertThat(r.nelboPerToken()).isCloseTo(r.nllPerToken() + r.klPerSequence() * r.sequences() / r.tokens(), within(1e-9));
        }
        assertThat(Evaluator.table(rs)).contains("T_fast | NELBO/token |", "PPL bound").hasLineCount(3);
    }

    @Test
    void aRowWithoutPredictedTokensAddsNeitherItsKlNorASequence() {
        LatentThoughtModel m = new LatentThoughtModel(Tiny.CONFIG.toBuilder().initStd(0.3f).build(), new Rng(4));
        int[] text = new ByteTokenizer().encode("Once upon a time a fox");
        int[] padding = new int[text.length];
        java.util.Arrays.fill(padding, -1);
        TokenBatch batch = TokenBatch.shifted(new int[][] {text, padding});
        FastFitter.Settings fast = FastFitter.Settings.defaults().withSteps(2);

        Evaluator.Result r = new Evaluator(m, fast, 5).evaluate(List.of(batch), 2);

        // The same fit by hand: only row 0 predicts tokens; row 1's posterior still has a KL.
        var e = new FastFitter(m, fast).fit(batch, DualRateTrainer.fitRng(5, 0)).elbo();
        assertThat(e.tokens()).containsExactly(text.length - 1, 0);
        assertThat(e.kl()[1]).isGreaterThan(1.0);
        assertThat(r.sequences()).isEqualTo(1);
        assertThat(r.tokens()).isEqualTo(text.length - 1);
        assertThat(r.nelboPerToken()).isCloseTo(e.nelbo(0) / e.tokens()[0], within(1e-9));
        assertThat(r.klPerSequence()).isCloseTo(e.kl()[0], within(1e-9));
        assertThat(r.nelboPerToken()).isCloseTo(r.nllPerToken() + r.klPerSequence() * r.sequences() / r.tokens(), within(1e-9));
    }

    @Test
    void withoutThoughtsTheBoundIsThePlainPerplexity() {
        LatentThoughtModel m = new LatentThoughtModel(LtmConfig.builder().vocabSize(258).width(16).layers(2).heads(4).maxSeqLen(23)
                .build(), new Rng(2));
        Evaluator.Result r = new Evaluator(m, FastFitter.Settings.defaults(), 3).evaluate(batches(), 16);
        assertThat(r.klPerSequence()).isZero();
        assertThat(r.nelboPerToken()).isEqualTo(r.nllPerToken());
        assertThat(r.perplexityBound()).isCloseTo(258, within(30.0)); // an untrained model is near uniform
    }
}
