package dev.ltm.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.TokenBatch;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProberTest {
    @Test
    void keepingEveryLayerIsTheFullFittedReconstruction() {
        LatentThoughtModel m = new LatentThoughtModel(Tiny.CONFIG.toBuilder().initStd(0.3f).build(), new Rng(4));
        List<TokenBatch> batches = EvaluatorTest.batches();
        FastFitter.Settings fast = FastFitter.Settings.defaults().withSteps(6);
        Prober.Report r = new Prober(m, fast, 3).probe(batches, List.of(LayerSet.parse("1,3", 3)));
        assertThat(r.prefixes()).hasSize(4);
        assertThat(r.prefixes().get(0).layers().toString()).isEqualTo("none");
        assertThat(r.prefixes().get(2).layers().toString()).isEqualTo("1-2");
        assertThat(r.sets()).singleElement().satisfies(row -> assertThat(row.layers().toString()).isEqualTo("1,3"));
        for (List<Prober.Row> rows : List.of(r.prefixes(), r.sets())) {
            for (Prober.Row row : rows) {
                assertThat(row.accuracy()).isBetween(0.0, 1.0);
                assertThat(row.nllPerToken()).isFinite().isPositive();
                assertThat(row.tokens()).isEqualTo(5 * 22);
            }
        }
        // k = L is exactly the fit's own reconstruction: the same NLL as the fitter reports.
        double nll = 0;
        FastFitter fitter = new FastFitter(m, fast);
        for (int i = 0; i < batches.size(); i++) nll += fitter.fit(batches.get(i), DualRateTrainer.fitRng(3, i)).elbo().totalNll();
        assertThat(r.full().nllPerToken()).isCloseTo(nll / (5 * 22), within(1e-9));
        // The fitted thoughts explain the text better than none at all.
        assertThat(r.full().nllPerToken()).isLessThan(r.prefixes().get(0).nllPerToken());
        assertThat(r.table()).contains("z layers", "accuracy", "NLL/token").contains("1,3");
    }

    @Test
    void accuracyCountsOnlyPredictedTargets() {
        float[] logits = new float[2 * 2 * 3];
        logits[2] = 1;          // row 0, pos 0: argmax 2
        logits[3 + 0] = 1;      // row 0, pos 1: argmax 0
        logits[6 + 1] = 1;      // row 1, pos 0: argmax 1
        TokenBatch b = new TokenBatch(new int[][] {{0, 0}, {0, 0}}, new int[][] {{2, 1}, {1, -1}});
        assertThat(Prober.correctTokens(Tensor.of(logits, 2, 2, 3), b)).isEqualTo(2);
    }

    @Test
    void aModelWithoutThoughtsCannotBeProbed() {
        LatentThoughtModel m = new LatentThoughtModel(LtmConfig.builder().vocabSize(258).width(16).layers(2).heads(4).maxSeqLen(23)
                .build(), new Rng(2));
        assertThatThrownBy(() -> new Prober(m, FastFitter.Settings.defaults(), 0)).hasMessageContaining("N_z = 0");
    }
}
