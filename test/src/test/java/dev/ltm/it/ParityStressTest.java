package dev.ltm.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ltm.it.ModelParityTest.Case;
import dev.ltm.it.ModelParityTest.Quantity;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Stress tool, off in normal runs ({@code -Dltm.stress.runs=N} turns it on): repeats one
 * {@link ModelParityTest} case N times in one JVM, both of its comparisons (one forward and
 * backward, one dual-rate step) through the very helpers the test uses, ours and PyTorch's
 * separately, and reports every repetition whose values differ in any bit from the first one of
 * the same side. Run it beside CPU hogs to find which side of a flaky parity failure moves.
 * {@code -Dltm.stress.case=NAME} picks the case (default the padded grouped-K/V one), {@code all} every case.
 */
class ParityStressTest {
    @Test
    @EnabledIfSystemProperty(named = "ltm.stress.runs", matches = "\\d+")
    void bothSidesRepeatBitForBit() {
        int runs = Integer.getInteger("ltm.stress.runs");
        String name = System.getProperty("ltm.stress.case", "odd sizes, padded");
        List<Case> cases = ModelParityTest.cases().filter(x -> name.equals("all") || x.name().equals(name)).toList();
        assertThat(cases).as("cases named " + name).isNotEmpty();
        Map<String, Supplier<Map<Quantity, float[]>>> sides = new LinkedHashMap<>();
        for (Case c : cases) {
            sides.put("ours " + c, () -> ModelParityTest.oursForwardBackward(c, ModelParityTest.inputs(c)));
            sides.put("torch " + c, () -> ModelParityTest.torchForwardBackward(c, ModelParityTest.inputs(c)));
            sides.put("ours step " + c, () -> ModelParityTest.oursStep(c, ModelParityTest.stepInputs(c)));
            sides.put("torch step " + c, () -> ModelParityTest.torchStep(c, ModelParityTest.stepInputs(c)));
        }
        Map<String, Map<Quantity, float[]>> first = new LinkedHashMap<>();
        sides.forEach((side, run) -> first.put(side, run.get()));
        List<String> moved = new ArrayList<>();
        for (int r = 1; r < runs; r++) {
            int run = r;
            sides.forEach((side, again) -> diff(side, run, first.get(side), again.get(), moved));
            if (r % 10 == 0) System.out.println("stress: " + r + " runs, " + moved.size() + " moved");
        }
        System.out.println("stress: " + runs + " runs of " + name + ", " + moved.size() + " moved");
        assertThat(moved).isEmpty();
    }

    private static void diff(String side, int run, Map<Quantity, float[]> first, Map<Quantity, float[]> now, List<String> moved) {
        first.forEach((k, v) -> {
            float[] w = now.get(k);
            if (!Arrays.equals(v, w)) {
                String line = side + " run " + run + " " + k + ": " + Parity.worstEntry(w, v);
                System.out.println(line);
                moved.add(line);
            }
        });
    }
}
