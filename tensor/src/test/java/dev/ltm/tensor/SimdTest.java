package dev.ltm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class SimdTest {
    @Test
    void vectorExpIsWithinTwoUlpOfMathExp() {
        Rng rng = new Rng(9);
        int n = Simd.F.length();
        float[] x = new float[n], out = new float[n];
        double worst = 0;
        for (int trial = 0; trial < 20000; trial++) {
            for (int i = 0; i < n; i++) x[i] = (float) (rng.uniform() * 170 - 86);
            Simd.exp(FloatVector.fromArray(Simd.F, x, 0)).intoArray(out, 0);
            for (int i = 0; i < n; i++) {
                double want = Math.exp(x[i]);
                worst = Math.max(worst, Math.abs(out[i] - want) / want);
            }
        }
        assertThat(worst).isLessThan(2.5e-7);
        float[] edge = new float[n];
        java.util.Arrays.fill(edge, Float.NEGATIVE_INFINITY);
        edge[0] = 0f;
        Simd.exp(FloatVector.fromArray(Simd.F, edge, 0)).intoArray(out, 0);
        assertThat(out[0]).isEqualTo(1f);
        if (n > 1) assertThat(out[1]).isZero();
    }

    @Test
    void laneSumIsThePairwiseSum() {
        int n = Simd.F.length();
        float[] x = new float[n];
        double want = 0;
        for (int i = 0; i < n; i++) {
            x[i] = 1f / (i + 3);
            want += x[i];
        }
        assertThat((double) Simd.sumLanes(FloatVector.fromArray(Simd.F, x, 0))).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-6));
    }
}
