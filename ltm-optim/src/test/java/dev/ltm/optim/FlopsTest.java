package dev.ltm.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ltm.model.LtmConfig;
import org.junit.jupiter.api.Test;

class FlopsTest {
    /** V = 10, H = 4, L = 2, 2 heads of width 2 over 1 K/V head (K/V width 2), N_z = 2 (m = 1), context 4, window 2, SwiGLU width 8. */
    static final LtmConfig TINY = LtmConfig.builder().vocabSize(10).width(4).layers(2).heads(2).kvHeads(1).latentCount(2)
            .maxSeqLen(4).window(2).ffnHidden(8).build();

    @Test
    void theCountsOfATinyConfigMatchAHandComputation() {
        Flops f = new Flops(TINY, 4);
        // Window 2 over 4 tokens: each token sees 1, 2, 2, 2 keys.
        assertThat(f.windowPairs()).isEqualTo(7);
        // Self-attention: q and o 2*4*4*4 = 128 each, k and v 2*4*4*2 = 64 each, scores and sum 2 * 2*7*4 = 112.
        long self = 128 + 128 + 64 + 64 + 112;
        // Cross-attention: q and o 128 each, k and v from one thought 2*1*4*2 = 16 each, scores and sum 2 * 2*4*1*4 = 64.
        long cross = 128 + 128 + 16 + 16 + 64;
        long ffn = 3 * 2 * 4 * 4 * 8, head = 2 * 4 * 4 * 10;
        assertThat(f.forward()).isEqualTo(2 * (self + cross + ffn) + head).isEqualTo(3552);
        assertThat(f.prefix()).isEqualTo(self);
        // To z: head 320; layer 1: SwiGLU 768, cross o 128, dV dP dK 3 * 32, k and v inputs 2 * 16 (its queries are constant);
        // layer 2: SwiGLU, cross as layer 1 plus dQ 32 and wq 128, self-attention projections 384 and scores twice 224.
        long toZ = 320 + (768 + 128 + 96 + 32) + (768 + 128 + 96 + 32 + 32 + 128 + 384 + 224);
        assertThat(f.backwardToZ()).isEqualTo(toZ).isEqualTo(3136);
        assertThat(f.fastStep()).isEqualTo(3552 - self + toZ);
        assertThat(f.fit(3)).isEqualTo(self + 3 * (3552 - self + toZ) + (3552 - self)).isEqualTo(22128);
        // The slow step: forward, then twice the forward's products less the input gradients of cross k and v (z fixed).
        assertThat(f.slowStep()).isEqualTo(3552 + 2 * 3552 - 2 * 32).isEqualTo(10592);
        assertThat(f.trainingStep(3)).isEqualTo(22128 + 10592);
    }

    @Test
    void theBaselineStepIsThreeForwardPasses() {
        Flops f = new Flops(TINY.toBuilder().latentCount(0).build(), 4);
        long self = 496, ffn = 768, head = 320;
        assertThat(f.forward()).isEqualTo(2 * (self + ffn) + head);
        assertThat(f.trainingStep(16)).isEqualTo(3 * f.forward()).isEqualTo(3 * 2848);
    }

    @Test
    void fullAttentionCountsEveryCausalPairAndTheFitIsLinearInTFast() {
        Flops full = new Flops(TINY.toBuilder().window(0).build(), 4);
        assertThat(full.windowPairs()).isEqualTo(1 + 2 + 3 + 4);
        Flops f = new Flops(TINY, 4);
        assertThat(f.fit(8) - f.fit(4)).isEqualTo(4 * f.fastStep());
        assertThatThrownBy(() -> new Flops(TINY, 5)).hasMessageContaining("5 positions, expected 1..4");
    }
}
