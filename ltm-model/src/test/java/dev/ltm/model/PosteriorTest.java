package dev.ltm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.ltm.autograd.GradCheck;
import dev.ltm.autograd.Var;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;
import org.junit.jupiter.api.Test;

class PosteriorTest {

    @Test
    void startsWhereTheSpecSays() {
        LtmConfig c = LtmConfig.builder().vocabSize(50).width(32).layers(2).heads(4).kvHeads(2).latentCount(8).maxSeqLen(16).build();
        Posterior q = Posterior.init(c, 3, new Rng(1));
        assertThat(q.mu().shape()).isEqualTo(Shape.of(3, 2, 4, 32));
        assertThat(meanStd(q.mu().value())).satisfies(ms -> {
            assertThat(ms[0]).isCloseTo(0, within(0.002));
            assertThat(ms[1]).isCloseTo(0.01, within(0.001));
        });
        assertThat(meanStd(q.logvar().value())).satisfies(ms -> {
            assertThat(ms[0]).isCloseTo(-5, within(0.01));
            assertThat(ms[1]).isCloseTo(0.1, within(0.01));
        });
        assertThat(meanStd(q.eps())[1]).isCloseTo(1, within(0.08));
        assertThat(q.mu().requiresGrad()).isTrue();
        assertThat(q.logvar().requiresGrad()).isTrue();
    }

    private static double[] meanStd(Tensor t) {
        double s = 0, s2 = 0;
        for (float x : t.data()) { s += x; s2 += x * x; }
        double n = t.size(), mean = s / n;
        return new double[] {mean, Math.sqrt(s2 / n - mean * mean)};
    }

    @Test
    void persistentInitKeepsMuAndDrawsTheRest() {
        LtmConfig c = TinyModels.config();
        Tensor mu = Tensor.randn(new Rng(2), 0, 1, 2, 2, 3, 16);
        Posterior q = Posterior.persistent(c, mu, new Rng(3));
        assertThat(q.mu().value().data()).containsExactly(mu.data());
        assertThat(q.mu().value()).isNotSameAs(mu);
        assertThatThrownBy(() -> Posterior.persistent(c, Tensor.zeros(2, 2, 4, 16), new Rng(3))).hasMessageContaining("[2, 2, 3, 16]");
    }

    @Test
    void sampleAndKlFollowTheFormulas() {
        Tensor mu = Tensor.of(new float[] {0.5f, -1f, 0f, 2f}, 2, 1, 1, 2);
        Tensor logvar = Tensor.of(new float[] {0f, -2f, 1f, 0.5f}, 2, 1, 1, 2);
        Tensor eps = Tensor.of(new float[] {1f, 0.5f, -1f, 2f}, 2, 1, 1, 2);
        Posterior q = Posterior.of(Var.param(mu), Var.param(logvar), eps);
        float[] z = q.z().value().data();
        for (int i = 0; i < 4; i++) {
            assertThat(z[i]).isCloseTo((float) (mu.data()[i] + eps.data()[i] * Math.exp(logvar.data()[i] / 2)), within(1e-6f));
        }
        double[] kl = new double[2];
        for (int i = 0; i < 4; i++) {
            double m = mu.data()[i], lv = logvar.data()[i];
            kl[i / 2] += -0.5 * (1 + lv - m * m - Math.exp(lv));
        }
        assertThat(q.klPerSequence()).containsExactly(new double[] {kl[0], kl[1]}, within(1e-6));
        assertThat(q.kl().value().item()).isCloseTo((float) (kl[0] + kl[1]), within(1e-5f));
    }

    @Test
    void boundGradientsWithRespectToMuAndLogvarMatchFiniteDifferences() {
        LtmConfig c = LtmConfig.builder().vocabSize(31).width(16).layers(2).heads(2).kvHeads(1).latentCount(4).maxSeqLen(11).initStd(0.3f)
                .build();
        Rng rng = new Rng(4);
        LatentThoughtModel m = new LatentThoughtModel(c, rng);
        Params frozen = Params.frozen(m);
        TokenBatch batch = TinyModels.batch(rng, 2, 9, 31);
        Tensor eps = Tensor.randn(rng, 0, 1, 2, 2, 2, 16);
        Tensor mu = Tensor.randn(rng, 0, 0.5, 2, 2, 2, 16);
        Tensor logvar = Tensor.randn(rng, -1, 0.3, 2, 2, 2, 16);
        GradCheck.Result r = GradCheck.check(v -> {
            Posterior q = Posterior.of(v[0], v[1], eps);
            return Elbo.negativeBound(m.logits(frozen, batch.inputs(), q.z()), batch, q);
        }, new Tensor[] {mu, logvar}, 1e-2, 40, 5);
        assertThat(r.maxRelativeError()).as("%s", r).isLessThan(2e-2);
    }

    @Test
    void elboMeasuresEachSequenceAndSkipsPadding() {
        LtmConfig c = TinyModels.config();
        Rng rng = new Rng(6);
        LatentThoughtModel m = new LatentThoughtModel(c, rng);
        int[][] seqs = TinyModels.tokens(rng, 2, 9, 50);
        seqs[1][7] = -1;
        seqs[1][8] = -1;
        TokenBatch batch = TokenBatch.shifted(seqs);
        assertThat(batch.tokenCounts()).containsExactly(8, 6);
        Posterior q = Posterior.init(c, 2, rng);
        Var logits = m.logits(Params.frozen(m), batch.inputs(), q.z());
        Elbo e = Elbo.measure(logits, batch, q);
        assertThat(e.tokens()).containsExactly(8, 6);
        assertThat(e.totalNll()).isCloseTo(Elbo.nllSum(logits, batch).value().item(), within(1e-3));
        assertThat(e.totalNelbo()).isCloseTo(Elbo.negativeBound(logits, batch, q).value().item(), within(1e-3));
        // Near-uniform predictions at init: about log(50) nats per predicted token.
        assertThat(e.nll()[1] / 6).isCloseTo(Math.log(50), within(0.3));
        assertThat(e.nelboPerToken()).isCloseTo(e.totalNelbo() / 14, within(1e-9));
        assertThat(e.perplexityBound()).isCloseTo(Math.exp(e.nelboPerToken()), within(1e-9));
    }
}
