package dev.ltm.bench;

import dev.ltm.optim.FastFitter;
import dev.ltm.optim.Flops;
import dev.ltm.tensor.Rng;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bench scaling}: times a whole fast fit over a grid that varies one axis at a time around a
 * small base config, fits log(time) against log(axis) and compares the exponent with the local
 * log-log slope of spec section 4's cost L * T_fast * (N^2 H + N N_z H + N H^2) over the same grid.
 * Writes a PNG of time against T_fast.
 */
@Command(name = "scaling", mixinStandardHelpOptions = true,
        description = "Fast-fit time over a grid per axis (T_fast, L, N, N_z, H): fitted exponent vs spec section 4; "
                + "PNG of time vs T_fast.")
final class ScalingBench implements Runnable {
    @Spec CommandSpec spec;

    @Option(names = "--out", defaultValue = "target/bench/scaling-tfast.png", description = "PNG path (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--passes", defaultValue = "3",
            description = "passes over the whole grid; each point keeps its best (default ${DEFAULT-VALUE}).")
    int passes;

    /** Each timing runs fits back to back for at least this long. */
    static final int MIN_BATCH_MS = 300;

    @Option(names = "--vocab", defaultValue = "32", description = "vocabulary (default ${DEFAULT-VALUE}: small, so that the head,"
            + " which section 4's formula leaves out, stays a small fixed cost).")
    int vocab;

    /** The base point: L=2, H=64, 4 heads, N=64, N_z=8, T_fast=4, batch 2. */
    static final int L = 2, H = 64, HEADS = 4, N = 64, NZ = 8, T_FAST = 4, BATCH = 2;

    /** One axis: its name, its grid, and the config and T_fast at each value. */
    record Axis(String name, int[] values, IntFunction<LtmFixture.Size> size, IntFunction<Integer> tFast) {}

    /** A fitted line log y = a + b log x with its R^2. */
    record Fit(double slope, double intercept, double r2) {}

    @Override public void run() {
        if (passes < 1) throw new ParameterException(spec.commandLine(), "scaling: --passes must be >= 1, got " + passes);
        if (vocab < 2) throw new ParameterException(spec.commandLine(), "scaling: --vocab must be >= 2, got " + vocab);
        System.setProperty("java.awt.headless", "true");
        List<Axis> axes = List.of(
                new Axis("T_fast", new int[] {4, 8, 16, 32}, v -> size(L, H, N, NZ), v -> v),
                new Axis("L", new int[] {1, 2, 4, 8}, v -> size(v, H, N, NZ), v -> T_FAST),
                new Axis("N", new int[] {32, 64, 128, 256}, v -> size(L, H, v, NZ), v -> T_FAST),
                new Axis("N_z", new int[] {8, 16, 32, 64}, v -> size(L, H, N, v), v -> T_FAST),
                new Axis("H", new int[] {32, 64, 128, 256}, v -> size(L, v, N, NZ), v -> T_FAST));
        System.out.printf(Locale.ROOT, "bench scaling: fast-fit time per point = best over %d passes over the whole grid of"
                + " (mean of fits run for >= %d ms); base %s T_fast=%d, full attention%n", passes, MIN_BATCH_MS,
                withVocab(size(L, H, N, NZ)), T_FAST);
        // Every point is timed once per pass, passes sweep the whole grid: load from other processes
        // that comes and goes hits points at random, and the best of the passes is the least disturbed.
        List<FastFitter[]> fitters = new ArrayList<>();
        List<LtmFixture[]> fixtures = new ArrayList<>();
        for (Axis axis : axes) {
            int n = axis.values().length;
            FastFitter[] f = new FastFitter[n];
            LtmFixture[] x = new LtmFixture[n];
            for (int i = 0; i < n; i++) {
                x[i] = LtmFixture.of(withVocab(axis.size().apply(axis.values()[i])), 1);
                f[i] = new FastFitter(x[i].model(), FastFitter.Settings.defaults().withSteps(axis.tFast().apply(axis.values()[i]))).whole();
            }
            fitters.add(f);
            fixtures.add(x);
        }
        warmUp(fitters, fixtures);
        double[][] best = new double[axes.size()][];
        for (int a = 0; a < axes.size(); a++) {
            best[a] = new double[axes.get(a).values().length];
            java.util.Arrays.fill(best[a], Double.POSITIVE_INFINITY);
        }
        for (int pass = 0; pass < passes; pass++) {
            for (int a = 0; a < axes.size(); a++) {
                for (int i = 0; i < best[a].length; i++) best[a][i] = Math.min(best[a][i], timeFit(fitters.get(a)[i], fixtures.get(a)[i]));
            }
        }
        List<String> lines = new ArrayList<>();
        double[] tFastMs = null;
        for (int a = 0; a < axes.size(); a++) {
            Axis axis = axes.get(a);
            double[] ms = best[a], x = new double[ms.length], cost = new double[ms.length], flops = new double[ms.length];
            for (int i = 0; i < ms.length; i++) {
                int v = axis.values()[i];
                LtmFixture.Size s = axis.size().apply(v);
                int t = axis.tFast().apply(v);
                x[i] = v;
                cost[i] = formulaCost(s, t);
                // What this fit computes, counted exactly: the prefix once, T_fast steps past it, the bound's forward.
                flops[i] = new Flops(fixtures.get(a)[i].config(), s.seqLen()).fit(t);
                System.out.printf(Locale.ROOT, "  %s=%d: %.2f ms, %.1f GFLOP/s%n", axis.name(), v, ms[i],
                        flops[i] * s.batch() / (ms[i] * 1e6));
            }
            Fit measured = logLogFit(x, ms), expected = logLogFit(x, cost), counted = logLogFit(x, flops);
            lines.add(String.format(Locale.ROOT, "scaling %s: exponent %.2f expected %.2f R^2 %.3f; FLOP count of this fit %.2f",
                    axis.name(), measured.slope(), expected.slope(), measured.r2(), counted.slope()));
            if (axis.name().equals("T_fast")) tFastMs = ms;
        }
        Path png = plot(axes.getFirst().values(), tFastMs);
        lines.forEach(System.out::println);
        System.out.println("scaling plot (fast-fit time vs T_fast): " + png.toAbsolutePath());
    }

    /** Spec section 4's cost of a fast fit, L * T_fast * (N^2 H + N N_z H + N H^2), constants left out. */
    static double formulaCost(LtmFixture.Size s, int tFast) {
        double n = s.seqLen(), h = s.width();
        return (double) s.layers() * tFast * (n * n * h + n * s.latents() * h + n * h * h);
    }

    private static LtmFixture.Size size(int layers, int width, int seqLen, int latents) {
        return new LtmFixture.Size(0, width, layers, HEADS, latents, seqLen, BATCH);
    }

    /** Compiles the hot paths: every point's fit, for at least 5 s in all. */
    private static void warmUp(List<FastFitter[]> fitters, List<LtmFixture[]> fixtures) {
        long end = System.nanoTime() + 5_000_000_000L;
        do {
            for (int a = 0; a < fitters.size(); a++) {
                for (int i = 0; i < fitters.get(a).length; i++) fitters.get(a)[i].fit(fixtures.get(a)[i].batch(), new Rng(i));
            }
        } while (System.nanoTime() < end);
    }

    /** Mean milliseconds per fit over consecutive fits that take at least MIN_BATCH_MS together. */
    private static double timeFit(FastFitter fitter, LtmFixture fx) {
        long t0 = System.nanoTime(), minNs = MIN_BATCH_MS * 1_000_000L;
        int fits = 0;
        do {
            fitter.fit(fx.batch(), new Rng(fits));
            fits++;
        } while (System.nanoTime() - t0 < minNs);
        return (System.nanoTime() - t0) / 1e6 / fits;
    }

    private LtmFixture.Size withVocab(LtmFixture.Size s) {
        return new LtmFixture.Size(vocab, s.width(), s.layers(), s.heads(), s.latents(), s.seqLen(), s.batch());
    }

    /** Least squares of log y on log x: the slope is the exponent of y ~ x^slope. */
    static Fit logLogFit(double[] x, double[] y) {
        int n = x.length;
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++) {
            mx += Math.log(x[i]) / n;
            my += Math.log(y[i]) / n;
        }
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++) {
            double dx = Math.log(x[i]) - mx, dy = Math.log(y[i]) - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        double slope = sxy / sxx;
        double r2 = syy == 0 ? 1 : sxy * sxy / (sxx * syy);
        return new Fit(slope, my - slope * mx, r2);
    }

    /** Time against T_fast, measured points and the fitted power law. */
    private Path plot(int[] tFast, double[] ms) {
        double[] x = new double[tFast.length];
        for (int i = 0; i < x.length; i++) x[i] = tFast[i];
        Fit f = logLogFit(x, ms);
        double[] fitted = new double[x.length];
        for (int i = 0; i < x.length; i++) fitted[i] = Math.exp(f.intercept() + f.slope() * Math.log(x[i]));
        XYChart chart = new XYChartBuilder().width(800).height(500)
                .title("Fast fit time vs T_fast (" + withVocab(size(L, H, N, NZ)) + ")")
                .xAxisTitle("T_fast (steps)").yAxisTitle("time per fit (ms)").build();
        chart.addSeries("measured (best of passes)", x, ms).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.addSeries(String.format(Locale.ROOT, "fit: time ~ T_fast^%.2f", f.slope()), x, fitted)
                .setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        try {
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            String name = out.toString();
            String base = name.toLowerCase(Locale.ROOT).endsWith(".png") ? name.substring(0, name.length() - 4) : name;
            BitmapEncoder.saveBitmap(chart, base, BitmapEncoder.BitmapFormat.PNG);
            return Path.of(base + ".png");
        } catch (IOException e) {
            throw new IllegalStateException("scaling: cannot write the plot " + out + ": " + e.getMessage(), e);
        }
    }
}
