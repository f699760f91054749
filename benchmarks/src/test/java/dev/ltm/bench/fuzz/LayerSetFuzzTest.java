package dev.ltm.bench.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ltm.optim.LayerSet;
import java.nio.charset.StandardCharsets;

/**
 * {@code --z-layers} / {@code --layers} text (the first byte picks the model's layer count 1..64, the
 * rest is the UTF-8 text): a set inside 1..L that prints back to itself, or one IllegalArgumentException line.
 */
class LayerSetFuzzTest {
    @FuzzTest
    void anyTextParsesToASetThatRoundTripsOrFailsWithOneLine(byte[] bytes) {
        if (bytes.length == 0) return;
        int layers = 1 + (bytes[0] & 0x3F);
        String text = new String(bytes, 1, bytes.length - 1, StandardCharsets.UTF_8);
        LayerSet s;
        try {
            s = LayerSet.parse(text, layers);
        } catch (IllegalArgumentException e) {
            Fuzzing.assertOneLine(e);
            return;
        }
        assertThat(s.layerCount()).isEqualTo(layers);
        for (int l : s.layers()) assertThat(l).isBetween(0, layers - 1);
        assertThat(LayerSet.parse(s.toString(), layers)).isEqualTo(s);
    }
}
