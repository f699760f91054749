package dev.ltm.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ltm.tensor.Rng;

/** Shared test helpers: open a context or skip, random data, and float comparison. */
final class ClTest {
    private ClTest() {}

    /** A context on the first OpenCL device, or a skipped test (with the reason printed) when there is none. */
    static ClContext openOrSkip() {
        OpenClRuntime.Availability a = OpenClRuntime.available();
        if (!a.present()) System.out.println("Skipping OpenCL tests: " + a.reason());
        assumeTrue(a.present(), () -> "no OpenCL device: " + a.reason());
        return ClContext.open(a.devices().getFirst());
    }

    static float[] randn(Rng rng, int n) {
        float[] x = new float[n];
        rng.fillNormal(x, 0, 1);
        return x;
    }

    /** Asserts |actual - expected| <= tol * max(1, |expected|) element by element. */
    static void assertClose(String what, float[] actual, float[] expected, double tol) {
        assertThat(actual).as(what + " length").hasSize(expected.length);
        for (int i = 0; i < expected.length; i++) {
            double bound = tol * Math.max(1.0, Math.abs(expected[i]));
            assertThat((double) actual[i]).as("%s[%d]", what, i).isCloseTo(expected[i],
                    org.assertj.core.data.Offset.offset(bound));
        }
    }
}
