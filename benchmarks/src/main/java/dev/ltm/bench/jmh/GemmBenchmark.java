package dev.ltm.bench.jmh;

import dev.ltm.tensor.Gemm;
import dev.ltm.tensor.Rng;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** sgemm C[n,n] = A[n,n] B[n,n]; GFLOP/s = 2 n^3 / (ms per op * 1e6). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemmBenchmark {
    @Param({"256", "512", "1024"})
    int size;

    @Param({"1", "2"})
    int threads;

    float[] a, b, c;

    @Setup
    public void setup() {
        Rng rng = new Rng(1);
        a = new float[size * size];
        b = new float[size * size];
        c = new float[size * size];
        rng.fillUniform(a, -1, 1);
        rng.fillUniform(b, -1, 1);
    }

    @Benchmark
    public float[] sgemm() {
        Gemm.sgemm(false, false, size, size, size, a, 0, size, b, 0, size, c, 0, size, false, threads);
        return c;
    }
}
