package dev.ltm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RopeTablesTest {
    /** The rotation with its table built on the spot for exactly these positions, as rope did before the tables were kept. */
    private static float[] ropeNaive(Tensor x, int[] positions, float theta, boolean inverse) {
        int b = x.dim(0), t = x.dim(1), nh = x.dim(2), hd = x.dim(3), half = hd / 2;
        float[] o = x.data().clone();
        for (int bt = 0; bt < b * t; bt++) {
            for (int h = 0; h < nh; h++) {
                int off = (bt * nh + h) * hd;
                for (int i = 0; i < half; i++) {
                    float freq = (float) (1.0 / Math.pow(theta, (float) (2 * i) / hd));
                    float angle = positions[bt % t] * freq;
                    float c = (float) Math.cos(angle), s = (float) (inverse ? -Math.sin(angle) : Math.sin(angle));
                    float x0 = o[off + 2 * i], x1 = o[off + 2 * i + 1];
                    o[off + 2 * i] = x0 * c - x1 * s;
                    o[off + 2 * i + 1] = x0 * s + x1 * c;
                }
            }
        }
        return o;
    }

    @Test
    void keptTablesGiveTheSameBitsAsTablesBuiltPerCall() {
        Rng rng = new Rng(3);
        // growing and shrinking position ranges, unordered positions, two head widths and two thetas
        int[][] cases = {{2, 3, 2, 8}, {1, 5, 3, 4}, {3, 7, 1, 6}, {1, 300, 2, 16}, {2, 2, 2, 8}, {2, 9, 3, 64}, {1, 6, 2, 20}, {1, 4, 1, 2}};
        for (int[] c : cases) {
            for (float theta : new float[] {10000f, 500f}) {
                Tensor x = Tensor.zeros(Shape.of(c[0], c[1], c[2], c[3]));
                rng.fillUniform(x.data(), -2, 2);
                int[] pos = new int[c[1]];
                for (int i = 0; i < pos.length; i++) pos[i] = rng.nextInt(4 * c[1] + 1);
                for (boolean inverse : new boolean[] {false, true}) {
                    assertThat(CpuBackend.INSTANCE.rope(x, pos, theta, inverse).data())
                            .containsExactly(ropeNaive(x, pos, theta, inverse));
                }
            }
        }
    }
}
