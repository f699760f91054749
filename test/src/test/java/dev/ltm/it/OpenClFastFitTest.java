package dev.ltm.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ltm.autograd.Tape;
import dev.ltm.autograd.Var;
import dev.ltm.gpu.OpenClBackend;
import dev.ltm.gpu.OpenClRuntime;
import dev.ltm.model.Elbo;
import dev.ltm.model.Generator;
import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.Params;
import dev.ltm.model.Sampling;
import dev.ltm.model.TokenBatch;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.FastFitter;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The whole model on the OpenCL backend against the CPU backend: a fast fit gives the same NELBO,
 * a dual-rate step the same loss, gradients and weights, and a fit's steps keep activations on the device.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenClFastFitTest {
    private static final LtmConfig CONFIG = LtmConfig.builder().vocabSize(61).width(16).layers(2).heads(4).kvHeads(2).latentCount(6)
            .maxSeqLen(17).window(5).initStd(0.1f).build();
    private OpenClBackend cl;

    @BeforeAll
    void open() {
        OpenClRuntime.Availability a = OpenClRuntime.available();
        if (!a.present()) System.out.println("Skipping OpenCL fast-fit tests: " + a.reason());
        assumeTrue(a.present(), () -> "no OpenCL device: " + a.reason());
        cl = OpenClBackend.open(0);
    }

    @AfterAll
    void close() {
        if (cl != null) cl.close();
    }

    private static TokenBatch batch(Rng rng, int b, int t, int vocab) {
        int[][] seqs = new int[b][t + 1];
        for (int[] row : seqs) for (int i = 0; i < row.length; i++) row[i] = rng.nextInt(vocab);
        seqs[b - 1][t] = -1; // one padded target
        return TokenBatch.shifted(seqs);
    }

    @Test
    void fastFitGivesTheSameBoundOnBothBackends() {
        Rng rng = new Rng(11);
        LatentThoughtModel cpu = new LatentThoughtModel(CONFIG, rng);
        LatentThoughtModel dev = cpu.to(cl);
        assertThat(dev.backend()).isSameAs(cl);
        TokenBatch batch = batch(rng, 3, 13, CONFIG.vocabSize());
        FastFitter.Settings settings = FastFitter.Settings.defaults();

        long t0 = System.nanoTime();
        FastFitter.Result a = new FastFitter(cpu, settings).fit(batch, new Rng(5));
        long t1 = System.nanoTime();
        FastFitter.Result b = new FastFitter(dev, settings).fit(batch, new Rng(5));
        long t2 = System.nanoTime();
        System.out.printf("fast fit (T_fast %d, B 3, T 13, L 2, H 16): cpu %.1f ms, %s %.1f ms (first, with kernel builds)%n",
                settings.steps(), (t1 - t0) / 1e6, cl.name(), (t2 - t1) / 1e6);

        assertThat(b.mu().backend()).as("the fit's result stays on the device").isSameAs(cl);
        double want = a.elbo().totalNelbo(), got = b.elbo().totalNelbo();
        assertThat(Math.abs(got - want) / Math.abs(want)).as("NELBO cpu %s vs opencl %s", want, got).isLessThan(1e-4);
        for (int i = 0; i < 3; i++) {
            assertThat(b.elbo().nelbo(i)).as("NELBO of sequence %d", i).isCloseTo(a.elbo().nelbo(i),
                    within(1e-4 * Math.abs(a.elbo().nelbo(i))));
        }
        assertThat(a.elbo().totalKl()).isGreaterThan(0);
        assertClose("mu", b.mu().toArray(), a.mu().toArray(), 1e-3);

        for (int rep = 0; rep < 2; rep++) {
            long t3 = System.nanoTime();
            new FastFitter(cpu, settings).fit(batch, new Rng(5));
            long t4 = System.nanoTime();
            new FastFitter(dev, settings).fit(batch, new Rng(5));
            System.out.printf("fast fit again: cpu %.1f ms, %s %.1f ms%n", (t4 - t3) / 1e6, cl.name(), (System.nanoTime() - t4) / 1e6);
        }
    }

    @Test
    void dualRateStepAgreesOnBothBackends() {
        Rng rng = new Rng(23);
        LatentThoughtModel cpu = new LatentThoughtModel(CONFIG, rng);
        LatentThoughtModel dev = cpu.to(cl);
        TokenBatch batch = batch(rng, 2, 11, CONFIG.vocabSize());

        // The slow loss's weight gradients given one z, before any update.
        Tensor z = Tensor.randn(new Rng(3), 0, 1, 2, CONFIG.layers(), CONFIG.latentsPerLayer(), CONFIG.width());
        Params pc = Params.trainable(cpu), pd = Params.trainable(dev);
        Var lc = Elbo.nllSum(cpu.logits(pc, batch.inputs(), Var.constant(z)), batch);
        Var ld = Elbo.nllSum(dev.logits(pd, batch.inputs(), Var.constant(z.to(cl))), batch);
        Tape.backward(lc);
        Tape.backward(ld);
        assertThat((double) ld.value().item()).isCloseTo(lc.value().item(), within(1e-4 * Math.abs(lc.value().item())));
        pc.grads().forEach((name, g) -> {
            float[] want = g.toArray(), got = pd.grads().get(name).toArray();
            double scale = 0;
            for (float x : want) scale = Math.max(scale, Math.abs(x));
            assertClose("grad " + name, got, want, 1e-3 * Math.max(scale, 1e-6));
        });

        DualRateTrainer.Settings s = DualRateTrainer.Settings.defaults(0, 10, 42)
                .withFast(FastFitter.Settings.defaults().withSteps(4));
        DualRateTrainer.Step a = new DualRateTrainer(cpu, s).step(batch);
        DualRateTrainer.Step b = new DualRateTrainer(dev, s).step(batch);
        assertThat(b.loss()).isCloseTo(a.loss(), within(1e-3 * a.loss()));
        assertThat(b.gradNorm()).isCloseTo(a.gradNorm(), within(1e-3 * a.gradNorm()));
        assertThat(b.nelboPerToken()).isCloseTo(a.nelboPerToken(), within(1e-3 * a.nelboPerToken()));
        cpu.parameters().forEach((name, w) ->
                assertClose("weight " + name + " after the step", dev.parameters().get(name).toArray(), w.toArray(), 1e-3));
    }

    @Test
    void fitStepsDoNotBringActivationsToTheHost() {
        // Transfers per fast-fit step, measured as the difference between fits of 2 and 6 steps, are
        // none: the loss, its seed gradient and the cross-entropy's row scales all stay on the device.
        long[] perStep = new long[2];
        int[] layers = {1, 3};
        for (int i = 0; i < layers.length; i++) {
            LtmConfig c = LtmConfig.builder().vocabSize(61).width(16).layers(layers[i]).heads(4).kvHeads(2).latentCount(3 * layers[i])
                    .maxSeqLen(17).window(5).build();
            Rng rng = new Rng(31);
            LatentThoughtModel m = new LatentThoughtModel(c, rng).to(cl);
            TokenBatch batch = batch(rng, 2, 9, c.vocabSize());
            new FastFitter(m, FastFitter.Settings.defaults().withSteps(1)).fit(batch, new Rng(1)); // weights now on the device
            long[] total = new long[2];
            int[] steps = {2, 6};
            for (int j = 0; j < 2; j++) {
                long before = cl.transfers().total();
                new FastFitter(m, FastFitter.Settings.defaults().withSteps(steps[j])).fit(batch, new Rng(1));
                total[j] = cl.transfers().total() - before;
            }
            perStep[i] = (total[1] - total[0]) / (steps[1] - steps[0]);
            System.out.printf("fast fit with %d layer(s): %d host<->device transfers per step, %d for a 2-step fit%n",
                    layers[i], perStep[i], total[0]);
        }
        assertThat(perStep[0]).as("transfers per step, 1 layer").isZero();
        assertThat(perStep[1]).as("transfers per step, 3 layers vs 1").isEqualTo(perStep[0]);
    }

    @Test
    void generationKeepsTheKvCacheOnTheDevice() {
        // The same greedy tokens as on the CPU, and host<->device transfers per new token (measured as
        // the difference between 4 and 12 new tokens) that do not grow with the layers: each layer's
        // new K/V rows are written into the cache on the device; only the token, its position and the
        // logits cross.
        long[] perToken = new long[2];
        int[] layers = {1, 3};
        int[] prompt = {1, 2, 3};
        for (int i = 0; i < layers.length; i++) {
            LtmConfig c = LtmConfig.builder().vocabSize(61).width(16).layers(layers[i]).heads(4).kvHeads(2).latentCount(3 * layers[i])
                    .maxSeqLen(40).window(5).initStd(0.3f).build();
            LatentThoughtModel cpu = new LatentThoughtModel(c, new Rng(7));
            Generator onDevice = new Generator(cpu.to(cl));
            Tensor z = Tensor.randn(new Rng(3), 0, 1, 1, c.layers(), c.latentsPerLayer(), c.width());
            int[] want = new Generator(cpu).generate(prompt, z, 12, Sampling.greedy(), new Rng(5), -1);
            int[] got = onDevice.generate(prompt, z.to(cl), 12, Sampling.greedy(), new Rng(5), -1);
            assertThat(got).as("greedy tokens on %s vs cpu, %d layer(s)", cl.name(), layers[i]).containsExactly(want);
            long[] total = new long[2];
            int[] tokens = {4, 12};
            for (int j = 0; j < 2; j++) {
                Tensor zd = z.to(cl);
                long before = cl.transfers().total();
                onDevice.generate(prompt, zd, tokens[j], Sampling.greedy(), new Rng(5), -1);
                total[j] = cl.transfers().total() - before;
            }
            perToken[i] = (total[1] - total[0]) / (tokens[1] - tokens[0]);
            System.out.printf("generation with %d layer(s): %d host<->device transfers per token%n", layers[i], perToken[i]);
        }
        assertThat(perToken[1]).as("transfers per token, 3 layers vs 1").isEqualTo(perToken[0]);
        assertThat(perToken[0]).as("transfers per token: token id, position, logits").isLessThanOrEqualTo(3);
    }

    private static void assertClose(String what, float[] got, float[] want, double tol) {
        assertThat(got).as(what + " length").hasSize(want.length);
        for (int i = 0; i < want.length; i++) {
            assertThat((double) got[i]).as("%s[%d]", what, i).isCloseTo(want[i], within(tol * Math.max(1.0, Math.abs(want[i]))));
        }
    }
}
