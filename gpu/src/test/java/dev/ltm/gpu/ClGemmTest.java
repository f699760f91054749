package dev.ltm.gpu;

import static dev.ltm.gpu.ClTest.assertClose;
import static dev.ltm.gpu.ClTest.randn;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ltm.tensor.Rng;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClGemmTest {
    private ClContext ctx;
    private ClGemm gemm;

    @BeforeAll
    void open() {
        ctx = ClTest.openOrSkip();
        gemm = new ClGemm(ctx);
    }

    @AfterAll
    void close() {
        if (ctx != null) ctx.close();
    }

    /** C = (acc ? C : 0) + op(A) op(B) with loops in double: the reference. */
    static void gemmNaive(boolean ta, boolean tb, int m, int n, int k, float[] a, int ao, float[] b, int bo,
                          float[] c, int co, boolean acc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    float x = ta ? a[ao + p * m + i] : a[ao + i * k + p];
                    float y = tb ? b[bo + j * k + p] : b[bo + p * n + j];
                    s += (double) x * y;
                }
                c[co + i * n + j] = (float) ((acc ? c[co + i * n + j] : 0) + s);
            }
        }
    }

    @Test
    void tiledGemmMatchesNaiveForEveryTransposeAndOddShapes() {
        Rng rng = new Rng(11);
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {17, 1, 33}, {65, 67, 19}, {64, 64, 64}, {1, 130, 3}, {129, 31, 0}};
        for (int[] s : shapes) {
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                boolean acc = t == 3;
                int m = s[0], n = s[1], k = s[2];
                int ao = 3, bo = 1, co = 2; // offsets into larger buffers
                float[] a = randn(rng, ao + m * k), b = randn(rng, bo + k * n), c = randn(rng, co + m * n);
                float[] expected = c.clone();
                gemmNaive(ta, tb, m, n, k, a, ao, b, bo, expected, co, acc);
                try (ClBuffer da = ctx.buffer(a); ClBuffer db = ctx.buffer(b); ClBuffer dc = ctx.buffer(c)) {
                    gemm.sgemm(ta, tb, m, n, k, da, ao, db, bo, dc, co, acc);
                    assertClose("sgemm %dx%dx%d ta=%s tb=%s".formatted(m, n, k, ta, tb), dc.toFloats(), expected, 1e-4);
                }
            }
        }
    }

    @Test
    void deviceNaiveKernelAgreesWithTheTiledOne() {
        Rng rng = new Rng(12);
        int m = 70, n = 45, k = 101;
        float[] a = randn(rng, k * m), b = randn(rng, n * k);
        try (ClBuffer da = ctx.buffer(a); ClBuffer db = ctx.buffer(b);
             ClBuffer c1 = ctx.buffer((long) m * n); ClBuffer c2 = ctx.buffer((long) m * n)) {
            gemm.sgemm(true, true, m, n, k, da, 0, db, 0, c1, 0, false);
            gemm.sgemmNaive(true, true, m, n, k, da, 0, db, 0, c2, 0, false);
            assertClose("tiled vs naive", c1.toFloats(), c2.toFloats(), 1e-4);
        }
    }

    @Test
    void largeInnerDimensionStaysWithinTolerance() {
        Rng rng = new Rng(13);
        int m = 37, n = 29, k = 2053;
        float[] a = randn(rng, m * k), b = randn(rng, k * n), expected = new float[m * n];
        gemmNaive(false, false, m, n, k, a, 0, b, 0, expected, 0, false);
        try (ClBuffer da = ctx.buffer(a); ClBuffer db = ctx.buffer(b); ClBuffer dc = ctx.buffer((long) m * n)) {
            gemm.sgemm(false, false, m, n, k, da, 0, db, 0, dc, 0, false);
            assertClose("sgemm k=2053", dc.toFloats(), expected, 1e-3);
        }
    }

    @Test
    void batchedGemmWithASharedRightOperand() {
        Rng rng = new Rng(14);
        int batch = 3, m = 9, n = 11, k = 13;
        float[] a = randn(rng, batch * m * k), b = randn(rng, k * n), expected = new float[batch * m * n];
        for (int i = 0; i < batch; i++) gemmNaive(false, false, m, n, k, a, i * m * k, b, 0, expected, i * m * n, false);
        try (ClBuffer da = ctx.buffer(a); ClBuffer db = ctx.buffer(b); ClBuffer dc = ctx.buffer((long) batch * m * n)) {
            gemm.sgemmBatched(batch, false, false, m, n, k, da, 0, m * k, db, 0, 0, dc, 0, m * n, false);
            assertClose("batched sgemm", dc.toFloats(), expected, 1e-4);
        }
    }

    @Test
    void accumulateIgnoresGarbageWhenOff() {
        try (ClBuffer a = ctx.buffer(new float[] {1, 2}); ClBuffer b = ctx.buffer(new float[] {3, 4});
             ClBuffer c = ctx.buffer(new float[] {Float.NaN})) {
            gemm.sgemm(false, false, 1, 1, 2, a, 0, b, 0, c, 0, false);
            assertClose("dot", c.toFloats(), new float[] {11}, 0);
            gemm.sgemm(false, false, 1, 1, 2, a, 0, b, 0, c, 0, true);
            assertClose("dot accumulated", c.toFloats(), new float[] {22}, 0);
        }
    }

    @Test
    void tooSmallBuffersAreRefusedWithTheShapes() {
        try (ClBuffer a = ctx.buffer(5); ClBuffer b = ctx.buffer(6); ClBuffer c = ctx.buffer(4)) {
            assertThatThrownBy(() -> gemm.sgemm(false, false, 2, 2, 3, a, 0, b, 0, c, 0, false))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("sgemm m=2 n=2 k=3").hasMessageContaining("A needs elements [0, 6) but has 5");
        }
    }
}
