package dev.ltm.bench.jmh;

import dev.ltm.bench.LtmFixture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The model-size parameters the LTM benchmarks share (L, N, N_z, H; override with
 * {@code -p layers=1,2,4}) and the fixture they build: batch 2, 4 heads, vocabulary 258; also their
 * JMH settings (JMH's annotations are inherited): average time in ms, 3 warm-up and 5 measured
 * iterations of 2 s, one fork with the Vector API.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
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
