package dev.ltm.it;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.ltm.autograd.Ops;
import dev.ltm.autograd.Tape;
import dev.ltm.autograd.Var;
import dev.ltm.bench.torch.TorchEngine;
import dev.ltm.bench.torch.TorchLtm;
import dev.ltm.model.Elbo;
import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.Params;
import dev.ltm.model.Posterior;
import dev.ltm.model.TokenBatch;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.FastFitter;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Our whole LTM against {@link TorchLtm}, the same model written in PyTorch ops, with identical
 * weights: logits, NELBO, d/dmu and d/dlogvar of the fast fit's loss, and d/dweight of the slow
 * step's loss to 1e-4 relative; and one whole dual-rate step (a fast fit of T_fast AdamW steps,
 * then one clipped slow AdamW step) to 1e-3 relative, the Torch side with a hand-written AdamW of
 * torch.optim.AdamW semantics. Relative error as in {@link Parity#relErr}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ModelParityTest {
    static final double TRAJECTORY_TOLERANCE = 1e-3;
    private final Parity.Worst worst = new Parity.Worst();

    /** A configuration under test and the batch shape it runs on. */
    record Case(String name, LtmConfig config, int batch, int length, boolean padded) {
        @Override public String toString() { return name; }
    }

    static Stream<Case> cases() {
        return Stream.of(
                // vocab, width, layers, heads, kvHeads, N_z, maxSeqLen, window (0 = full causal)
                new Case("full attention", LtmConfig.builder().vocabSize(29).width(16).layers(2).heads(4).latentCount(6).maxSeqLen(16)
                        .build(), 2, 11, false),
                new Case("windowed attention", LtmConfig.builder().vocabSize(31).width(16).layers(2).heads(4).latentCount(4).maxSeqLen(16)
                        .window(3).build(), 2, 12, false),
                new Case("N_z = 0", LtmConfig.builder().vocabSize(23).width(16).layers(2).heads(2).maxSeqLen(16).window(5)
                        .build(), 2, 9, false),
                new Case("grouped K/V heads", LtmConfig.builder().vocabSize(29).width(24).layers(2).heads(6).kvHeads(2).latentCount(6)
                        .maxSeqLen(20).window(4).build(), 2, 10, false),
                new Case("odd sizes, padded", LtmConfig.builder().vocabSize(37).width(24).layers(3).heads(3).kvHeads(1).latentCount(9)
                        .maxSeqLen(17).window(5).build(), 3, 13, true));
    }

    @AfterAll
    void printWorst() { System.out.print(worst.report("ModelParityTest")); }

    // ---- one forward and backward ------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void logitsBoundAndGradientsMatchTorch(Case c) {
        Inputs in = inputs(c);
        compare(c, oursForwardBackward(c, in), torchForwardBackward(c, in), Parity.TOLERANCE);
    }

    /** One named value the tests compare: {@code quantity} for the worst-error report, {@code what} (a weight's name) or "". */
    record Quantity(String quantity, String what) {
        static Quantity of(String quantity) { return new Quantity(quantity, ""); }

        @Override public String toString() { return what.isEmpty() ? quantity : quantity + " " + what; }
    }

    /** The inputs of one forward and backward: random weights, a batch, and a posterior far from the prior. */
    record Inputs(LinkedHashMap<String, Tensor> weights, TokenBatch batch, Tensor mu, Tensor logvar, Tensor eps) {}

    /** Case c's inputs from its own seed: every call gives the same values. */
    static Inputs inputs(Case c) {
        LtmConfig cfg = c.config();
        Rng rng = new Rng(1000 + c.name().hashCode());
        LinkedHashMap<String, Tensor> weights = randomWeights(cfg, rng);
        TokenBatch batch = batch(rng, c);
        int[] zDims = {c.batch(), cfg.layers(), cfg.latentsPerLayer(), cfg.width()};
        // A posterior far from the prior, so that z matters and every term of the bound is visible.
        Tensor mu = Tensor.randn(rng, 0, 0.7, zDims), logvar = Tensor.randn(rng, -1, 0.4, zDims), eps = Tensor.randn(rng, 0, 1, zDims);
        return new Inputs(weights, batch, mu, logvar, eps);
    }

    /**
     * Our side of one forward and backward: logits (full and from the prefix), NELBO per sequence,
     * d/dmu and d/dlogvar of the fast fit's loss (sum over the batch of NLL sum + KL, frozen weights),
     * the slow loss (mean NLL per predicted token, z fixed) and its gradient to every weight.
     */
    static LinkedHashMap<Quantity, float[]> oursForwardBackward(Case c, Inputs in) {
        LtmConfig cfg = c.config();
        TokenBatch batch = in.batch();
        LatentThoughtModel model = new LatentThoughtModel(cfg, copy(in.weights()));
        LinkedHashMap<Quantity, float[]> out = new LinkedHashMap<>();

        // Fast side: frozen weights.
        Params frozen = Params.frozen(model);
        Posterior q = Posterior.of(Var.param(in.mu().copy()), Var.param(in.logvar().copy()), in.eps());
        Var zOurs = cfg.latentCount() == 0 ? null : q.z();
        Var logits = model.logits(frozen, batch.inputs(), zOurs);
        Var prefixLogits = model.logitsFromPrefix(model.prefix(frozen, batch.inputs()), frozen, zOurs);
        Elbo elbo = Elbo.measure(logits, batch, q);
        if (cfg.latentCount() > 0) Tape.backward(Elbo.negativeBound(logits, batch, q));
        out.put(Quantity.of("logits"), logits.value().toArray());
        out.put(Quantity.of("logits from prefix"), prefixLogits.value().toArray());
        float[] nelbo = new float[c.batch()];
        for (int i = 0; i < nelbo.length; i++) nelbo[i] = (float) elbo.nelbo(i);
        out.put(Quantity.of("NELBO"), nelbo);
        if (cfg.latentCount() > 0) {
            out.put(Quantity.of("d/dmu"), q.mu().grad().toArray());
            out.put(Quantity.of("d/dlogvar"), q.logvar().grad().toArray());
        }

        // Slow side: every weight trainable, mean NLL per predicted token given z fixed.
        Params trainable = Params.trainable(model);
        Var zFixed = cfg.latentCount() == 0 ? null : Var.constant(zOurs.value());
        Var slowLoss = Ops.scale(Elbo.nllSum(model.logits(trainable, batch.inputs(), zFixed), batch), 1f / batch.tokenCount());
        Tape.backward(slowLoss);
        out.put(Quantity.of("slow loss"), new float[] {slowLoss.value().item()});
        trainable.grads().forEach((name, g) -> {
            assertThat(g).as(c + ": gradient of " + name).isNotNull();
            out.put(new Quantity("d/dweight", name), g.toArray());
        });
        return out;
    }

    /** The same quantities as {@link #oursForwardBackward} from {@link TorchLtm} and PyTorch's autograd. */
    static LinkedHashMap<Quantity, float[]> torchForwardBackward(Case c, Inputs in) {
        LtmConfig cfg = c.config();
        TokenBatch batch = in.batch();
        LinkedHashMap<Quantity, float[]> out = new LinkedHashMap<>();
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            TorchLtm torch = new TorchLtm(cfg, in.weights(), m);
            Map<String, NDArray> w = torch.weights();
            NDArray tMu = TorchEngine.nd(m, in.mu()), tLogvar = TorchEngine.nd(m, in.logvar()), tEps = TorchEngine.nd(m, in.eps());
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                tMu.setRequiresGradient(true);
                tLogvar.setRequiresGradient(true);
                NDArray z = cfg.latentCount() == 0 ? null : TorchLtm.z(tMu, tLogvar, tEps);
                NDArray tLogits = torch.logits(batch.inputs(), z);
                NDArray nll = TorchLtm.nllPerSequence(m, tLogits, batch.targets());
                NDArray nelbo = nll.add(TorchLtm.klPerSequence(tMu, tLogvar));
                out.put(Quantity.of("logits"), tLogits.toFloatArray());
                out.put(Quantity.of("logits from prefix"), tLogits.toFloatArray());
                out.put(Quantity.of("NELBO"), nelbo.toFloatArray());
                if (cfg.latentCount() > 0) {
                    Parity.backward(gc, nelbo.sum());
                    out.put(Quantity.of("d/dmu"), tMu.getGradient().toFloatArray());
                    out.put(Quantity.of("d/dlogvar"), tLogvar.getGradient().toFloatArray());
                }
            }
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                w.values().forEach(a -> a.setRequiresGradient(true));
                NDArray z = cfg.latentCount() == 0 ? null : TorchLtm.z(fresh(m, tMu), fresh(m, tLogvar), tEps);
                NDArray nll = TorchLtm.nllPerSequence(m, torch.logits(batch.inputs(), z), batch.targets());
                NDArray loss = TorchEngine.div(nll.sum(), batch.tokenCount());
                out.put(Quantity.of("slow loss"), new float[] {loss.getFloat()});
                Parity.backward(gc, loss);
                w.forEach((name, a) -> out.put(new Quantity("d/dweight", name), a.getGradient().toFloatArray()));
            }
        }
        return out;
    }

    // ---- one whole dual-rate step ------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void fastFitThenSlowStepFollowsTorch(Case c) {
        StepInputs in = stepInputs(c);
        LinkedHashMap<Quantity, float[]> ours = oursStep(c, in);
        compare(c, ours, torchStep(c, in), TRAJECTORY_TOLERANCE);
        in.weights().forEach((name, w) -> {
            // The step must have moved the weight, or the comparison of the updated weights says nothing.
            assertThat(Parity.relErr(ours.get(new Quantity("updated weight", name)), w.data())).as(c + ": " + name + " moved")
                    .isGreaterThan(3 * TRAJECTORY_TOLERANCE);
        });
    }

    /** The T_fast, learning rates and seed of the dual-rate step the second test compares. */
    static final int STEP_T_FAST = 4;
    static final float STEP_FAST_LR = 0.3f, STEP_SLOW_LR = 1e-2f;
    static final long STEP_SEED = 77;

    /** The inputs of one dual-rate step: the initial weights and a batch. */
    record StepInputs(LinkedHashMap<String, Tensor> weights, TokenBatch batch) {}

    /** Case c's step inputs from their own seed: every call gives the same values. */
    static StepInputs stepInputs(Case c) {
        Rng rng = new Rng(2000 + c.name().hashCode());
        LinkedHashMap<String, Tensor> weights = randomWeights(c.config(), rng);
        return new StepInputs(weights, batch(rng, c));
    }

    /**
     * Our side of one dual-rate step: the fitted mu and logvar, the fit's NELBO per sequence, the
     * step's NELBO/token, slow loss and gradient norm, and every updated weight.
     */
    static LinkedHashMap<Quantity, float[]> oursStep(Case c, StepInputs in) {
        LtmConfig cfg = c.config();
        FastFitter.Settings fast = FastFitter.Settings.defaults().withSteps(STEP_T_FAST).withLr(STEP_FAST_LR);
        // Warm-up 0: the first slow step runs at the peak lr.
        DualRateTrainer.Settings settings = DualRateTrainer.Settings.defaults(0, 10, STEP_SEED).withPeakLr(STEP_SLOW_LR).withFast(fast);
        // The fit on its own (to see mu, logvar, NELBO), then the trainer's step, which repeats the same fit.
        FastFitter.Result fit = new FastFitter(new LatentThoughtModel(cfg, copy(in.weights())), fast)
                .fit(in.batch(), DualRateTrainer.fitRng(STEP_SEED, 0));
        LatentThoughtModel model = new LatentThoughtModel(cfg, copy(in.weights()));
        DualRateTrainer.Step step = new DualRateTrainer(model, settings).step(in.batch());
        LinkedHashMap<Quantity, float[]> out = new LinkedHashMap<>();
        if (cfg.latentCount() > 0) {
            out.put(Quantity.of("fit mu"), fit.mu().toArray());
            out.put(Quantity.of("fit logvar"), fit.logvar().toArray());
        }
        float[] nelbo = new float[c.batch()];
        for (int i = 0; i < nelbo.length; i++) nelbo[i] = (float) fit.elbo().nelbo(i);
        out.put(Quantity.of("fit NELBO"), nelbo);
        out.put(Quantity.of("step NELBO/token"), new float[] {(float) step.nelboPerToken()});
        out.put(Quantity.of("step slow loss"), new float[] {(float) step.loss()});
        out.put(Quantity.of("step grad norm"), new float[] {(float) step.gradNorm()});
        model.parameters().forEach((name, w) -> out.put(new Quantity("updated weight", name), w.toArray()));
        return out;
    }

    /** The same quantities as {@link #oursStep} from {@link TorchLtm}, {@link #torchFastFit} and {@link TorchAdamW}. */
    static LinkedHashMap<Quantity, float[]> torchStep(Case c, StepInputs in) {
        LtmConfig cfg = c.config();
        TokenBatch batch = in.batch();
        // The same start the fitter drew: mu, logvar, eps from the step's generator, in that order.
        Posterior start = Posterior.init(cfg, c.batch(), DualRateTrainer.fitRng(STEP_SEED, 0));
        LinkedHashMap<Quantity, float[]> out = new LinkedHashMap<>();
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            TorchLtm torch = new TorchLtm(cfg, in.weights(), m);
            Map<String, NDArray> w = torch.weights();
            NDArray mu = TorchEngine.nd(m, start.mu().value()), logvar = TorchEngine.nd(m, start.logvar().value());
            NDArray eps = TorchEngine.nd(m, start.eps());
            boolean latents = cfg.latentCount() > 0;

            if (latents) {
                NDArray[] fitted = torchFastFit(m, torch, batch, mu, logvar, eps, STEP_T_FAST, STEP_FAST_LR);
                mu = fitted[0];
                logvar = fitted[1];
            }
            NDArray z = latents ? TorchLtm.z(mu, logvar, eps) : null;
            NDArray nelbo = TorchLtm.nllPerSequence(m, torch.logits(batch.inputs(), z), batch.targets())
                    .add(TorchLtm.klPerSequence(mu, logvar));
            if (latents) {
                out.put(Quantity.of("fit mu"), mu.toFloatArray());
                out.put(Quantity.of("fit logvar"), logvar.toFloatArray());
            }
            out.put(Quantity.of("fit NELBO"), nelbo.toFloatArray());
            out.put(Quantity.of("step NELBO/token"), new float[] {(float) (nelbo.sum().getFloat() / batch.tokenCount())});

            // Slow learning: mean NLL given z fixed, clip at global norm 1, AdamW (0.9, 0.95), decay on matrices only.
            LinkedHashMap<String, NDArray> grads = new LinkedHashMap<>();
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                w.values().forEach(a -> a.setRequiresGradient(true));
                NDArray zFixed = z == null ? null : fresh(m, z);
                NDArray loss = TorchEngine.div(TorchLtm.nllPerSequence(m, torch.logits(batch.inputs(), zFixed), batch.targets())
                        .sum(), batch.tokenCount());
                Parity.backward(gc, loss);
                out.put(Quantity.of("step slow loss"), new float[] {loss.getFloat()});
                w.forEach((name, a) -> grads.put(name, fresh(m, a.getGradient())));
            }
            double sq = 0;
            for (NDArray g : grads.values()) sq += g.square().sum().getFloat();
            double norm = Math.sqrt(sq), coef = 1.0 / (norm + 1e-6);
            out.put(Quantity.of("step grad norm"), new float[] {(float) norm});
            TorchAdamW slowOpt = new TorchAdamW(0.9, 0.95, 1e-8);
            slowOpt.tick();
            for (var e : w.entrySet()) {
                NDArray g = coef < 1 ? grads.get(e.getKey()).mul((float) coef) : grads.get(e.getKey());
                double decay = e.getValue().getShape().dimension() >= 2 ? 0.1 : 0.0;
                NDArray updated = slowOpt.update(e.getKey(), fresh(m, e.getValue()), g, STEP_SLOW_LR, decay);
                out.put(new Quantity("updated weight", e.getKey()), updated.toFloatArray());
            }
        }
        return out;
    }

    /**
     * Fast learning in Torch: T_fast AdamW steps (betas 0.9/0.999, eps 1e-8, decay 0.01) on
     * sum over the batch of (NLL sum + KL) with respect to mu and logvar, at the spec's cosine lr.
     * Returns the final {mu, logvar}.
     */
    static NDArray[] torchFastFit(NDManager m, TorchLtm torch, TokenBatch batch, NDArray mu, NDArray logvar, NDArray eps,
                                  int tFast, float fastLr) {
        TorchAdamW opt = new TorchAdamW(0.9, 0.999, 1e-8);
        for (int s = 0; s < tFast; s++) {
            NDArray gMu, gLogvar;
            // Fresh leaves each step, and gradients copied out before the collector closes.
            mu = fresh(m, mu);
            logvar = fresh(m, logvar);
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                mu.setRequiresGradient(true);
                logvar.setRequiresGradient(true);
                NDArray logits = torch.logits(batch.inputs(), TorchLtm.z(mu, logvar, eps));
                NDArray loss = TorchLtm.nllPerSequence(m, logits, batch.targets()).add(TorchLtm.klPerSequence(mu, logvar)).sum();
                Parity.backward(gc, loss);
                gMu = fresh(m, mu.getGradient());
                gLogvar = fresh(m, logvar.getGradient());
            }
            double lr = fastLr / 10.0 + (fastLr - fastLr / 10.0) * (1 + Math.cos(Math.PI * s / tFast)) / 2;
            opt.tick();
            mu = opt.update("mu", fresh(m, mu), gMu, lr, 0.01);
            logvar = opt.update("logvar", fresh(m, logvar), gLogvar, lr, 0.01);
        }
        return new NDArray[] {mu, logvar};
    }

    /**
     * A new array with the values of {@code a}, through Java: no storage or autograd history shared.
     * Reusing getGradient().duplicate() and stopGradient() aliases across gradient collectors made
     * about 2% of repeated Torch fits differ from the first (once with a NaN); through Java, 0 of 199.
     * (Those runs still passed Number overloads to DJL, the cause found later: see TorchEngine#scalar.)
     */
    static NDArray fresh(NDManager m, NDArray a) { return TorchEngine.owned(m.create(a.toFloatArray(), a.getShape())); }

    /**
     * torch.optim.AdamW's update written out in NDArray ops: p *= 1 - lr*wd; m = b1 m + (1-b1) g;
     * v = b2 v + (1-b2) g^2; p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
     */
    static final class TorchAdamW {
        private final double beta1, beta2, eps;
        private final Map<String, NDArray> m = new LinkedHashMap<>(), v = new LinkedHashMap<>();
        private int t;

        TorchAdamW(double beta1, double beta2, double eps) {
            this.beta1 = beta1;
            this.beta2 = beta2;
            this.eps = eps;
        }

        /** Starts step t + 1 (bias corrections use the new t). */
        void tick() { t++; }

        NDArray update(String name, NDArray p, NDArray g, double lr, double weightDecay) {
            NDArray mPrev = m.getOrDefault(name, g.zerosLike()), vPrev = v.getOrDefault(name, g.zerosLike());
            NDArray mNew = mPrev.mul((float) beta1).add(g.mul((float) (1 - beta1)));
            NDArray vNew = vPrev.mul((float) beta2).add(g.square().mul((float) (1 - beta2)));
            m.put(name, mNew);
            v.put(name, vNew);
            double bc1 = 1 - Math.pow(beta1, t), bc2 = 1 - Math.pow(beta2, t);
            NDArray denom = vNew.sqrt().div((float) Math.sqrt(bc2)).add((float) eps);
            return p.mul((float) (1 - lr * weightDecay)).sub(mNew.div(denom).mul((float) (lr / bc1)));
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    /** Every quantity of ours against the same of Torch's (both sides name the same ones), in our order. */
    private void compare(Case c, Map<Quantity, float[]> ours, Map<Quantity, float[]> torch, double tolerance) {
        assertThat(torch.keySet()).as(c + ": quantities").containsExactlyInAnyOrderElementsOf(ours.keySet());
        ours.forEach((k, o) -> expect(c, k, o, torch.get(k), tolerance));
    }

    private void expect(Case c, Quantity q, float[] ours, float[] torch, double tolerance) {
        double e = worst.note(q.quantity(), Parity.relErr(ours, torch));
        assertThat(e).as(() -> c + ": " + q.quantity() + " " + q.what() + " relative error (" + Parity.worstEntry(ours, torch) + ")")
                .isLessThan(tolerance);
    }

    /** Matrices ~ N(0, 0.3^2) and gains 1 + N(0, 0.2^2): larger than the init so that every path carries signal. */
    static LinkedHashMap<String, Tensor> randomWeights(LtmConfig cfg, Rng rng) {
        LinkedHashMap<String, Tensor> w = new LinkedHashMap<>();
        for (Map.Entry<String, Shape> e : LatentThoughtModel.parameterShapes(cfg).entrySet()) {
            boolean gain = e.getValue().rank() == 1;
            w.put(e.getKey(), Tensor.randn(rng, gain ? 1 : 0, gain ? 0.2 : 0.3, e.getValue().dims()));
        }
        return w;
    }

    static LinkedHashMap<String, Tensor> copy(Map<String, Tensor> w) {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        w.forEach((k, t) -> out.put(k, t.copy()));
        return out;
    }

    /** Random sequences of length+1 tokens; when padded, the last sequence ends in two padding tokens. */
    static TokenBatch batch(Rng rng, Case c) {
        int v = c.config().vocabSize();
        int[][] seq = new int[c.batch()][c.length() + 1];
        for (int[] row : seq) for (int i = 0; i < row.length; i++) row[i] = rng.nextInt(v);
        if (c.padded()) {
            int[] last = seq[c.batch() - 1];
            last[last.length - 1] = -1;
            last[last.length - 2] = -1;
        }
        return TokenBatch.shifted(seq);
    }
}
