package dev.ltm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.ltm.autograd.GradCheck;
import dev.ltm.autograd.NoGrad;
import dev.ltm.autograd.Ops;
import dev.ltm.autograd.Tape;
import dev.ltm.autograd.Var;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;
import java.util.LinkedHashMap;
import org.junit.jupiter.api.Test;

class LatentThoughtModelTest {

    private static Var randomZ(Rng rng, LtmConfig c, int b) {
        return Var.constant(Tensor.randn(rng, 0, 1, b, c.layers(), c.latentsPerLayer(), c.width()));
    }

    @Test
    void namesAndShapesFollowTheLayout() {
        LtmConfig c = TinyModels.config();
        LatentThoughtModel m = new LatentThoughtModel(c, new Rng(1));
        LinkedHashMap<String, Tensor> p = m.parameters();
        assertThat(p.keySet()).startsWith("tok_emb", "layers.0.attn_norm.g", "layers.0.attn.wq", "layers.0.attn.wk",
                "layers.0.attn.wv", "layers.0.attn.wo", "layers.0.cross_norm.g", "layers.0.cross.wq").endsWith("norm_f.g");
        assertThat(p).hasSize(1 + 2 * 14 + 1);
        assertThat(p.get("layers.1.attn.wk").shape()).isEqualTo(Shape.of(8, 16)); // 2 K/V heads of width 4
        assertThat(p.get("layers.1.ffn.w1").shape()).isEqualTo(Shape.of(64, 16));
        assertThat(p.get("layers.1.ffn.w2").shape()).isEqualTo(Shape.of(16, 64));
        assertThat(m.parameterCount()).isEqualTo(p.values().stream().mapToLong(Tensor::size).sum());
    }

    @Test
    void initialisesPerSpec() {
        LtmConfig c = LtmConfig.builder().vocabSize(97).width(64).layers(2).heads(4).latentCount(4).maxSeqLen(16).build();
        LatentThoughtModel m = new LatentThoughtModel(c, new Rng(2));
        LinkedHashMap<String, Tensor> p = m.parameters();
        assertThat(std(p.get("tok_emb"))).isCloseTo(0.02, within(0.001));
        assertThat(std(p.get("layers.0.ffn.w1"))).isCloseTo(0.02, within(0.001));
        assertThat(std(p.get("layers.0.ffn.w2"))).isCloseTo(0.02, within(0.001));
        double scaled = 0.02 / Math.sqrt(4);
        assertThat(std(p.get("layers.1.attn.wo"))).isCloseTo(scaled, within(0.0008));
        assertThat(std(p.get("layers.1.cross.wo"))).isCloseTo(scaled, within(0.0008));
        assertThat(std(p.get("layers.0.ffn.w3"))).isCloseTo(scaled, within(0.0005));
        assertThat(p.get("layers.1.cross_norm.g").data()).containsOnly(1f);
        assertThat(p.get("norm_f.g").data()).containsOnly(1f);
    }

    private static double std(Tensor t) {
        double s = 0, s2 = 0;
        for (float x : t.data()) { s += x; s2 += x * x; }
        double n = t.size(), mean = s / n;
        return Math.sqrt(s2 / n - mean * mean);
    }

    @Test
    void forwardGivesLogitsPerTokenAndVocabulary() {
        LtmConfig c = TinyModels.config();
        Rng rng = new Rng(3);
        LatentThoughtModel m = new LatentThoughtModel(c, rng);
        Var logits = m.logits(Params.frozen(m), TinyModels.tokens(rng, 3, 11, 50), randomZ(rng, c, 3));
        assertThat(logits.shape()).isEqualTo(Shape.of(3, 11, 50));
        for (float x : logits.value().data()) assertThat(Float.isFinite(x)).isTrue();
        assertThat(logits.requiresGrad()).isFalse();
    }

    @Test
    void plainGptWithoutThoughtsHasNoCrossAttention() {
        LtmConfig c = LtmConfig.builder().vocabSize(50).width(16).layers(2).heads(4).kvHeads(1).maxSeqLen(17).build();
        Rng rng = new Rng(4);
        LatentThoughtModel m = new LatentThoughtModel(c, rng);
        assertThat(m.parameters().keySet()).noneMatch(n -> n.contains("cross"));
        int[][] tokens = TinyModels.tokens(rng, 2, 9, 50);
        Var logits = m.logits(Params.frozen(m), tokens, null);
        assertThat(logits.shape()).isEqualTo(Shape.of(2, 9, 50));
        assertThatThrownBy(() -> m.logits(Params.frozen(m), tokens, Var.constant(Tensor.zeros(2, 2, 1, 16))))
                .hasMessageContaining("N_z = 0");
    }

    @Test
    void prefixReuseEqualsTheFullForward() {
        LtmConfig c = TinyModels.config();
        Rng rng = new Rng(5);
        LatentThoughtModel m = new LatentThoughtModel(c, rng);
        Params frozen = Params.frozen(m);
        int[][] tokens = TinyModels.tokens(rng, 2, 13, 50);
        LatentThoughtModel.Prefix prefix = m.prefix(frozen, tokens);
        for (int trial = 0; trial < 2; trial++) {
            Var z = randomZ(rng, c, 2);
            assertThat(m.logitsFromPrefix(prefix, frozen, z).value().data()).containsExactly(m.logits(frozen, tokens, z).value().data());
        }
    }

    @Test
    void logitsDependOnTheThoughts() {
        LtmConfig c = TinyModels.config();
        Rng rng = new Rng(6);
        LatentThoughtModel m = new LatentThoughtModel(c, rng);
        int[][] tokens = TinyModels.tokens(rng, 2, 7, 50);
        float[] a = m.logits(Params.frozen(m), tokens, randomZ(rng, c, 2)).value().data();
        float[] b = m.logits(Params.frozen(m), tokens, randomZ(rng, c, 2)).value().data();
        double diff = 0;
        for (int i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
        assertThat(diff).isGreaterThan(1e-4);
        // Only layer 2's group changes: layer 1's output is untouched, so the change must come through z_2.
        Var z1 = randomZ(rng, c, 2);
        Tensor z2 = z1.value().copy();
        for (int i = 0; i < z2.size(); i++) if ((i / (3 * 16)) % 2 == 1) z2.data()[i] += 1f;
        float[] c1 = m.logits(Params.frozen(m), tokens, z1).value().data();
        float[] c2 = m.logits(Params.frozen(m), tokens, Var.constant(z2)).value().data();
        assertThat(c1).isNotEqualTo(c2);
    }

    @Test
    void selfAttentionIsCausal() {
        LtmConfig c = TinyModels.config();
        Rng rng = new Rng(7);
        LatentThoughtModel m = new LatentThoughtModel(c, rng);
        int[][] tokens = TinyModels.tokens(rng, 1, 10, 50);
        Var z = randomZ(rng, c, 1);
        float[] before = m.logits(Params.frozen(m), tokens, z).value().data();
        tokens[0][9] = (tokens[0][9] + 1) % 50;
        float[] after = m.logits(Params.frozen(m), tokens, z).value().data();
        for (int i = 0; i < 9 * 50; i++) assertThat(after[i]).isEqualTo(before[i]);
        assertThat(after[9 * 50 + 3]).isNotEqualTo(before[9 * 50 + 3]);
    }

    @Test
    void slidingWindowLimitsHowFarBackATokenReaches() {
        // W = 5 over L = 2 layers: position i sees at most tokens i-8..i, so token 0 cannot reach positions >= 9.
        LtmConfig c = TinyModels.config();
        Rng rng = new Rng(13);
        LatentThoughtModel m = new LatentThoughtModel(c, rng);
        int[][] tokens = TinyModels.tokens(rng, 1, 12, 50);
        Var z = randomZ(rng, c, 1);
        float[] before = m.logits(Params.frozen(m), tokens, z).value().data();
        tokens[0][0] = (tokens[0][0] + 1) % 50;
        float[] after = m.logits(Params.frozen(m), tokens, z).value().data();
        for (int i = 9 * 50; i < 12 * 50; i++) assertThat(after[i]).isEqualTo(before[i]);
        assertThat(after[8 * 50 + 1]).isNotEqualTo(before[8 * 50 + 1]);
        assertThat(after[50 + 1]).isNotEqualTo(before[50 + 1]);
    }

    @Test
    void rejectsBadInputsWithClearMessages() {
        LtmConfig c = TinyModels.config();
        LatentThoughtModel m = new LatentThoughtModel(c, new Rng(8));
        Params p = Params.frozen(m);
        Var z = Var.constant(Tensor.zeros(1, 2, 3, 16));
        assertThatThrownBy(() -> m.logits(p, new int[][] {{1, 50}}, z)).hasMessageContaining("token 50 at [0, 1] outside vocabulary 50");
        assertThatThrownBy(() -> m.logits(p, new int[1][18], z)).hasMessageContaining("18 tokens exceed maxSeqLen 17");
        assertThatThrownBy(() -> m.logits(p, new int[2][4], z)).hasMessageContaining("expected [B, L, m, H] = [2, 2, 3, 16]");
        assertThatThrownBy(() -> m.logits(p, new int[1][4], null)).hasMessageContaining("z null");
        LinkedHashMap<String, Tensor> w = m.parameters();
        w.put("layers.0.ffn.w2", Tensor.zeros(16, 63));
        assertThatThrownBy(() -> new LatentThoughtModel(c, w)).hasMessageContaining("'layers.0.ffn.w2' has shape [16, 63]");
        w.remove("layers.0.ffn.w2");
        assertThatThrownBy(() -> new LatentThoughtModel(c, w)).hasMessageContaining("'layers.0.ffn.w2' is missing");
    }

    @Test
    void sameSeedGivesTheSameWeights() {
        LtmConfig c = TinyModels.config();
        var a = new LatentThoughtModel(c, new Rng(9)).parameters();
        var b = new LatentThoughtModel(c, new Rng(9)).parameters();
        a.forEach((name, t) -> assertThat(t.data()).containsExactly(b.get(name).data()));
    }

    @Test
    void weightGradientsMatchFiniteDifferences() {
        // A wider init so that every path (including cross-attention) carries a visible gradient.
        LtmConfig c = LtmConfig.builder().vocabSize(23).width(8).layers(2).heads(2).kvHeads(1).latentCount(4).maxSeqLen(9).window(4)
                .initStd(0.3f).build();
        Rng rng = new Rng(10);
        LatentThoughtModel m = new LatentThoughtModel(c, rng);
        TokenBatch batch = TinyModels.batch(rng, 2, 6, 23);
        Tensor z = Tensor.randn(rng, 0, 1, 2, 2, 2, 8);
        String[] names = m.parameters().keySet().toArray(String[]::new);
        Tensor[] inputs = m.parameters().values().toArray(Tensor[]::new);
        GradCheck.Result r = GradCheck.check(vars -> {
            LinkedHashMap<String, Var> byName = new LinkedHashMap<>();
            for (int i = 0; i < names.length; i++) byName.put(names[i], vars[i]);
            Var logits = m.logits(Params.of(byName), batch.inputs(), Var.constant(z));
            return Elbo.nllSum(logits, batch);
        }, inputs, 1e-2, 6, 11);
        assertThat(r.maxRelativeError()).as("%s", r).isLessThan(2e-2);
    }

    @Test
    void trainableParamsReceiveGradientsAndFrozenOnesDoNot() {
        LtmConfig c = TinyModels.config();
        Rng rng = new Rng(12);
        LatentThoughtModel m = new LatentThoughtModel(c, rng);
        TokenBatch batch = TinyModels.batch(rng, 2, 8, 50);
        Params trainable = Params.trainable(m);
        Tape.backward(Elbo.nllSum(m.logits(trainable, batch.inputs(), randomZ(rng, c, 2)), batch));
        trainable.grads().forEach((name, g) -> assertThat(g).as(name).isNotNull());

        Params frozen = Params.frozen(m);
        Posterior q = Posterior.init(c, 2, rng);
        Tape.backward(Elbo.negativeBound(m.logits(frozen, batch.inputs(), q.z()), batch, q));
        frozen.grads().forEach((name, g) -> assertThat(g).as(name).isNull());
        assertThat(q.mu().grad()).isNotNull();
        assertThat(q.logvar().grad()).isNotNull();
        try (NoGrad _ = NoGrad.enter()) {
            assertThat(Ops.sum(q.z()).requiresGrad()).isFalse();
        }
    }
}
