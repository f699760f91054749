package dev.ltm.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.ltm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradClipTest {

    @Test
    void clippingScalesOnlyAboveTheLimitAndReportsTheNormBefore() {
        Tensor a = Tensor.of(new float[] {3f, 0f}, 2), b = Tensor.of(new float[] {4f}, 1);
        List<Tensor> grads = new ArrayList<>(List.of(a, b));
        grads.add(null);
        assertThat(GradClip.clipGlobalNorm(grads, 1.0)).isCloseTo(5.0, within(1e-9));
        assertThat(a.data()[0]).isCloseTo(0.6f, within(1e-6f));
        assertThat(b.data()[0]).isCloseTo(0.8f, within(1e-6f));
        assertThat(GradClip.clipGlobalNorm(grads, 2.0)).isCloseTo(1.0, within(1e-6));
        assertThat(a.data()[0]).isCloseTo(0.6f, within(1e-6f)); // below the limit: unchanged
    }
}
