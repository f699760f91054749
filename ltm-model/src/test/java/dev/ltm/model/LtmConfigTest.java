package dev.ltm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ltm.tensor.AttentionMask;
import org.junit.jupiter.api.Test;

class LtmConfigTest {

    @Test
    void rejectsEachBrokenRuleWithAMessageNamingIt() {
        assertThatThrownBy(() -> LtmConfig.builder().vocabSize(50).width(30).layers(2).heads(4).kvHeads(2).latentCount(4).maxSeqLen(16)
                .build()).hasMessageContaining("width 30 must be divisible by heads 4");
        assertThatThrownBy(() -> LtmConfig.builder().vocabSize(50).width(24).layers(2).heads(4).kvHeads(3).latentCount(4).maxSeqLen(16)
                .build()).hasMessageContaining("heads 4 must be divisible by kvHeads 3");
        assertThatThrownBy(() -> LtmConfig.builder().vocabSize(50).width(16).layers(2).heads(4).kvHeads(2).latentCount(5).maxSeqLen(16)
                .build()).hasMessageContaining("latentCount 5 must be divisible by layers 2");
        assertThatThrownBy(() -> LtmConfig.builder().vocabSize(50).width(16).layers(2).heads(4).kvHeads(2).latentCount(18).maxSeqLen(16)
                .build()).hasMessageContaining("latentCount 18 must be <= maxSeqLen 16");
        assertThatThrownBy(() -> LtmConfig.builder().vocabSize(50).width(16).layers(2).heads(4).kvHeads(2).latentCount(4).maxSeqLen(16)
                .window(17).build()).hasMessageContaining("window 17");
        assertThatThrownBy(() -> LtmConfig.builder().vocabSize(0).width(16).layers(2).heads(4).kvHeads(2).latentCount(4).maxSeqLen(16)
                .build()).hasMessageContaining("vocabSize 0 must be > 0");
        assertThatThrownBy(() -> LtmConfig.builder().vocabSize(50).width(16).layers(0).heads(4).kvHeads(2).latentCount(4).maxSeqLen(16)
                .build()).hasMessageContaining("layers 0 must be > 0");
        assertThatThrownBy(() -> LtmConfig.builder().vocabSize(50).width(12).layers(1).heads(4).kvHeads(2).latentCount(4).maxSeqLen(16)
                .build()).hasMessageContaining("head width 3");
        assertThatThrownBy(() -> new LtmConfig(50, 16, 2, 4, 2, 4, 16, 0, -1, 1e-5f, 1e4f, 0.02f)).hasMessageContaining("ffnHidden -1");
        assertThatThrownBy(() -> new LtmConfig(50, 16, 2, 4, 2, 4, 16, 0, 0, 1e-5f, 1e4f, 0f)).hasMessageContaining("initStd 0.0");
    }

    @Test
    void builderNamesEachFieldAndAppliesTheSpecDefaults() {
        LtmConfig c = LtmConfig.builder().vocabSize(258).width(64).layers(2).heads(4).latentCount(4).maxSeqLen(128).window(32).build();
        assertThat(c).isEqualTo(new LtmConfig(258, 64, 2, 4, 4, 4, 128, 32, 0, 1e-5f, 10000f, 0.02f));
        assertThat(c.toBuilder().kvHeads(2).window(0).build())
                .isEqualTo(new LtmConfig(258, 64, 2, 4, 2, 4, 128, 0, 0, 1e-5f, 10000f, 0.02f));
        assertThat(c.toBuilder().build()).isEqualTo(c);
        assertThatThrownBy(() -> LtmConfig.builder().vocabSize(258).width(64).layers(2).maxSeqLen(16).build())
                .hasMessageContaining("heads 0 must be > 0");
    }

    @Test
    void derivesTheSwiGluWidthAsTheSpecSays() {
        assertThat(LtmConfig.derivedFfnHidden(16)).isEqualTo(64);    // floor(128/3) = 42 -> 64
        assertThat(LtmConfig.derivedFfnHidden(768)).isEqualTo(2048); // 2048 is already a multiple of 32
        assertThat(LtmConfig.derivedFfnHidden(512)).isEqualTo(1376); // floor(4096/3) = 1365 -> 1376
        assertThat(LtmConfig.builder().vocabSize(50).width(16).layers(2).heads(4).kvHeads(2).latentCount(4).maxSeqLen(16).build()
                .ffnHidden()).isEqualTo(64);
        assertThat(new LtmConfig(50, 16, 2, 4, 2, 4, 16, 0, 40, 1e-5f, 1e4f, 0.02f).ffnHidden()).isEqualTo(40);
    }

    @Test
    void helpersFollowTheSpec() {
        LtmConfig c = LtmConfig.builder().vocabSize(50).width(24).layers(3).heads(6).kvHeads(2).latentCount(9).maxSeqLen(20).build();
        assertThat(c.headDim()).isEqualTo(4);
        assertThat(c.latentsPerLayer()).isEqualTo(3);
        assertThat(c.thoughtPositions()).containsExactly(0, 2, 4); // j * (20 / 9) = j * 2
        assertThat(c.selfAttentionMask()).isEqualTo(AttentionMask.causal(20));
        assertThat(LtmConfig.builder().vocabSize(50).width(24).layers(3).heads(6).kvHeads(2).latentCount(9).maxSeqLen(20).window(7).build()
                .selfAttentionMask()).isEqualTo(AttentionMask.causal(7));
        assertThat(LtmConfig.builder().vocabSize(50).width(24).layers(3).heads(6).kvHeads(2).maxSeqLen(20).window(7).build()
                .thoughtPositions()).isEmpty();
    }

    @Test
    void roundTripsThroughJson() throws Exception {
        LtmConfig c = LtmConfig.builder().vocabSize(50).width(24).layers(3).heads(6).kvHeads(2).latentCount(9).maxSeqLen(20).window(5)
                .build();
        ObjectMapper json = new ObjectMapper();
        String text = json.writeValueAsString(c);
        assertThat(text).contains("\"latentCount\":9").doesNotContain("headDim");
        assertThat(json.readValue(text, LtmConfig.class)).isEqualTo(c);
    }
}
