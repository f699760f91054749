package dev.ltm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class GemmTest {

    /** One random problem: op(A)[m,k] op(B)[k,n] into C[m,n], each stored with an offset and padded leading dimension. */
    record Problem(boolean transA, boolean transB, int m, int n, int k,
                   float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                   float[] c, int cOff, int ldc, boolean accumulate) {

        static Problem random(Rng rng, boolean transA, boolean transB, int m, int n, int k, boolean accumulate) {
            int aRows = transA ? k : m, aCols = transA ? m : k;
            int bRows = transB ? n : k, bCols = transB ? k : n;
            int lda = aCols + rng.nextInt(4), ldb = bCols + rng.nextInt(4), ldc = n + rng.nextInt(4);
            int aOff = rng.nextInt(5), bOff = rng.nextInt(5), cOff = rng.nextInt(5);
            float[] a = new float[aOff + aRows * lda + rng.nextInt(3)];
            float[] b = new float[bOff + bRows * ldb + rng.nextInt(3)];
            float[] c = new float[cOff + m * ldc + rng.nextInt(3)];
            rng.fillUniform(a, -1, 1);
            rng.fillUniform(b, -1, 1);
            rng.fillUniform(c, -1, 1);
            return new Problem(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
        }

        float[] naive() {
            float[] out = c.clone();
            Gemm.sgemmNaive(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, out, cOff, ldc, accumulate);
            return out;
        }

        float[] fast(int threads) {
            float[] out = c.clone();
            Gemm.sgemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, out, cOff, ldc, accumulate, threads);
            return out;
        }

        float[] blocked(int threads, boolean simd) {
            float[] out = c.clone();
            Gemm.sgemmParallel(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, out, cOff, ldc, accumulate, threads, simd);
            return out;
        }

        /** Per element sum |a||b| (+ |c|): the scale that float rounding error is relative to. */
        float[] magnitude() {
            float[] absA = abs(a), absB = abs(b), out = abs(c);
            Gemm.sgemmNaive(transA, transB, m, n, k, absA, aOff, lda, absB, bOff, ldb, out, cOff, ldc, accumulate);
            return out;
        }

        /** Inside C: |got - want| <= 1e-4 * magnitude (k u is under 2e-5 for k <= 300); outside the [m,n] window: untouched. */
        void assertClose(float[] got, float[] want) {
            float[] mag = magnitude();
            for (int i = 0; i < c.length; i++) {
                int row = (i - cOff) / ldc, col = (i - cOff) % ldc;
                boolean inside = i >= cOff && row < m && col < n;
                if (inside) {
                    assertThat(Math.abs(got[i] - want[i]))
                            .as("%s C(%d,%d)", this, row, col)
                            .isLessThanOrEqualTo(1e-4f * mag[i] + 1e-30f);
                } else {
                    assertThat(got[i]).as("%s: C[%d] outside the window", this, i).isEqualTo(c[i]);
                }
            }
        }

        @Override public String toString() {
            return "sgemm(" + (transA ? "T" : "N") + (transB ? "T" : "N") + " m=" + m + " n=" + n + " k=" + k
                    + (accumulate ? " acc" : "") + ")";
        }
    }

    static float[] abs(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = Math.abs(x[i]);
        return y;
    }

    /** m, n, k: ones, primes, sizes around the tile and block edges, a panel wider than NC, three depth passes. */
    static final int[][] SHAPES = {
        {1, 1, 1}, {1, 37, 5}, {5, 1, 37}, {7, 13, 31}, {17, 33, 65}, {6, 32, 64}, {13, 47, 300},
        {97, 101, 103}, {151, 67, 5}, {3, 200, 131}, {Gemm.MC + 5, 2 * Gemm.NR + 3, Gemm.KC + 1},
        {7, Gemm.NC + 17, 3}, {9, 19, 2 * Gemm.KC + 3},
    };

    @Test
    void fastMatchesNaiveOnOddShapesAllTransposesAndAccumulate() {
        Rng rng = new Rng(11);
        for (int[] s : SHAPES) {
            for (int variant = 0; variant < 8; variant++) {
                Problem p = Problem.random(rng, (variant & 1) != 0, (variant & 2) != 0, s[0], s[1], s[2], (variant & 4) != 0);
                p.assertClose(p.fast(2), p.naive());
            }
        }
    }

    @Test
    void randomShapesMatchNaive() {
        Rng rng = new Rng(23);
        for (int trial = 0; trial < 30; trial++) {
            Problem p = Problem.random(rng, rng.nextInt(2) == 1, rng.nextInt(2) == 1,
                    1 + rng.nextInt(90), 1 + rng.nextInt(90), 1 + rng.nextInt(300), rng.nextInt(2) == 1);
            p.assertClose(p.fast(Parallel.threads()), p.naive());
        }
    }

    @Test
    void scalarPathMatchesNaive() {
        Rng rng = new Rng(5);
        for (int[] s : new int[][] {{1, 1, 1}, {7, 13, 31}, {17, 33, 65}, {Gemm.MC + 5, 2 * Gemm.NR + 3, Gemm.KC + 1}}) {
            for (int variant = 0; variant < 8; variant++) {
                Problem p = Problem.random(rng, (variant & 1) != 0, (variant & 2) != 0, s[0], s[1], s[2], (variant & 4) != 0);
                p.assertClose(p.blocked(2, false), p.naive());
            }
        }
    }

    @Test
    void vectorAndScalarKernelsAgreeOnOnePackedTile() {
        Rng rng = new Rng(9);
        int kc = 37;
        float[] pa = new float[Gemm.MR * kc], pb = new float[Gemm.NR * kc];
        rng.fillUniform(pa, -1, 1);
        rng.fillUniform(pb, -1, 1);
        int ldc = Gemm.NR + 3;
        float[] c0 = new float[Gemm.MR * ldc];
        rng.fillUniform(c0, -1, 1);
        for (boolean add : new boolean[] {false, true}) {
            float[] vec = c0.clone(), sca = c0.clone();
            Gemm.kernelPacked(kc, pa, 0, pb, 0, vec, 0, ldc, add);
            Gemm.kernelScalar(kc, pa, 0, pb, 0, sca, 0, ldc, add);
            for (int i = 0; i < vec.length; i++) {
                assertThat(vec[i]).as("C[%d] add=%s", i, add).isCloseTo(sca[i], Offset.offset(1e-4f));
            }
        }
    }

    /**
     * The tile and blocks follow the tuning whichever class reached it first: when Tuning read Gemm's own L, a JVM that
     * initialised Attention before Gemm ran the Intel tuning's attention with the default GEMM (MR 4, KC 1024).
     */
    @Test
    void tileAndBlocksFollowTheTuning() {
        boolean intel = Gemm.Tuning.INTEL_AVX512;
        assertThat(Attention.EIGHT_ROWS).isEqualTo(intel);
        assertThat(Gemm.MR).isEqualTo(intel ? 12 : 4);
        assertThat(Gemm.IN_PLACE_SLIVERS).isEqualTo(intel ? 4 : 8);
        if (System.getProperty("ltm.gemm.kc") == null) assertThat(Gemm.KC).isEqualTo(intel ? 256 : 1024);
        assertThat(Gemm.configuration()).contains("MR x NR = " + Gemm.MR + " x " + Gemm.NR);
    }

    /** Both tiles' kernels, whichever this machine's MR is: each element is the FMA chain over p, then + C when adding. */
    @Test
    void fourAndTwelveRowKernelsFormEachElementsFmaChain() {
        Rng rng = new Rng(10);
        int kc = 29, nr = Gemm.NR, ldc = nr + 5;
        for (int rows : new int[] {4, 12}) {
            float[] pa = new float[rows * kc], pb = new float[nr * kc], c0 = new float[rows * ldc];
            rng.fillUniform(pa, -1, 1);
            rng.fillUniform(pb, -1, 1);
            rng.fillUniform(c0, -1, 1);
            for (boolean add : new boolean[] {false, true}) {
                float[] got = c0.clone();
                if (rows == 4) Gemm.kernel(kc, pa, 0, pb, 0, got, 0, ldc, add);
                else Gemm.kernel12(kc, pa, 0, pb, 0, got, 0, ldc, add);
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < ldc; j++) {
                        float want = c0[r * ldc + j];
                        if (j < nr) {
                            float acc = 0;
                            for (int p = 0; p < kc; p++) acc = Math.fma(pa[p * rows + r], pb[p * nr + j], acc);
                            want = add ? acc + c0[r * ldc + j] : acc;
                        }
                        assertThat(got[r * ldc + j]).as("rows=%d add=%s C[%d,%d]", rows, add, r, j).isEqualTo(want);
                    }
                }
            }
        }
    }

    /**
     * A stored as rows is read in place for narrow C ({@link Gemm#IN_PLACE_SLIVERS}), stored transposed it is
     * packed: the same op(A) either way gives the same bits, edge rows and tiles, two depth passes and
     * accumulation included.
     */
    @Test
    void aReadInPlaceGivesTheBitsOfPackedA() {
        Rng rng = new Rng(29);
        int[][] shapes = {{Gemm.MC + 5, 2 * Gemm.NR + 3, Gemm.KC + 1}, {53, Gemm.IN_PLACE_SLIVERS * Gemm.NR, 300},
                {Gemm.MR + 1, 3, 4000}, {2 * Gemm.MC + 2, Gemm.NR, 65}};
        for (int[] sh : shapes) {
            int m = sh[0], n = sh[1], k = sh[2];
            for (boolean accumulate : new boolean[] {false, true}) {
                Problem rows = Problem.random(rng, false, true, m, n, k, accumulate);
                float[] at = new float[k * m]; // the same op(A), stored [k, m]
                for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) at[p * m + i] = rows.a()[rows.aOff() + i * rows.lda() + p];
                Problem cols = new Problem(true, true, m, n, k, at, 0, m, rows.b(), rows.bOff(), rows.ldb(),
                        rows.c(), rows.cOff(), rows.ldc(), accumulate);
                for (int threads : new int[] {1, 2}) {
                    float[] inPlace = rows.fast(threads);
                    assertThat(inPlace).as("%s threads=%d", rows, threads).containsExactly(cols.fast(threads));
                    rows.assertClose(inPlace, rows.naive());
                }
            }
        }
    }

    /**
     * One B panel packed by all tasks together ({@link Gemm#sgemmSharedPanel}) gives the bits of each task packing its own:
     * two column blocks and two depth passes, edge rows and columns, A packed and read in place, 2 and 3 tasks.
     */
    @Test
    void sharedPanelGivesTheBitsOfOnePanelPerTask() {
        Rng rng = new Rng(41);
        int[][] shapes = {{37, Gemm.NC + 2 * Gemm.NR + 5, Gemm.KC + 9}, {2 * Gemm.MC + 7, Gemm.IN_PLACE_SLIVERS * Gemm.NR - 3, 2 * Gemm.KC + 1},
                {Gemm.MR * 3, Gemm.NR, 70}};
        for (int[] sh : shapes) {
            for (boolean transA : new boolean[] {false, true}) {
                for (boolean transB : new boolean[] {false, true}) {
                    Problem p = Problem.random(rng, transA, transB, sh[0], sh[1], sh[2], transA == transB);
                    float[] perTask = p.blocked(1, Simd.ENABLED);
                    p.assertClose(perTask, p.naive());
                    for (int tasks : new int[] {2, 3}) {
                        float[] shared = p.c().clone();
                        Gemm.sgemmSharedPanel(transA, transB, p.m(), p.n(), p.k(), p.a(), p.aOff(), p.lda(), p.b(), p.bOff(), p.ldb(),
                                shared, p.cOff(), p.ldc(), p.accumulate(), tasks, Simd.ENABLED);
                        assertThat(shared).as("%s tasks=%d", p, tasks).containsExactly(perTask);
                    }
                }
            }
        }
        // and sgemm takes it for a row split whose panel is large enough, with the same bits as on one thread
        int k = Gemm.KC, n = Math.max(Gemm.NR, Gemm.SHARED_PANEL / k), m = n + Gemm.MR + 1;
        assertThat(m >= n && (long) Math.min(n, Gemm.NC) * Math.min(k, Gemm.KC) >= Gemm.SHARED_PANEL).as("a shape that qualifies").isTrue();
        Problem big = Problem.random(rng, false, false, m, n, k, false);
        assertThat(big.fast(2)).as("%s", big).containsExactly(big.fast(1));
    }

    @Test
    void threadCountDoesNotChangeTheResult() {
        Rng rng = new Rng(3);
        Problem tall = Problem.random(rng, false, true, 203, 45, 70, false);     // split by rows
        Problem wide = Problem.random(rng, true, false, 11, 301, 70, true);      // split by columns
        for (Problem p : new Problem[] {tall, wide}) {
            assertThat(p.fast(2)).as("%s", p).containsExactly(p.fast(1));
            assertThat(p.blocked(7, true)).as("%s", p).containsExactly(p.fast(1));
            // called from inside a task of the pool (a fit's sub-batch), the product runs as one task on that thread
            float[][] inTask = new float[1][];
            Parallel.forChunks(2, 2, (lo, hi) -> {
                if (lo == 0) inTask[0] = p.fast(2);
            });
            assertThat(inTask[0]).as("inside a task: %s", p).containsExactly(p.fast(1));
        }
    }

    @Test
    void emptyInnerDimensionZeroesOrKeepsC() {
        float[] c = {1, 2, 3, 4, 5, 6};
        float[] kept = c.clone();
        Gemm.sgemm(false, false, 2, 3, 0, new float[0], 0, 0, new float[0], 0, 3, kept, 0, 3, true);
        assertThat(kept).containsExactly(c);
        float[] zeroed = c.clone();
        Gemm.sgemm(false, false, 2, 3, 0, new float[0], 0, 0, new float[0], 0, 3, zeroed, 0, 3, false);
        assertThat(zeroed).containsOnly(0f);
        float[] untouched = c.clone();
        Gemm.sgemm(false, false, 0, 3, 4, new float[0], 0, 4, new float[12], 0, 3, untouched, 0, 3, false);
        assertThat(untouched).containsExactly(c);
    }

    @Test
    void badArgumentsAreRejectedWithTheSizes() {
        float[] a = new float[6], b = new float[6], c = new float[4];
        assertThatThrownBy(() -> Gemm.sgemm(false, false, -1, 2, 3, a, 0, 3, b, 0, 2, c, 0, 2, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("sgemm: m=-1 n=2 k=3: negative size");
        assertThatThrownBy(() -> Gemm.sgemm(false, false, 2, 2, 3, a, 0, 2, b, 0, 2, c, 0, 2, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("sgemm: m=2 n=2 k=3: A stored [2, 3] with ld=2 at offset 0: leading dimension < 3");
        assertThatThrownBy(() -> Gemm.sgemm(false, false, 2, 2, 3, a, 1, 3, b, 0, 2, c, 0, 2, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("sgemm: m=2 n=2 k=3: A stored [2, 3] with ld=3 at offset 1: needs 7 floats, array has 6");
        assertThatThrownBy(() -> Gemm.sgemm(false, true, 2, 2, 3, a, 0, 3, b, 0, 2, c, 0, 2, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("sgemm: m=2 n=2 k=3: B stored [2, 3] with ld=2 at offset 0: leading dimension < 3");
        assertThatThrownBy(() -> Gemm.sgemm(false, false, 2, 2, 3, a, 0, 3, b, 0, 2, new float[3], 0, 2, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("sgemm: m=2 n=2 k=3: C stored [2, 2] with ld=2 at offset 0: needs 4 floats, array has 3");
        assertThatThrownBy(() -> Gemm.sgemm(false, false, 2, 2, 3, a, -1, 3, b, 0, 2, c, 0, 2, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative offset");
        assertThatThrownBy(() -> Gemm.sgemm(false, false, 2, 2, 3, a, 0, 3, b, 0, 2, c, 0, 2, false, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("sgemm: m=2 n=2 k=3: threads 0 < 1");
        assertThatThrownBy(() -> Gemm.sgemm(false, false, 2, 2, 3, null, 0, 3, b, 0, 2, c, 0, 2, false))
                .isInstanceOf(NullPointerException.class).hasMessage("sgemm: m=2 n=2 k=3: A is null");
        // The valid call the failures above were variations of.
        Gemm.sgemm(false, false, 2, 2, 3, new float[] {1, 2, 3, 4, 5, 6}, 0, 3, new float[] {1, 0, 0, 1, 1, 1}, 0, 2, c, 0, 2, false);
        assertThat(c).containsExactly(4, 5, 10, 11);
    }

    @Test
    void fmaChainsSumTheirSteps() {
        assertThat(FmaPeak.chains(1f, 1e-3f)).isCloseTo(12 * 256 * 1e-3f, Offset.offset(1e-2f));
        assertThatThrownBy(() -> FmaPeak.measureGflops(0)).hasMessage("FmaPeak.measureGflops: threads 0 < 1");
    }

    @Test
    void fewRowsWithoutPackingMatchNaiveAndIgnoreTheThreadCount() {
        Rng rng = new Rng(41);
        // m <= FEW_ROWS and large enough to skip the simple loop: a decoding step's products, odd n and k
        int[][] shapes = {{1, 768, 256}, {1, 258, 256}, {3, 301, 129}, {4, 67, 700}, {2, 1030, 64}};
        for (int[] sh : shapes) {
            for (boolean transA : new boolean[] {false, true}) {
                for (boolean transB : new boolean[] {false, true}) {
                    for (boolean acc : new boolean[] {false, true}) {
                        Problem pr = Problem.random(rng, transA, transB, sh[0], sh[1], sh[2], acc);
                        float[] one = pr.fast(1);
                        pr.assertClose(one, pr.naive());
                        assertThat(pr.fast(2)).containsExactly(one);
                    }
                }
            }
        }
    }

    @Test
    void naiveIsTheTextbookProduct() {
        // [2,3] x [3,2] by hand, B transposed in storage.
        float[] a = {1, 2, 3, 4, 5, 6}, bt = {7, 9, 11, 8, 10, 12}, c = new float[4];
        Gemm.sgemmNaive(false, true, 2, 2, 3, a, 0, 3, bt, 0, 3, c, 0, 2, false);
        assertThat(c).containsExactly(58, 64, 139, 154);
    }

    /** The Intel tuning's 12-row pack of A (two-vector rearranges of 16 lanes) puts every value where the plain loop does. */
    @Test
    void twelveRowPackPlacesEveryValueAsThePlainLoop() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Simd.ENABLED && Simd.F.length() == 16, "needs 16-lane vectors");
        Rng rng = new Rng(31);
        int lda = 301;
        float[] a = new float[14 * lda];
        rng.fillUniform(a, -1, 1);
        for (int kc : new int[] {1, 15, 16, 17, 64, 250}) {
            float[] got = new float[5 + 12 * kc], want = new float[5 + 12 * kc];
            Gemm.packRows12(a, 7, lda, kc, got, 5);
            for (int p = 0; p < kc; p++) for (int r = 0; r < 12; r++) want[5 + p * 12 + r] = a[7 + r * lda + p];
            assertThat(got).as("kc %d", kc).containsExactly(want);
        }
    }

    /** Three rounds of interleaving transpose an 8 x 8 block (256-bit vectors, which every host's Vector API runs). */
    @Test
    void eightByEightTransposeMovesEveryValue() {
        assertTransposes(8, 13, 11, Gemm::transpose8);
    }

    /** Four rounds of interleaving transpose a 16 x 16 block (the transposed-B pack's step on 16-lane hosts). */
    @Test
    void sixteenBySixteenTransposeMovesEveryValue() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Simd.ENABLED && Simd.F.length() == 16, "needs 16-lane vectors");
        assertTransposes(16, 37, 21, Gemm::transpose16);
    }

    /** A square transpose's signature: (b, src, ld, dst, dstOff, dstStride). */
    private interface SquareTranspose { void run(float[] b, int src, int ld, float[] dst, int dstOff, int dstStride); }

    /** The size x size block at offset 3 of rows ld apart lands transposed at offset 2 of rows stride apart. */
    private static void assertTransposes(int size, int ld, int stride, SquareTranspose transpose) {
        Rng rng = new Rng(32 + size);
        float[] b = new float[3 + size * ld], dst = new float[2 + size * stride];
        rng.fillUniform(b, -1, 1);
        transpose.run(b, 3, ld, dst, 2, stride);
        for (int r = 0; r < size; r++) {
            for (int c = 0; c < size; c++) assertThat(dst[2 + c * stride + r]).as("row %d column %d", r, c).isEqualTo(b[3 + r * ld + c]);
        }
    }
}
