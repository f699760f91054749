package dev.ltm.bench;

import dev.ltm.model.Generator;
import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.Sampling;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.FastFitter;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bench profile}: our side only, in a steady loop, for a profiler to attach to (JFR,
 * {@code perf record}, {@code perf stat}): a fast fit, a dual-rate training step or a KV-cached
 * generation, after warm-up calls that let C2 compile the kernels. Prints the mean time per call.
 */
@Command(name = "profile", mixinStandardHelpOptions = true,
        description = "Runs one workload of ours (fit, train or generate) in a loop, for a profiler; prints the mean ms per call.")
final class ProfileBench implements Runnable {
    @Spec CommandSpec spec;

    @Option(names = "--what", defaultValue = "fit", description = "fit, train or generate (default ${DEFAULT-VALUE}).") String what;
    @Option(names = "--layers", defaultValue = "4", description = "L (default ${DEFAULT-VALUE}).") int layers;
    @Option(names = "--width", defaultValue = "256", description = "H (default ${DEFAULT-VALUE}).") int width;
    @Option(names = "--heads", defaultValue = "4", description = "attention heads (default ${DEFAULT-VALUE}).") int heads;
    @Option(names = "--seq-len", defaultValue = "256", description = "N (default ${DEFAULT-VALUE}).") int seqLen;
    @Option(names = "--latents", defaultValue = "32", description = "N_z (default ${DEFAULT-VALUE}).") int latents;
    @Option(names = "--t-fast", defaultValue = "16", description = "T_fast (default ${DEFAULT-VALUE}).") int tFast;
    @Option(names = "--batch", defaultValue = "8", description = "sequences per batch (default ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--vocab", defaultValue = "258", description = "vocabulary (default ${DEFAULT-VALUE}).") int vocab;
    @Option(names = "--warmup", defaultValue = "3", description = "untimed calls first (default ${DEFAULT-VALUE}).") int warmup;
    @Option(names = "--calls", defaultValue = "5", description = "timed calls (default ${DEFAULT-VALUE}).") int calls;
    @Option(names = "--ops", description = "also time every backend op on the clock and print, per call, each op's ms,"
            + " share, calls and mean us (matmuls by shape, with GFLOP/s); a fit then runs whole, not as one sub-batch"
            + " per thread, as ops are timed one at a time.") boolean ops;

    private static final long SEED = 20260101L;

    @Override public void run() {
        if (!what.matches("fit|train|generate")) {
            throw new ParameterException(spec.commandLine(), "profile: --what must be fit, train or generate, got " + what);
        }
        if (warmup < 0 || calls < 1) {
            throw new ParameterException(spec.commandLine(), "profile: need --warmup >= 0 and --calls >= 1, got " + warmup + ", " + calls);
        }
        LtmFixture.Size size = new LtmFixture.Size(vocab, width, layers, heads, latents, seqLen, batch);
        LtmFixture fx = LtmFixture.of(size, SEED);
        TimedBackend timed = ops ? new TimedBackend() : null;
        Runnable body = switch (what) {
            case "fit" -> {
                FastFitter fitter = new FastFitter(on(timed, fx.model()), FastFitter.Settings.defaults().withSteps(tFast));
                yield () -> fitter.fit(fx.batch(), new Rng(SEED));
            }
            case "train" -> {
                DualRateTrainer trainer = new DualRateTrainer(on(timed, fx.model()),
                        DualRateTrainer.Settings.defaults(2, 1000, SEED).withFast(FastFitter.Settings.defaults().withSteps(tFast)));
                yield () -> trainer.step(fx.batch());
            }
            default -> {
                GenerationWorkload g = GenerationWorkload.of(size, tFast, SEED);
                Generator gen = new Generator(on(timed, g.fixture().model()));
                Tensor z = timed == null ? g.z() : g.z().to(timed);
                yield () -> gen.generate(g.prompt(), z, g.newTokens(), GenerationWorkload.SAMPLING, new Rng(SEED), -1);
            }
        };
        for (int i = 0; i < warmup; i++) body.run();
        if (timed != null) timed.reset();
        double[] each = new double[calls];
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            long c0 = System.nanoTime();
            body.run();
            each[i] = (System.nanoTime() - c0) / 1e6;
        }
        double ms = (System.nanoTime() - t0) / 1e6 / calls;
        double[] sorted = each.clone();
        java.util.Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "profile %s %s T_fast=%d: %.2f ms per call (mean of %d after %d warm-up; min %.2f, median %.2f, max %.2f)%n",
                what, size, tFast, ms, calls, warmup, sorted[0], sorted[calls / 2], sorted[calls - 1]);
        if (timed != null) System.out.print(timed.table(calls, ms));
    }

    private static LatentThoughtModel on(TimedBackend timed, LatentThoughtModel model) { return timed == null ? model : model.to(timed); }
}
