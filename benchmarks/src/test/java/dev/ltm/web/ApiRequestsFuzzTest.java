package dev.ltm.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ltm.bench.fuzz.Fuzzing;
import dev.ltm.optim.Generation;
import dev.ltm.optim.LayerSet;
import java.nio.charset.StandardCharsets;

/**
 * The web API's request reading ({@link LtmServer#parseGenerate}, {@link LtmServer#parseProbe},
 * {@link LtmServer#parseBound}) on arbitrary bytes: values inside the documented ranges, or a 400
 * (an {@link ApiException} of status 400, or the layer-set parser's IllegalArgumentException, which
 * the server answers with 400) carrying one line; never another error (the server would answer 500).
 * Byte 0 picks the route (bits 0-1: generate, probe, bound) and the model's layer count (bits 2-7 + 1);
 * the rest is the UTF-8 body or raw query. This class sits in the server's package to reach the
 * package-private readers; {@code ltm bench fuzz} lists it beside the targets of dev.ltm.bench.fuzz.
 */
class ApiRequestsFuzzTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final int MAX_TOKENS = 512, MAX_T_FAST = 64, DEFAULT_T_FAST = 16;

    @FuzzTest
    void anyRequestReadsInRangeOrIsOneLine400(byte[] input) {
        if (input.length == 0) return;
        int route = input[0] & 3, layers = 1 + ((input[0] & 0xFF) >> 2);
        String text = new String(input, 1, input.length - 1, StandardCharsets.UTF_8);
        try {
            switch (route) {
                case 0, 3 -> {
                    LtmServer.GenerateRequest r = LtmServer.parseGenerate(MAPPER, text, layers, MAX_TOKENS, MAX_T_FAST, DEFAULT_T_FAST);
                    Generation.Options o = r.options();
                    assertThat(o.maxTokens()).isBetween(0, MAX_TOKENS);
                    assertThat(o.tFast()).isBetween(0, MAX_T_FAST);
                    assertThat(o.sampling().temperature()).isBetween(0.0, 100.0);
                    assertThat(o.sampling().topP()).isGreaterThan(0.0).isLessThanOrEqualTo(1.0);
                    assertThat(LayerSet.parse(o.zLayers(), layers).layerCount()).isEqualTo(layers);
                }
                case 1 -> assertThat(LtmServer.parseProbe(MAPPER, text, layers).layerCount()).isEqualTo(layers);
                default -> {
                    for (int t : LtmServer.parseBound(text, MAX_T_FAST)) assertThat(t).isBetween(0, MAX_T_FAST);
                }
            }
        } catch (ApiException e) {
            assertThat(e.status()).as(e.getMessage()).isEqualTo(400);
            Fuzzing.assertOneLine(e);
        } catch (IllegalArgumentException e) {
            Fuzzing.assertOneLine(e);
        }
    }
}
