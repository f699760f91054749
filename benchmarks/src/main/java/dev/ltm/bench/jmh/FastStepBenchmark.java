package dev.ltm.bench.jmh;

import dev.ltm.autograd.Tape;
import dev.ltm.autograd.Var;
import dev.ltm.bench.LtmFixture;
import dev.ltm.model.Elbo;
import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.Params;
import dev.ltm.model.Posterior;
import dev.ltm.tensor.Rng;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;

/**
 * One fast step (spec sections 2 and 4): forward from the cached z-independent prefix with frozen
 * weights, the bound, and backward to mu and logvar only. A step does not depend on T_fast (that
 * only counts the steps of a fit: see {@link FastFitBenchmark}).
 */
public class FastStepBenchmark extends LtmSizeState {

    LtmFixture fx;
    Params frozen;
    LatentThoughtModel.Prefix prefix;
    Posterior q;

    @Setup
    public void setup() {
        fx = fixture();
        frozen = Params.frozen(fx.model());
        prefix = fx.model().prefix(frozen, fx.batch().inputs());
        q = Posterior.init(fx.config(), fx.batch().batchSize(), new Rng(8));
    }

    @Benchmark
    public Var step() {
        q.mu().zeroGrad();
        q.logvar().zeroGrad();
        Var loss = Elbo.negativeBound(fx.model().logitsFromPrefix(prefix, frozen, q.z()), fx.batch(), q);
        Tape.backward(loss);
        return loss;
    }
}
