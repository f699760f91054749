package dev.ltm.bench.jmh;

import dev.ltm.tensor.Attention;
import dev.ltm.tensor.AttentionDims;
import dev.ltm.tensor.AttentionMask;
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

/**
 * Fused attention forward and backward (dq, dk, dv) at 4 heads of width 64, batch 4:
 * self-attention over N tokens with the full causal mask or a window of 64, or cross-attention
 * of N queries to 32 unmasked keys (a group z_l). Cost: O(B nH N S hd), S = N, 64 or 32 keys.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class AttentionBenchmark {
    static final int BATCH = 4, HEADS = 4, HEAD_DIM = 64, CROSS_KEYS = 32, WINDOW = 64;

    @Param({"128", "256", "512"})
    int seqLen;

    /** self-full: causal over all earlier tokens; self-w64: causal window 64; cross: 32 keys, no mask. */
    @Param({"self-full", "self-w64", "cross"})
    String mode;

    float[] q, k, v, out, lse, dOut, dq, dk, dv;
    int keys;
    AttentionDims dims;

    @Setup
    public void setup() {
        keys = mode.equals("cross") ? CROSS_KEYS : seqLen;
        AttentionMask mask = switch (mode) {
            case "self-full" -> AttentionMask.causal(seqLen);
            case "self-w64" -> AttentionMask.causal(WINDOW);
            case "cross" -> AttentionMask.none();
            default -> throw new IllegalArgumentException("AttentionBenchmark: mode " + mode + " is not self-full, self-w64 or cross");
        };
        dims = new AttentionDims(BATCH, seqLen, keys, HEADS, HEADS, HEAD_DIM, mask);
        Rng rng = new Rng(3);
        int qSize = BATCH * seqLen * HEADS * HEAD_DIM, kSize = BATCH * keys * HEADS * HEAD_DIM;
        q = new float[qSize];
        k = new float[kSize];
        v = new float[kSize];
        dOut = new float[qSize];
        rng.fillNormal(q, 0, 1);
        rng.fillNormal(k, 0, 1);
        rng.fillNormal(v, 0, 1);
        rng.fillNormal(dOut, 0, 1);
        out = new float[qSize];
        lse = new float[BATCH * HEADS * seqLen];
        dq = new float[qSize];
        dk = new float[kSize];
        dv = new float[kSize];
        forward();
    }

    @Benchmark
    public float[] forward() {
        Attention.forward(q, k, v, out, lse, dims);
        return out;
    }

    /** Adds into dq, dk, dv (they grow from call to call; the work is the same). */
    @Benchmark
    public float[] backward() {
        Attention.backward(q, k, v, out, lse, dOut, dq, dk, dv, dims);
        return dq;
    }
}
