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
import dev.ltm.model.TokenBatch;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Stress tool, off in normal runs ({@code -Dltm.stress.runs=N} turns it on): repeats the weight
 * gradients of one {@link ModelParityTest} case N times in one JVM, ours and PyTorch's separately,
 * and reports every repetition whose values differ in any bit from the first one of the same side.
 * Run it beside CPU hogs to find which side of a flaky parity failure moves.
 */
class ParityStressTest {
    @Test
    @EnabledIfSystemProperty(named = "ltm.stress.runs", matches = "\\d+")
    void bothSidesRepeatBitForBit() {
        int runs = Integer.getInteger("ltm.stress.runs");
        String name = System.getProperty("ltm.stress.case", "odd sizes, padded");
        ModelParityTest.Case c = ModelParityTest.cases().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
        Map<String, float[]> ours0 = ours(c), torch0 = torch(c);
        List<String> moved = new ArrayList<>();
        for (int r = 1; r < runs; r++) {
            diff("ours", r, ours0, ours(c), moved);
            diff("torch", r, torch0, torch(c), moved);
            if (r % 10 == 0) System.out.println("stress: " + r + " runs, " + moved.size() + " moved");
        }
        System.out.println("stress: " + runs + " runs of " + name + ", " + moved.size() + " moved");
        assertThat(moved).isEmpty();
    }

    private static void diff(String side, int run, Map<String, float[]> first, Map<String, float[]> now, List<String> moved) {
        first.forEach((k, v) -> {
            float[] w = now.get(k);
            if (!Arrays.equals(v, w)) {
                String line = side + " run " + run + " " + k + ": " + Parity.worstEntry(w, v);
                System.out.println(line);
                moved.add(line);
            }
        });
    }

    private static Map<String, float[]> ours(ModelParityTest.Case c) {
        LtmConfig cfg = c.config();
        Rng rng = new Rng(1000 + c.name().hashCode());
        LatentThoughtModel model = new LatentThoughtModel(cfg, ModelParityTest.randomWeights(cfg, rng));
        TokenBatch batch = ModelParityTest.batch(rng, c);
        Tensor z = Tensor.randn(rng, 0, 0.7, c.batch(), cfg.layers(), cfg.latentsPerLayer(), cfg.width());
        Params trainable = Params.trainable(model);
        Var loss = Ops.scale(Elbo.nllSum(model.logits(trainable, batch.inputs(), Var.constant(z)), batch), 1f / batch.tokenCount());
        Tape.backward(loss);
        Map<String, float[]> out = new LinkedHashMap<>();
        trainable.grads().forEach((n, g) -> out.put(n, g.data().clone()));
        return out;
    }

    private static Map<String, float[]> torch(ModelParityTest.Case c) {
        LtmConfig cfg = c.config();
        Rng rng = new Rng(1000 + c.name().hashCode());
        LinkedHashMap<String, Tensor> weights = ModelParityTest.randomWeights(cfg, rng);
        TokenBatch batch = ModelParityTest.batch(rng, c);
        Tensor z = Tensor.randn(rng, 0, 0.7, c.batch(), cfg.layers(), cfg.latentsPerLayer(), cfg.width());
        Map<String, float[]> out = new LinkedHashMap<>();
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            TorchLtm torch = new TorchLtm(cfg, weights, m);
            Map<String, NDArray> w = torch.weights();
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                w.values().forEach(a -> a.setRequiresGradient(true));
                NDArray nll = TorchLtm.nllPerSequence(m, torch.logits(batch.inputs(), TorchEngine.nd(m, z)), batch.targets());
                NDArray loss = nll.sum().div((float) batch.tokenCount());
                gc.backward(loss);
                w.forEach((n, a) -> out.put(n, a.getGradient().toFloatArray()));
            }
        }
        return out;
    }
}
