package dev.ltm.bench.jmh;

import dev.ltm.bench.LtmFixture;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.FastFitter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * One dual-rate training step (spec section 2): a fast fit of T_fast steps, then the slow step
 * (forward, backward to every weight, clipping, AdamW) with z fixed.
 */
public class TrainStepBenchmark extends LtmSizeState {
    @Param({"4"}) int tFast;

    LtmFixture fx;
    DualRateTrainer trainer;

    @Setup
    public void setup() {
        fx = fixture();
        // A long schedule: the steps JMH runs all see nearly the peak lr; the work per step is the same.
        trainer = new DualRateTrainer(fx.model(), DualRateTrainer.Settings.defaults(0, 1_000_000, 11)
                .withFast(FastFitter.Settings.defaults().withSteps(tFast)));
    }

    @Benchmark
    public DualRateTrainer.Step step() {
        return trainer.step(fx.batch());
    }
}
