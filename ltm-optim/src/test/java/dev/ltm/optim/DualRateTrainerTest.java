package dev.ltm.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.TokenBatch;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DualRateTrainerTest {
    static final LtmConfig CONFIG = LtmConfig.builder().vocabSize(50).width(16).layers(2).heads(4).kvHeads(2).latentCount(4).maxSeqLen(13)
            .window(6).build();

    /** A tiny data set: the same two sequences over and over. */
    static TokenBatch repeated(long seed) {
        return FastFitterTest.batch(new Rng(seed), 2, 12, 50);
    }

    static DualRateTrainer.Settings settings(int total) {
        return DualRateTrainer.Settings.defaults(2, total, 42).withPeakLr(1e-2f)
                .withFast(FastFitter.Settings.defaults().withSteps(4));
    }

    @Test
    void trainingOnARepeatedSequenceLowersTheBound() {
        LatentThoughtModel m = new LatentThoughtModel(CONFIG, new Rng(1));
        DualRateTrainer trainer = new DualRateTrainer(m, settings(30));
        TokenBatch data = repeated(7);
        List<DualRateTrainer.Step> steps = new ArrayList<>();
        for (int s = 0; s < 30; s++) steps.add(trainer.step(data));
        DualRateTrainer.Step first = steps.get(0), last = steps.get(29);
        assertThat(first.step()).isEqualTo(0);
        assertThat(first.lr()).isEqualTo(0f);
        assertThat(steps.get(2).lr()).isCloseTo(1e-2f, within(1e-8f));
        assertThat(last.lr()).isCloseTo(1e-3f, within(1e-8f));
        assertThat(first.loss()).isCloseTo(Math.log(50), within(0.2));
        assertThat(last.loss()).isLessThan(first.loss() - 1.5);
        assertThat(last.nelboPerToken()).isLessThan(first.nelboPerToken() - 1.0);
        assertThat(last.tokens()).isEqualTo(24);
        assertThat(trainer.stepCount()).isEqualTo(30);
    }

    @Test
    void theBaselineWithoutThoughtsTrainsWithTheSameCode() {
        LatentThoughtModel m = new LatentThoughtModel(LtmConfig.builder().vocabSize(50).width(16).layers(2).heads(4).kvHeads(2)
                .maxSeqLen(13).build(), new Rng(2));
        DualRateTrainer trainer = new DualRateTrainer(m, settings(20));
        TokenBatch data = repeated(8);
        DualRateTrainer.Step first = trainer.step(data), last = first;
        for (int s = 1; s < 20; s++) last = trainer.step(data);
        assertThat(first.klPerSequence()).isEqualTo(0.0);
        assertThat(last.loss()).isLessThan(first.loss() - 1.0);
    }

    @Test
    void sameSeedSameTrainingBitForBit() {
        LatentThoughtModel a = new LatentThoughtModel(CONFIG, new Rng(3)), b = new LatentThoughtModel(CONFIG, new Rng(3));
        DualRateTrainer ta = new DualRateTrainer(a, settings(5)), tb = new DualRateTrainer(b, settings(5));
        for (int s = 0; s < 3; s++) {
            TokenBatch batch = repeated(s);
            assertThat(ta.step(batch)).isEqualTo(tb.step(batch));
        }
        a.parameters().forEach((name, t) -> assertThat(t.data()).as(name).containsExactly(b.parameters().get(name).data()));
    }

    @Test
    void resumingFromACheckpointEqualsAnUninterruptedRun() {
        List<TokenBatch> data = List.of(repeated(10), repeated(11), repeated(12), repeated(13));
        LatentThoughtModel whole = new LatentThoughtModel(CONFIG, new Rng(4));
        DualRateTrainer straight = new DualRateTrainer(whole, settings(4));
        for (TokenBatch batch : data) straight.step(batch);

        LatentThoughtModel half = new LatentThoughtModel(CONFIG, new Rng(4));
        DualRateTrainer first = new DualRateTrainer(half, settings(4));
        first.step(data.get(0));
        first.step(data.get(1));
        // What a checkpoint holds: config, weights, optimizer moments, step count (copied, as if written to disk).
        Map<String, Tensor> weights = copies(half.parameters()), moments = copies(first.optimizerState());
        int step = first.stepCount();

        LatentThoughtModel resumedModel = new LatentThoughtModel(CONFIG, weights);
        DualRateTrainer resumed = new DualRateTrainer(resumedModel, settings(4));
        resumed.restore(step, moments);
        resumed.step(data.get(2));
        resumed.step(data.get(3));
        whole.parameters().forEach((name, t) -> assertThat(resumedModel.parameters().get(name).data()).as(name).containsExactly(t.data()));
        straight.optimizerState().forEach((name, t) ->
                assertThat(resumed.optimizerState().get(name).data()).as(name).containsExactly(t.data()));
    }

    @Test
    void weightDecayCoversEveryMatrixButNotTheNormGains() {
        LatentThoughtModel m = new LatentThoughtModel(CONFIG, new Rng(5));
        List<AdamW.Group> groups = new DualRateTrainer(m, settings(3)).optimizer().groups();
        assertThat(groups.get(0).weightDecay()).isEqualTo(0.1f);
        assertThat(groups.get(0).params().keySet()).contains("tok_emb", "layers.1.cross.wk", "layers.0.ffn.w2")
                .allMatch(n -> m.parameters().get(n).rank() == 2);
        assertThat(groups.get(1).weightDecay()).isEqualTo(0f);
        assertThat(groups.get(1).params().keySet()).contains("norm_f.g").allMatch(n -> n.endsWith(".g"));
        assertThat(groups.get(0).params().size() + groups.get(1).params().size()).isEqualTo(m.parameters().size());
        assertThat(groups.get(0).beta2()).isEqualTo(0.95f);
    }

    @Test
    void paddingIsNeitherPredictedNorCounted() {
        LatentThoughtModel m = new LatentThoughtModel(CONFIG, new Rng(6));
        int[][] seqs = new int[2][13];
        Rng rng = new Rng(7);
        for (int[] row : seqs) for (int i = 0; i < 13; i++) row[i] = rng.nextInt(50);
        for (int i = 9; i < 13; i++) seqs[1][i] = -1;
        DualRateTrainer.Step step = new DualRateTrainer(m, settings(3)).step(TokenBatch.shifted(seqs));
        assertThat(step.tokens()).isEqualTo(12 + 8);
        assertThat(step.loss()).isCloseTo(Math.log(50), within(0.2));
    }

    @Test
    void microBatchesOfTwoGiveTheStepOfTheWholeBatchOfEight() {
        LatentThoughtModel whole = new LatentThoughtModel(CONFIG, new Rng(9)), split = new LatentThoughtModel(CONFIG, new Rng(9));
        DualRateTrainer one = new DualRateTrainer(whole, settings(5).withMicroBatch(8));
        DualRateTrainer four = new DualRateTrainer(split, settings(5).withMicroBatch(2));
        for (int s = 0; s < 3; s++) {
            TokenBatch batch = FastFitterTest.batch(new Rng(20 + s), 8, 12, 50);
            DualRateTrainer.Step a = one.step(batch), b = four.step(batch);
            assertThat(b.loss()).isCloseTo(a.loss(), within(1e-5 * a.loss()));
            assertThat(b.gradNorm()).isCloseTo(a.gradNorm(), within(1e-5 * a.gradNorm()));
            assertThat(b.nelboPerToken()).isCloseTo(a.nelboPerToken(), within(1e-5 * a.nelboPerToken()));
            assertThat(b.klPerSequence()).isCloseTo(a.klPerSequence(), within(1e-5 * a.klPerSequence()));
            assertThat(b.tokens()).isEqualTo(a.tokens()).isEqualTo(8 * 12);
        }
        assertThat(four.stepCount()).isEqualTo(one.stepCount()).isEqualTo(3);
        whole.parameters().forEach((name, t) -> assertRelativelyClose(name, split.parameters().get(name), t, 1e-5));
        one.optimizerState().forEach((name, t) -> assertRelativelyClose(name, four.optimizerState().get(name), t, 1e-5));
        // The weights did move: the comparison is not between two untouched models.
        assertThat(whole.parameters().get("layers.0.cross.wq").data())
                .isNotEqualTo(new LatentThoughtModel(CONFIG, new Rng(9)).parameters().get("layers.0.cross.wq").data());
    }

    @Test
    void aMicroBatchOfTheWholeBatchIsTheOneBatchStepBitForBit() {
        LatentThoughtModel a = new LatentThoughtModel(CONFIG, new Rng(10)), b = new LatentThoughtModel(CONFIG, new Rng(10));
        DualRateTrainer plain = new DualRateTrainer(a, settings(3)), explicit = new DualRateTrainer(b, settings(3).withMicroBatch(4));
        for (int s = 0; s < 2; s++) {
            TokenBatch batch = FastFitterTest.batch(new Rng(30 + s), 4, 12, 50);
            assertThat(explicit.step(batch)).isEqualTo(plain.step(batch));
        }
        a.parameters().forEach((name, t) -> assertThat(b.parameters().get(name).data()).as(name).containsExactly(t.data()));
    }

    @Test
    void aMicroBatchThatDoesNotDivideTheBatchIsRefusedBeforeAnyChange() {
        LatentThoughtModel m = new LatentThoughtModel(CONFIG, new Rng(11));
        float[] before = m.parameters().get("tok_emb").toArray();
        DualRateTrainer trainer = new DualRateTrainer(m, settings(3).withMicroBatch(3));
        assertThatThrownBy(() -> trainer.step(FastFitterTest.batch(new Rng(1), 8, 12, 50)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("micro-batch 3 does not divide the batch of 8 sequences: expected a divisor of 8");
        assertThat(trainer.stepCount()).isZero();
        assertThat(m.parameters().get("tok_emb").data()).containsExactly(before);
        assertThatThrownBy(() -> settings(3).withMicroBatch(-1)).hasMessageContaining("microBatch -1 must be >= 0");
    }

    /** max |actual - expected| <= tolerance * max |expected| over the tensor (elementwise relative error is meaningless near 0). */
    private static void assertRelativelyClose(String name, Tensor actual, Tensor expected, double tolerance) {
        float[] x = actual.data(), y = expected.data();
        double scale = 0, diff = 0;
        for (int i = 0; i < y.length; i++) {
            scale = Math.max(scale, Math.abs(y[i]));
            diff = Math.max(diff, Math.abs(x[i] - y[i]));
        }
        assertThat(scale).as(name + " is not all zeros").isPositive();
        assertThat(diff).as(name).isLessThanOrEqualTo(tolerance * scale);
    }

    private static Map<String, Tensor> copies(Map<String, Tensor> in) {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        in.forEach((k, t) -> out.put(k, t.copy()));
        return out;
    }
}
