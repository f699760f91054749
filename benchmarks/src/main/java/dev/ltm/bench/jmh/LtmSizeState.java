package dev.ltm.bench.jmh;

import dev.ltm.bench.LtmFixture;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The model-size parameters the LTM benchmarks share (L, N, N_z, H; override with
 * {@code -p layers=1,2,4}) and the fixture they build: batch 2, 4 heads, vocabulary 258.
 */
@State(Scope.Benchmark)
public abstract class LtmSizeState {
    @Param({"2"}) int layers;
    @Param({"64"}) int seqLen;
    @Param({"8"}) int latents;
    @Param({"64"}) int width;

    /** A seeded model and token batch of these sizes. */
    LtmFixture fixture() {
        return LtmFixture.of(new LtmFixture.Size(258, width, layers, 4, latents, seqLen, 2), 7);
    }
}
