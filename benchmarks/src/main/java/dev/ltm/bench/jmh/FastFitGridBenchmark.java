package dev.ltm.bench.jmh;

import dev.ltm.bench.LtmFixture;
import dev.ltm.optim.FastFitter;
import dev.ltm.tensor.Rng;
import java.util.List;
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
 * A whole fast fit on the larger base grid: one axis at a time around L=2, H=256, 4 heads, N=256,
 * N_z=8, T_fast=4, batch 8, vocabulary 32 (the small vocabulary keeps the head, which spec section 4's
 * formula leaves out, a small fixed cost). {@code bench scaling} varies the same axes around a base with
 * 1/235 of the work (H=64, N=64, batch 2), where fixed per-op costs flatten the N and H slopes. Here a
 * fit takes about a second and its matmuls have 1024 to 4096 rows, so the engine's GFLOP/s are nearly
 * flat over the grid (batch 2 left them rising with N and H). {@code bench jmh FastFitGrid} runs the
 * nine points (about 3 minutes) and prints, per axis, the fitted log-log exponent beside the exponent
 * of the exact FLOP count and of section 4's formula (see {@link dev.ltm.bench.JmhBench}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class FastFitGridBenchmark {
    /** The base point. */
    public static final int L = 2, H = 256, HEADS = 4, N = 256, NZ = 8, T_FAST = 4, BATCH = 8, VOCAB = 32;

    /** Every point of the grid, as {@link #point} names it: the base, then one axis changed per point. */
    public static final List<String> POINTS = List.of(
            "base", "T_fast=2", "T_fast=8", "L=1", "L=4", "N=128", "N=512", "H=128", "H=512");

    /** One grid point: the axis it moves ("base" for none), that axis's value, the sizes and T_fast. */
    public record Point(String axis, int value, LtmFixture.Size size, int tFast) {
        /** The point named {@code name} (one of {@link #POINTS}, or any other value of those axes, e.g. "N=1024"). */
        public static Point of(String name) {
            if (name.equals("base")) return new Point("base", 0, size(L, H, N), T_FAST);
            int eq = name.indexOf('=');
            if (eq < 0) throw new IllegalArgumentException("FastFitGrid: point '" + name + "' is neither 'base' nor axis=value");
            String axis = name.substring(0, eq);
            int v;
            try {
                v = Integer.parseInt(name.substring(eq + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("FastFitGrid: point '" + name + "' has no integer value", e);
            }
            if (v < 1) throw new IllegalArgumentException("FastFitGrid: point '" + name + "' needs a value >= 1");
            return switch (axis) {
                case "T_fast" -> new Point(axis, v, size(L, H, N), v);
                case "L" -> new Point(axis, v, size(v, H, N), T_FAST);
                case "N" -> new Point(axis, v, size(L, H, v), T_FAST);
                case "H" -> new Point(axis, v, size(L, v, N), T_FAST);
                default -> throw new IllegalArgumentException("FastFitGrid: point '" + name + "' names no axis of T_fast, L, N, H");
            };
        }

        /** This point's value on {@code axis}: its own value if it moves that axis, else the base's. */
        public int valueOn(String axis) {
            if (axis.equals(this.axis)) return value;
            return switch (axis) {
                case "T_fast" -> T_FAST;
                case "L" -> L;
                case "N" -> N;
                case "H" -> H;
                default -> throw new IllegalArgumentException("FastFitGrid: no axis " + axis);
            };
        }

        private static LtmFixture.Size size(int layers, int width, int seqLen) {
            return new LtmFixture.Size(VOCAB, width, layers, HEADS, NZ, seqLen, BATCH);
        }
    }

    @Param({"base", "T_fast=2", "T_fast=8", "L=1", "L=4", "N=128", "N=512", "H=128", "H=512"})
    String point;

    LtmFixture fx;
    FastFitter fitter;

    @Setup
    public void setup() {
        Point p = Point.of(point);
        fx = LtmFixture.of(p.size(), 1);
        fitter = new FastFitter(fx.model(), FastFitter.Settings.defaults().withSteps(p.tFast())).whole(); // one way at every point
    }

    @Benchmark
    public FastFitter.Result fit() {
        return fitter.fit(fx.batch(), new Rng(9));
    }
}
