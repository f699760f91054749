package dev.ltm.bench.jmh;

import dev.ltm.bench.LtmFixture;
import dev.ltm.optim.FastFitter;
import dev.ltm.tensor.Rng;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * A whole fast fit (spec section 2): the prefix once, T_fast forward+backward steps to (mu, logvar)
 * with AdamW, one more forward for the bound. Cost O(T_fast L (N^2 H + N N_z H + N H^2)) (section 4).
 */
public class FastFitBenchmark extends LtmSizeState {
    @Param({"4"}) int tFast;

    LtmFixture fx;
    FastFitter fitter;

    @Setup
    public void setup() {
        fx = fixture();
        fitter = new FastFitter(fx.model(), FastFitter.Settings.defaults().withSteps(tFast)).whole(); // one way at every point of a grid
    }

    @Benchmark
    public FastFitter.Result fit() {
        return fitter.fit(fx.batch(), new Rng(9));
    }
}
