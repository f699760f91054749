package dev.ltm.bench.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import dev.ltm.bench.LtmFixture;
import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.Posterior;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.FastFitter;
import dev.ltm.tensor.Rng;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The PyTorch twin computes what our model computes, so that bench compare times the same work. */
class TorchLtmTest {
    static NDManager nd;

    @BeforeAll
    static void start() { nd = TorchEngine.start(1); }

    @AfterAll
    static void stop() { nd.close(); }

    /** Odd sizes: V 29, H 24 (3 heads of 8), L 3, N_z 6, N 13, batch 3. */
    static LtmFixture fixture() {
        return LtmFixture.of(new LtmFixture.Size(29, 24, 3, 3, 6, 13, 3), 5);
    }

    static DualRateTrainer.Settings settings() {
        return DualRateTrainer.Settings.defaults(1, 10, 17).withPeakLr(1e-2f).withFast(FastFitter.Settings.defaults().withSteps(5));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void fastFitMatchesOurFitter(boolean reusePrefix) {
        LtmFixture fx = fixture();
        FastFitter.Settings fast = settings().fast();
        FastFitter.Result ours = new FastFitter(fx.model(), fast).fit(fx.batch(), new Rng(3));
        Posterior start = Posterior.init(fx.config(), 3, new Rng(3));
        TorchLtm torch = new TorchLtm(fx.config(), fx.model().parameters(), settings(), reusePrefix, nd);
        TorchLtm.Fit theirs = torch.fastFit(fx.batch(), start.mu().value(), start.logvar().value(), start.eps(), fast);

        assertThat(theirs.nelbo()).isCloseTo(ours.elbo().totalNelbo(), within(1e-4 * Math.abs(ours.elbo().totalNelbo())));
        float[] z = ours.z().data();
        double worst = 0, scale = 0;
        for (int i = 0; i < z.length; i++) {
            worst = Math.max(worst, Math.abs(z[i] - theirs.z()[i]));
            scale = Math.max(scale, Math.abs(z[i]));
        }
        assertThat(worst / scale).isLessThan(1e-3);
    }

    @ParameterizedTest
    @ValueSource(ints = {3})
    void trainStepsMatchOurTrainer(int steps) {
        LtmFixture fx = fixture();
        DualRateTrainer.Settings s = settings();
        LatentThoughtModel ourModel = fx.model();
        TorchLtm torch = new TorchLtm(fx.config(), ourModel.parameters(), s, false, nd);
        DualRateTrainer trainer = new DualRateTrainer(ourModel, s);
        for (int step = 0; step < steps; step++) {
            Posterior start = Posterior.init(fx.config(), 3, DualRateTrainer.fitRng(s.seed(), step));
            TorchLtm.Step theirs = torch.trainStep(fx.batch(), start.mu().value(), start.logvar().value(), start.eps());
            DualRateTrainer.Step ours = trainer.step(fx.batch());
            // Step 0 runs at lr 0 (warm-up); later losses agree only if both updates agreed.
            assertThat(theirs.loss()).as("loss at step %d", step).isCloseTo(ours.loss(), within(1e-4 * ours.loss()));
            assertThat(theirs.gradNorm()).as("grad norm at step %d", step).isCloseTo(ours.gradNorm(), within(1e-3 * ours.gradNorm()));
        }
    }
}
