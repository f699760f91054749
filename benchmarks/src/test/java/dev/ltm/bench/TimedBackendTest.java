package dev.ltm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.FastFitter;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TimedBackendTest {
    private static final LtmFixture.Size SIZE = new LtmFixture.Size(40, 16, 2, 2, 4, 12, 3);

    @Test
    void aFitOnTheTimedBackendIsTheCpuFitToTheBitAndEveryOpIsCounted() {
        FastFitter.Settings fast = FastFitter.Settings.defaults().withSteps(3);
        FastFitter.Result plain = new FastFitter(LtmFixture.of(SIZE, 7).model(), fast).fit(LtmFixture.of(SIZE, 7).batch(), new Rng(7));
        TimedBackend timed = new TimedBackend();
        LtmFixture fx = LtmFixture.of(SIZE, 7);
        FastFitter.Result onTimed = new FastFitter(fx.model().to(timed), fast).fit(fx.batch(), new Rng(7));

        assertThat(onTimed.mu().backend()).isSameAs(timed);
        assertThat(onTimed.elbo().totalNelbo()).isEqualTo(plain.elbo().totalNelbo());
        assertThat(onTimed.mu().read()).containsExactly(plain.mu().read());
        assertThat(onTimed.logvar().read()).containsExactly(plain.logvar().read());

        Map<String, TimedBackend.Total> byOp = Map.ofEntries(timed.byTime().toArray(Map.Entry[]::new));
        // 2 layers; 3 steps and the bound's forward each run every cross-attention and layer 2's self-attention,
        // layer 1's self-attention is the z-independent prefix, run once per fit
        assertThat(byOp.get("attention [3, 12, 2, 8] x [3, 12, 2, 8]").calls).isEqualTo(1 + 4);
        assertThat(byOp.get("attention [3, 12, 2, 8] x [3, 2, 2, 8]").calls).isEqualTo(2 * 4);
        assertThat(byOp.get("attentionBackward [3, 12, 2, 8] x [3, 2, 2, 8]").calls).isEqualTo(2 * 3);
        TimedBackend.Total logits = byOp.get("matmul [3, 12, 16] x [40, 16]^T");
        assertThat(logits.calls).isEqualTo(4);
        assertThat(logits.flops).isEqualTo(4 * 2.0 * 3 * 12 * 40 * 16);
        assertThat(byOp.values()).allSatisfy(t -> assertThat(t.nanos).isPositive());
    }

    @Test
    void theTableSharesOutTheWorkloadsTimeAndATrainStepMatchesTheCpusStep() {
        DualRateTrainer.Settings settings = DualRateTrainer.Settings.defaults(2, 1000, 7).withFast(FastFitter.Settings.defaults().withSteps(2));
        DualRateTrainer.Step plain = new DualRateTrainer(LtmFixture.of(SIZE, 7).model(), settings).step(LtmFixture.of(SIZE, 7).batch());
        TimedBackend timed = new TimedBackend();
        LtmFixture fx = LtmFixture.of(SIZE, 7);
        DualRateTrainer.Step step = new DualRateTrainer(fx.model().to(timed), settings).step(fx.batch());
        assertThat(step.loss()).isEqualTo(plain.loss());
        assertThat(step.gradNorm()).isEqualTo(plain.gradNorm());

        long opsNanos = timed.byTime().stream().mapToLong(e -> e.getValue().nanos).sum();
        String table = timed.table(1, opsNanos / 1e6 * 2);
        assertThat(table).contains("adamw", "matmul ^T[36, 40] x [36, 16]", "all ops", "outside ops (autograd, model code)");
        assertThat(table).containsPattern("all ops\\s+[0-9.]+\\s+50\\.0%");
        timed.reset();
        assertThat(timed.byTime()).isEmpty();
        assertThat(Tensor.zeros(dev.ltm.tensor.Shape.of(1)).backend()).isNotSameAs(timed);
    }
}
