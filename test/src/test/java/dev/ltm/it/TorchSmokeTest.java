package dev.ltm.it;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import org.junit.jupiter.api.Test;

class TorchSmokeTest {
    @Test
    void matmulAgreesWithPyTorch() {
        Rng rng = new Rng(1);
        Tensor a = Tensor.randn(rng, 0, 1, 17, 33), b = Tensor.randn(rng, 0, 1, 33, 9);
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray ta = m.create(a.data(), new Shape(17, 33)), tb = m.create(b.data(), new Shape(33, 9));
            float[] want = ta.matMul(tb).toFloatArray();
            float[] got = a.matmul(b).data();
            for (int i = 0; i < got.length; i++) assertThat(got[i]).isCloseTo(want[i], org.assertj.core.data.Offset.offset(1e-4f));
        }
    }
}
