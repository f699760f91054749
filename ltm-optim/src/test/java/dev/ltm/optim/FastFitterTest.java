package dev.ltm.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.ltm.autograd.Var;
import dev.ltm.model.Elbo;
import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.Params;
import dev.ltm.model.Posterior;
import dev.ltm.model.TokenBatch;
import dev.ltm.tensor.Parallel;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;
import dev.ltm.tensor.TensorArena;
import org.junit.jupiter.api.Test;

class FastFitterTest {
    static final LtmConfig CONFIG = LtmConfig.builder().vocabSize(50).width(16).layers(2).heads(4).kvHeads(2).latentCount(6).maxSeqLen(17)
            .window(5).build();

    static TokenBatch batch(Rng rng, int b, int t, int vocab) {
        int[][] seqs = new int[b][t + 1];
        for (int[] row : seqs) for (int i = 0; i < row.length; i++) row[i] = rng.nextInt(vocab);
        return TokenBatch.shifted(seqs);
    }

    @Test
    void fastFitLowersTheBound() {
        double[] steps = {0, 2, 8, 16}, mean = new double[steps.length];
        for (int seed = 0; seed < 3; seed++) {
            Rng rng = new Rng(100 + seed);
            LatentThoughtModel m = new LatentThoughtModel(CONFIG.toBuilder().initStd(0.1f).build(), rng);
            TokenBatch batch = batch(rng, 2, 11, 50);
            for (int i = 0; i < steps.length; i++) {
                FastFitter f = new FastFitter(m, FastFitter.Settings.defaults().withSteps((int) steps[i]));
                mean[i] += f.fit(batch, new Rng(seed)).elbo().nelboPerToken() / 3;
            }
        }
        for (int i = 1; i < steps.length; i++) assertThat(mean[i]).as("T_fast %s vs %s", steps[i], steps[i - 1]).isLessThan(mean[i - 1]);
    }

    /**
     * A batch fitted as sub-batches at once (one per thread) gives each sequence the bits the whole fit gives it, at a
     * size where every product of a sub-fit takes the kernel the whole fit's takes; q's leaves take the fitted values.
     */
    @Test
    void fitInPartsGivesTheBitsOfTheWholeFit() {
        LtmConfig c = LtmConfig.builder().vocabSize(50).width(32).layers(2).heads(2).latentCount(8).maxSeqLen(17).build();
        Rng rng = new Rng(5);
        LatentThoughtModel m = new LatentThoughtModel(c, rng);
        FastFitter f = new FastFitter(m, FastFitter.Settings.defaults().withSteps(3));
        TokenBatch batch = batch(rng, 6, 16, 50);
        FastFitter.Result whole = wholeFit(f, batch, Posterior.init(c, 6, new Rng(9)));
        // sub-batches of 3 and 2 sequences: 12 and 8 latent rows per layer, past Gemm.FEW_ROWS
        for (int parts : new int[] {2, 3}) {
            Posterior q = Posterior.init(c, 6, new Rng(9));
            FastFitter.Result split = f.fitInParts(batch, q, null, parts);
            assertThat(split.mu().data()).as("mu, %d parts", parts).containsExactly(whole.mu().data());
            assertThat(split.logvar().data()).as("logvar, %d parts", parts).containsExactly(whole.logvar().data());
            assertThat(split.z().data()).as("z, %d parts", parts).containsExactly(whole.z().data());
            assertThat(split.eps().data()).containsExactly(whole.eps().data());
            assertThat(split.elbo().nll()).containsExactly(whole.elbo().nll());
            assertThat(split.elbo().kl()).containsExactly(whole.elbo().kl());
            assertThat(split.elbo().tokens()).containsExactly(whole.elbo().tokens());
            assertThat(q.mu().value().data()).containsExactly(whole.mu().data());
            assertThat(q.logvar().value().data()).containsExactly(whole.logvar().data());
        }
    }

    /** f's fit of the whole batch on this thread, whatever the pool's size. */
    private static FastFitter.Result wholeFit(FastFitter f, TokenBatch batch, Posterior q) {
        try (TensorArena arena = TensorArena.open()) {
            return f.fitWhole(batch, q, arena);
        }
    }

    /** A batch is split over the threads when they divide it and a sub-fit's smallest products keep Gemm's blocked kernels. */
    @Test
    void batchesSplitOnlyWhereTheSplitChangesNoBit() {
        int t = Parallel.threads();
        LtmConfig demo = LtmConfig.builder().vocabSize(258).width(64).layers(2).heads(4).latentCount(4).maxSeqLen(129).build();
        FastFitter f = new FastFitter(new LatentThoughtModel(demo, new Rng(1)), FastFitter.Settings.defaults());
        assertThat(f.parts(batch(new Rng(2), 16 * t, 128, 258))).isEqualTo(t > 1 ? t : 1);
        assertThat(f.parts(batch(new Rng(2), 16 * t + 1, 128, 258))).as("threads that do not divide the batch").isEqualTo(1);
        assertThat(f.whole().parts(batch(new Rng(2), 16 * t, 128, 258))).as("a fitter that fits whole").isEqualTo(1);
        FastFitter tiny = new FastFitter(new LatentThoughtModel(CONFIG, new Rng(1)), FastFitter.Settings.defaults());
        assertThat(tiny.parts(batch(new Rng(2), 2 * t, 8, 50))).as("products under Gemm's blocked kernels").isEqualTo(1);
    }

    /**
     * At the smallest sizes a sub-fit's products can take another kernel than the whole fit's (a few rows, or under
     * Gemm's packing threshold), which rounds differently: the two fits still agree to rounding.
     */
    @Test
    void fitInPartsAtTinySizesAgreesToRounding() {
        Rng rng = new Rng(6);
        LatentThoughtModel m = new LatentThoughtModel(CONFIG, rng);
        FastFitter f = new FastFitter(m, FastFitter.Settings.defaults().withSteps(4));
        TokenBatch batch = batch(rng, 2, 6, 50);
        FastFitter.Result whole = wholeFit(f, batch, Posterior.init(CONFIG, 2, new Rng(3)));
        FastFitter.Result split = f.fitInParts(batch, Posterior.init(CONFIG, 2, new Rng(3)), null, 2);
        float[] a = whole.mu().data(), b = split.mu().data();
        for (int i = 0; i < a.length; i++) assertThat(b[i]).as("mu[%d]", i).isCloseTo(a[i], within(1e-5f + 1e-4f * Math.abs(a[i])));
        assertThat(split.elbo().totalNelbo()).isCloseTo(whole.elbo().totalNelbo(), within(1e-6 * whole.elbo().totalNelbo()));
    }

    @Test
    void zeroStepsReportTheBoundAtTheStart() {
        Rng rng = new Rng(1);
        LatentThoughtModel m = new LatentThoughtModel(CONFIG, rng);
        TokenBatch batch = batch(rng, 3, 9, 50);
        FastFitter.Result r = new FastFitter(m, FastFitter.Settings.defaults().withSteps(0)).fit(batch, new Rng(7));
        Posterior q = Posterior.init(CONFIG, 3, new Rng(7));
        assertThat(r.mu().data()).containsExactly(q.mu().value().data());
        assertThat(r.logvar().data()).containsExactly(q.logvar().value().data());
        assertThat(r.eps().data()).containsExactly(q.eps().data());
        Elbo direct = Elbo.measure(m.logits(Params.frozen(m), batch.inputs(), q.z()), batch, q);
        assertThat(r.elbo().totalNelbo()).isCloseTo(direct.totalNelbo(), within(1e-9));
        assertThat(r.elbo().tokens()).containsExactly(9, 9, 9);
    }

    @Test
    void resultIsTheFinalPointAndItsBound() {
        Rng rng = new Rng(2);
        LatentThoughtModel m = new LatentThoughtModel(CONFIG, rng);
        TokenBatch batch = batch(rng, 2, 8, 50);
        FastFitter.Result r = new FastFitter(m, FastFitter.Settings.defaults().withSteps(3)).fit(batch, new Rng(8));
        assertThat(r.z().shape()).isEqualTo(Shape.of(2, 2, 3, 16));
        Posterior q = Posterior.of(Var.param(r.mu()), Var.param(r.logvar()), r.eps());
        assertThat(q.z().value().data()).containsExactly(r.z().data());
        Elbo again = Elbo.measure(m.logits(Params.frozen(m), batch.inputs(), q.z()), batch, q);
        assertThat(r.elbo().totalNelbo()).isCloseTo(again.totalNelbo(), within(1e-9));
        // Both moved from the start; logvar rises towards the prior's 0 (the KL pulls it up from -5).
        Posterior start = Posterior.init(CONFIG, 2, new Rng(8));
        assertThat(r.mu().data()).isNotEqualTo(start.mu().value().data());
        assertThat(r.eps().data()).containsExactly(start.eps().data());
        assertThat(mean(r.logvar())).isGreaterThan(mean(start.logvar().value()) + 0.5);
    }

    @Test
    void neverTouchesTheWeights() {
        Rng rng = new Rng(3);
        LatentThoughtModel m = new LatentThoughtModel(CONFIG, rng);
        var before = m.parameters();
        float[] emb = before.get("tok_emb").data().clone();
        new FastFitter(m, FastFitter.Settings.defaults().withSteps(2)).fit(batch(rng, 2, 6, 50), new Rng(9));
        assertThat(m.parameters().get("tok_emb").data()).containsExactly(emb);
    }

    @Test
    void persistentInitStartsFromTheGivenMu() {
        Rng rng = new Rng(4);
        LatentThoughtModel m = new LatentThoughtModel(CONFIG, rng);
        TokenBatch batch = batch(rng, 2, 6, 50);
        Tensor mu0 = Tensor.randn(rng, 0, 0.7, 2, 2, 3, 16);
        FastFitter.Result r = new FastFitter(m, FastFitter.Settings.defaults().withSteps(0)).fit(batch, new Rng(5), mu0);
        assertThat(r.mu().data()).containsExactly(mu0.data());
        FastFitter.Result moved = new FastFitter(m, FastFitter.Settings.defaults().withSteps(2)).fit(batch, new Rng(5), mu0);
        assertThat(moved.mu().data()).isNotEqualTo(mu0.data());
        assertThat(mu0.data()).containsExactly(r.mu().data()); // the caller's tensor is not updated in place
    }

    @Test
    void sameSeedSameFitBitForBit() {
        Rng rng = new Rng(5);
        LatentThoughtModel m = new LatentThoughtModel(CONFIG, rng);
        TokenBatch batch = batch(rng, 2, 10, 50);
        FastFitter f = new FastFitter(m, FastFitter.Settings.defaults().withSteps(4));
        FastFitter.Result a = f.fit(batch, new Rng(11)), b = f.fit(batch, new Rng(11));
        assertThat(a.z().data()).containsExactly(b.z().data());
        assertThat(a.elbo().totalNelbo()).isEqualTo(b.elbo().totalNelbo());
    }

    /**
     * The fit's steps draw their tensors from a TensorArena (the previous step's storage); in mode check every
     * result is recycled and each released array is filled with NaN first. The fit is the same, bit for bit, as
     * with every tensor new from the JVM.
     */
    @Test
    void recyclingTheStepsTensorsChangesNoBit() {
        Rng rng = new Rng(12);
        LatentThoughtModel m = new LatentThoughtModel(CONFIG, rng);
        TokenBatch batch = batch(rng, 3, 12, 50);
        String old = System.getProperty("ltm.arena");
        try {
            java.util.Map<String, FastFitter.Result> fits = new java.util.LinkedHashMap<>();
            for (String mode : new String[] {"false", "check", "true"}) {
                System.setProperty("ltm.arena", mode); // read when an arena opens: a new fitter has none yet
                FastFitter f = new FastFitter(m, FastFitter.Settings.defaults().withSteps(5));
                f.fit(batch, new Rng(7)); // the second fit runs on the arrays the first released (its arena is kept)
                fits.put(mode, f.fit(batch, new Rng(13)));
            }
            FastFitter.Result plain = fits.get("false");
            for (FastFitter.Result r : fits.values()) {
                assertThat(r.mu().data()).containsExactly(plain.mu().data());
                assertThat(r.logvar().data()).containsExactly(plain.logvar().data());
                assertThat(r.z().data()).containsExactly(plain.z().data());
                assertThat(r.elbo().totalNelbo()).isEqualTo(plain.elbo().totalNelbo());
            }
            assertThat(plain.elbo().totalNelbo()).isFinite();
        } finally {
            if (old == null) System.clearProperty("ltm.arena");
            else System.setProperty("ltm.arena", old);
        }
    }

    @Test
    void withoutThoughtsTheBoundIsThePlainNll() {
        LtmConfig gpt = LtmConfig.builder().vocabSize(50).width(16).layers(2).heads(4).kvHeads(2).maxSeqLen(17).build();
        Rng rng = new Rng(6);
        LatentThoughtModel m = new LatentThoughtModel(gpt, rng);
        TokenBatch batch = batch(rng, 2, 7, 50);
        FastFitter.Result r = new FastFitter(m, FastFitter.Settings.defaults()).fit(batch, new Rng(1));
        assertThat(r.elbo().totalKl()).isEqualTo(0.0);
        double nll = Elbo.nllSum(m.logits(Params.frozen(m), batch.inputs(), null), batch).value().item();
        assertThat(r.elbo().totalNll()).isCloseTo(nll, within(1e-3));
    }

    private static double mean(Tensor t) { return t.sumAll() / t.size(); }
}
