package dev.ltm.model.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenizerTest {

    /** Random text mixing ASCII, accented Latin, CJK, emoji (surrogate pairs) and control characters. */
    private static String randomText(SplittableRandom r, int codePoints) {
        int[][] ranges = {{0x20, 0x7E}, {0x0A, 0x0A}, {0xC0, 0x17F}, {0x4E00, 0x4FFF}, {0x1F600, 0x1F64F}, {0x1F300, 0x1F5FF}};
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < codePoints; i++) {
            int[] range = ranges[r.nextInt(ranges.length)];
            sb.appendCodePoint(range[0] + r.nextInt(range[1] - range[0] + 1));
        }
        return sb.toString();
    }

    @Test
    void byteTokenizerRoundTripsArbitraryUtf8() {
        Tokenizer tok = new ByteTokenizer();
        SplittableRandom r = new SplittableRandom(7);
        for (int len : new int[] {0, 1, 2, 13, 97}) {
            String text = randomText(r, len);
            int[] ids = tok.encode(text);
            assertThat(ids).hasSize(text.getBytes(StandardCharsets.UTF_8).length);
            assertThat(java.util.Arrays.stream(ids).allMatch(id -> id >= 0 && id < 256)).isTrue();
            assertThat(tok.decode(ids)).isEqualTo(text);
        }
        assertThat(tok.encode("😀")).containsExactly(0xF0, 0x9F, 0x98, 0x80);
    }

    @Test
    void byteTokenizerHasTwoSpecialsAndDropsThemOnDecode() {
        Tokenizer tok = new ByteTokenizer();
        assertThat(tok.vocabSize()).isEqualTo(258);
        assertThat(tok.bos()).isEqualTo(256);
        assertThat(tok.eos()).isEqualTo(257);
        assertThat(tok.decode(new int[] {256, 'h', 'i', 257})).isEqualTo("hi");
    }

    @Test
    void byteTokenizerReplacesMalformedBytesOnDecode() {
        Tokenizer tok = new ByteTokenizer();
        // The first two bytes of a three-byte character, then 'a'.
        assertThat(tok.decode(new int[] {0xE2, 0x82, 'a'})).isEqualTo("\uFFFDa");
        assertThatThrownBy(() -> tok.decode(new int[] {258}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("id 258 out of range");
    }

    @Test
    void gpt2EncodesHelloWorldAsTwoKnownTokens() {
        Tokenizer tok = new Gpt2Tokenizer();
        // r50k_base: "Hello" = 15496, " world" = 995.
        assertThat(tok.encode("Hello world")).containsExactly(15496, 995);
        assertThat(tok.vocabSize()).isEqualTo(50258);
        assertThat(tok.bos()).isEqualTo(50257);
        assertThat(tok.eos()).isEqualTo(50256);
    }

    @Test
    void gpt2RoundTripsSentencesAndDropsSpecials() {
        Tokenizer tok = new Gpt2Tokenizer();
        SplittableRandom r = new SplittableRandom(11);
        String sentence = "Once upon a time, Mia the fox found a red kite near the river.\nShe smiled. Ünïcödé 😀 日本語!";
        assertThat(tok.decode(tok.encode(sentence))).isEqualTo(sentence);
        for (int len : new int[] {1, 5, 31}) {
            String text = randomText(r, len);
            assertThat(tok.decode(tok.encode(text))).isEqualTo(text);
        }
        int[] ids = tok.encode("a b");
        int[] framed = new int[ids.length + 2];
        framed[0] = tok.bos();
        System.arraycopy(ids, 0, framed, 1, ids.length);
        framed[framed.length - 1] = tok.eos();
        assertThat(tok.decode(framed)).isEqualTo("a b");
        assertThat(tok.encode("<|endoftext|>")).doesNotContain(tok.eos()).hasSizeGreaterThan(1);
    }

    @Test
    void byNameFindsBothTokenizersAndRejectsOthers() {
        assertThat(Tokenizers.byName("byte")).isInstanceOf(ByteTokenizer.class);
        assertThat(Tokenizers.byName("gpt2").name()).isEqualTo("gpt2");
        assertThat(Tokenizers.byName("byte").name()).isEqualTo("byte");
        assertThatThrownBy(() -> Tokenizers.byName("sentencepiece"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("tokenizer: unknown name 'sentencepiece', expected one of [byte, gpt2]");
    }
}
