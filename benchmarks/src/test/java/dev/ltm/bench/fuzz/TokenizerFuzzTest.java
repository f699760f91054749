package dev.ltm.bench.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ltm.model.tokenizer.ByteTokenizer;
import dev.ltm.model.tokenizer.Gpt2Tokenizer;
import dev.ltm.model.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;

/**
 * Both tokenizers on arbitrary strings and bytes: ids stay in the vocabulary, decode(encode(s)) is s
 * as UTF-8 spells it (an unpaired surrogate becomes '?'), bytes decode as UTF-8 does (malformed
 * ones as U+FFFD) and valid UTF-8 comes back byte for byte.
 */
class TokenizerFuzzTest {
    private static final Tokenizer BYTE = new ByteTokenizer(), GPT2 = new Gpt2Tokenizer();

    @FuzzTest
    void anyTextRoundTripsThroughBothTokenizers(byte[] bytes) {
        // Two readings of the input: as UTF-8 (seeds read as text), and as UTF-16 units, which reach unpaired surrogates.
        char[] units = new char[bytes.length / 2];
        for (int i = 0; i < units.length; i++) units[i] = (char) ((bytes[2 * i] & 0xFF) << 8 | (bytes[2 * i + 1] & 0xFF));
        for (String text : new String[] {new String(bytes, StandardCharsets.UTF_8), new String(units)}) {
            String expected = new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
            for (Tokenizer t : new Tokenizer[] {BYTE, GPT2}) {
                int[] ids = t.encode(text);
                for (int id : ids) assertThat(id).isBetween(0, t.vocabSize() - 1);
                assertThat(t.decode(ids)).as(t.name()).isEqualTo(expected);
            }
        }
    }

    @FuzzTest
    void anyBytesDecodeAsUtf8AndValidUtf8RoundTrips(byte[] bytes) {
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) ids[i] = bytes[i] & 0xFF;
        String text = BYTE.decode(ids);
        assertThat(text).isEqualTo(new String(bytes, StandardCharsets.UTF_8));
        if (java.util.Arrays.equals(text.getBytes(StandardCharsets.UTF_8), bytes)) assertThat(BYTE.encode(text)).isEqualTo(ids);
        // GPT-2 ids from the same bytes, four at a time: any id in range decodes, one out of range is one line.
        int[] wide = new int[bytes.length / 4];
        for (int i = 0; i < wide.length; i++) {
            wide[i] = (bytes[4 * i] & 0xFF) << 24 | (bytes[4 * i + 1] & 0xFF) << 16
                    | (bytes[4 * i + 2] & 0xFF) << 8 | (bytes[4 * i + 3] & 0xFF);
        }
        boolean inRange = true;
        for (int id : wide) inRange &= id >= 0 && id < GPT2.vocabSize();
        try {
            assertThat(GPT2.decode(wide)).isNotNull();
            assertThat(inRange).as("decode accepted an id outside the vocabulary").isTrue();
        } catch (IllegalArgumentException e) {
            assertThat(inRange).as("decode refused ids in range: " + e.getMessage()).isFalse();
            Fuzzing.assertOneLine(e);
        }
    }
}
