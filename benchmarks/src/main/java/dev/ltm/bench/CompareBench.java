package dev.ltm.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ltm.bench.torch.TorchEngine;
import dev.ltm.bench.torch.TorchGeneration;
import dev.ltm.bench.torch.TorchLtm;
import dev.ltm.model.Generator;
import dev.ltm.model.Posterior;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.FastFitter;
import dev.ltm.tensor.Backend;
import dev.ltm.tensor.Gemm;
import dev.ltm.tensor.Parallel;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import java.util.Arrays;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bench compare}: our engine against PyTorch (DJL, same thread count, warm), timed
 * alternately in one run: an n^3 matmul, a whole fast fit, one dual-rate training step (fast
 * fit + slow step) of the same model from the same weights and the same posterior start, and
 * KV-cached sampling of one sequence given fitted thoughts. Prints, last, the four speed ratios
 * ours/pytorch (above 1: ours is faster).
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Side-by-side timing against PyTorch: matmul, fast fit, training step, generation; prints the speed ratios last.")
final class CompareBench implements Runnable {
    @Spec CommandSpec spec;

    @Option(names = "--layers", defaultValue = "4", description = "L (default ${DEFAULT-VALUE}).") int layers;
    @Option(names = "--width", defaultValue = "256", description = "H (default ${DEFAULT-VALUE}).") int width;
    @Option(names = "--heads", defaultValue = "4", description = "attention heads (default ${DEFAULT-VALUE}).") int heads;
    @Option(names = "--seq-len", defaultValue = "256", description = "N, tokens per sequence (default ${DEFAULT-VALUE}).") int seqLen;
    @Option(names = "--latents", defaultValue = "32", description = "N_z (default ${DEFAULT-VALUE}).") int latents;
    @Option(names = "--t-fast", defaultValue = "16", description = "T_fast (default ${DEFAULT-VALUE}).") int tFast;
    @Option(names = "--batch", defaultValue = "8", description = "sequences per batch (default ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--vocab", defaultValue = "258", description = "vocabulary, 258 = byte-level (default ${DEFAULT-VALUE}).") int vocab;
    @Option(names = "--gemm-size", defaultValue = "1024", description = "matmul m = n = k (default ${DEFAULT-VALUE}).") int gemmSize;
    @Option(names = "--rounds", defaultValue = "3",
            description = "alternating rounds per comparison (default ${DEFAULT-VALUE}).") int rounds;
    @Option(names = "--torch-prefix", description = "also let PyTorch's fast fit compute the z-independent prefix once per fit"
            + " (default: PyTorch runs the whole forward every step, weights not requiring grad).") boolean torchPrefix;
    @Option(names = "--device", defaultValue = "cpu",
            description = "backend of our side: cpu, opencl or opencl:N (default ${DEFAULT-VALUE}).")
    String device;
    @Option(names = "--only", defaultValue = "all", description = "all, gemm, fit, train or generate (default ${DEFAULT-VALUE}).")
    String only;

    private static final long SEED = 20260101L;
    private Backend backend;

    @Override public void run() {
        if (rounds < 1) throw new ParameterException(spec.commandLine(), "compare: --rounds must be >= 1, got " + rounds);
        if (!only.matches("all|gemm|fit|train|generate")) {
            throw new ParameterException(spec.commandLine(), "compare: --only must be all, gemm, fit, train or generate, got " + only);
        }
        int threads = Parallel.threads();
        try {
            backend = DeviceTiming.select(device);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "compare: " + e.getMessage());
        }
        LtmFixture.Size size = new LtmFixture.Size(vocab, width, layers, heads, latents, seqLen, batch);
        LtmFixture fx;
        try {
            fx = LtmFixture.of(size, SEED);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "compare: " + e.getMessage());
        }
        try (NDManager nd = TorchEngine.start(threads)) {
            System.out.printf(Locale.ROOT, "bench compare: ours on " + backend.name()
                    + " with %d threads (ltm.threads), pytorch %s on %d intra-op threads;"
                    + " OMP_WAIT_POLICY=%s; %d alternating rounds after warm-up; medians%n", threads, nd.getEngine().getVersion(),
                    TorchEngine.threads(), TorchEngine.ompWaitPolicy(), rounds);
            System.out.println("model: " + size + " T_fast=" + tFast + " window=full, pytorch fast fit "
                    + (torchPrefix ? "reuses the z-independent prefix" : "runs the whole forward each step")
                            + ", weights requires_grad=False");
            double r0 = Double.NaN, r1 = Double.NaN, r2 = Double.NaN, r3 = Double.NaN;
            if (only.equals("all") || only.equals("gemm")) r0 = gemm(nd).ratio();
            if (only.equals("all") || only.equals("fit")) r1 = fastFit(fx, nd).ratio();
            if (only.equals("all") || only.equals("train")) r2 = trainStep(fx, nd).ratio();
            if (only.equals("all") || only.equals("generate")) r3 = generation(size, nd).ratio();
            System.out.printf(Locale.ROOT, "gemm speed ratio ours/pytorch: %.2f; fast-fit speed ratio ours/pytorch: %.2f;"
                    + " train-step speed ratio ours/pytorch: %.2f; generation speed ratio ours/pytorch: %.2f%n", r0, r1, r2, r3);
        }
    }

    /** Gemm.sgemm on all threads against torch.matmul, n x n times n x n, the same random inputs. */
    private SideBySide.Result gemm(NDManager nd) {
        int n = gemmSize;
        Rng rng = new Rng(SEED);
        float[] a = new float[n * n], b = new float[n * n], c = new float[n * n];
        rng.fillUniform(a, -1, 1);
        rng.fillUniform(b, -1, 1);
        NDArray ta = nd.create(a, new Shape(n, n)), tb = nd.create(b, new Shape(n, n));
        // 40 warm-up calls of each: with 5, C2 was still compiling Gemm's blocked driver (it is entered
        // once per call, so it is hot late) during round 2, on one of the two cores being timed.
        SideBySide.Result r = SideBySide.run("matmul " + n + "^3", 40, rounds, 5,
                DeviceTiming.isCpu(backend) ? () -> Gemm.sgemm(false, false, n, n, n, a, 0, n, b, 0, n, c, 0, n, false)
                        : gemmOn(backend, a, b, n),
                () -> ta.matMul(tb).close());
        System.out.println(r.line() + String.format(Locale.ROOT, "; %.1f vs %.1f GFLOP/s",
                2.0 * n * n * n / (r.oursMs() * 1e6), 2.0 * n * n * n / (r.theirsMs() * 1e6)));
        ta.close();
        tb.close();
        return r;
    }

    /** An n^3 matmul on a device backend, inputs resident there, waiting for the result each time. */
    private static Runnable gemmOn(Backend backend, float[] a, float[] b, int n) {
        Tensor ta = Tensor.of(a, n, n).to(backend), tb = Tensor.of(b, n, n).to(backend);
        return () -> {
            ta.matmul(tb);
            DeviceTiming.finish(backend);
        };
    }

    /** FastFitter.fit against TorchLtm.fastFit from the same weights and posterior start. */
    private SideBySide.Result fastFit(LtmFixture fx, NDManager nd) {
        FastFitter.Settings fast = FastFitter.Settings.defaults().withSteps(tFast);
        FastFitter fitter = new FastFitter(fx.model().to(backend), fast);
        TorchLtm torch = new TorchLtm(fx.config(), fx.model().parameters(), trainSettings(), torchPrefix, nd);
        Posterior start = Posterior.init(fx.config(), batch, new Rng(SEED));
        Tensor mu = start.mu().value(), logvar = start.logvar().value(), eps = start.eps();
        // The two fits must compute the same thing: check the bound before timing anything.
        double ours = fitter.fit(fx.batch(), new Rng(SEED)).elbo().totalNelbo();
        double theirs = torch.fastFit(fx.batch(), mu, logvar, eps, fast).nelbo();
        System.out.printf(Locale.ROOT, "fast fit check: NELBO per token ours %.6f, pytorch %.6f (relative difference %.1e)%n",
                ours / fx.batch().tokenCount(), theirs / fx.batch().tokenCount(), Math.abs(ours - theirs) / Math.abs(theirs));
        SideBySide.Result r = SideBySide.run("fast fit", 1, rounds, 1,
                () -> {
                    fitter.fit(fx.batch(), new Rng(SEED));
                    DeviceTiming.finish(backend);
                },
                () -> torch.fastFit(fx.batch(), mu, logvar, eps, fast));
        System.out.println(r.line());
        return r;
    }

    /** DualRateTrainer.step against TorchLtm.trainStep, both from the same weights, each fit started as the trainer starts it. */
    private SideBySide.Result trainStep(LtmFixture fx, NDManager nd) {
        DualRateTrainer.Settings settings = trainSettings();
        LtmFixture fresh = LtmFixture.of(new LtmFixture.Size(vocab, width, layers, heads, latents, seqLen, batch), SEED);
        DualRateTrainer trainer = new DualRateTrainer(fresh.model().to(backend), settings);
        TorchLtm torch = new TorchLtm(fresh.config(), fresh.model().parameters(), settings, torchPrefix, nd);
        int[] torchSteps = {0};
        Runnable theirs = () -> {
            Posterior start = Posterior.init(fresh.config(), batch, DualRateTrainer.fitRng(settings.seed(), torchSteps[0]++));
            torch.trainStep(fresh.batch(), start.mu().value(), start.logvar().value(), start.eps());
        };
        // The first step of each from the same weights: the same loss and gradient norm.
        TorchLtm.Step t0;
        Posterior start = Posterior.init(fresh.config(), batch, DualRateTrainer.fitRng(settings.seed(), torchSteps[0]++));
        t0 = torch.trainStep(fresh.batch(), start.mu().value(), start.logvar().value(), start.eps());
        DualRateTrainer.Step o0 = trainer.step(fresh.batch());
        System.out.printf(Locale.ROOT, "train step check (step 1): loss ours %.6f, pytorch %.6f; grad norm ours %.6f, pytorch %.6f%n",
                o0.loss(), t0.loss(), o0.gradNorm(), t0.gradNorm());
        SideBySide.Result r = SideBySide.run("train step", 1, rounds, 1, () -> {
            trainer.step(fresh.batch());
            DeviceTiming.finish(backend);
        }, theirs);
        System.out.println(r.line());
        return r;
    }

    /**
     * Generator.generate against TorchGeneration.generate: 256 tokens sampled for one sequence after a
     * one-token prompt, z fitted to that sequence by our fast fit, both with the KV cache and the same
     * Sampling and seed (so the same tokens where the logits agree).
     */
    private SideBySide.Result generation(LtmFixture.Size size, NDManager nd) {
        GenerationWorkload g = GenerationWorkload.of(size, tFast, SEED);
        Generator ours = new Generator(g.fixture().model().to(backend));
        Tensor z = g.z().to(backend);
        TorchGeneration torch = new TorchGeneration(g.fixture().config(), g.fixture().model().parameters(), nd);
        int[] a = ours.generate(g.prompt(), z, g.newTokens(), GenerationWorkload.SAMPLING, new Rng(SEED), -1);
        int[] b = torch.generate(g.prompt(), g.z(), g.newTokens(), GenerationWorkload.SAMPLING, new Rng(SEED));
        int same = 0;
        while (same < Math.min(a.length, b.length) && a[same] == b[same]) same++;
        System.out.printf(Locale.ROOT, "generation check: %d tokens each, first %d equal (ours %s..., pytorch %s...)%n", a.length,
                same, Arrays.toString(Arrays.copyOf(a, 8)), Arrays.toString(Arrays.copyOf(b, 8)));
        SideBySide.Result r = SideBySide.run("generation of " + g.newTokens() + " tokens", 2, rounds, 3,
                () -> ours.generate(g.prompt(), z, g.newTokens(), GenerationWorkload.SAMPLING, new Rng(SEED), -1),
                () -> torch.generate(g.prompt(), g.z(), g.newTokens(), GenerationWorkload.SAMPLING, new Rng(SEED)));
        System.out.println(r.line() + String.format(Locale.ROOT, "; %.0f vs %.0f tokens/s",
                g.newTokens() * 1000.0 / r.oursMs(), g.newTokens() * 1000.0 / r.theirsMs()));
        return r;
    }

    private DualRateTrainer.Settings trainSettings() {
        return DualRateTrainer.Settings.defaults(2, 1000, SEED).withFast(FastFitter.Settings.defaults().withSteps(tFast));
    }
}
