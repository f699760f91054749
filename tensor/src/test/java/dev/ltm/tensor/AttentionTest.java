package dev.ltm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AttentionTest {

    /** One attention problem: sizes plus seeded random inputs. */
    record Case(int batch, int tq, int tk, int nH, int nKv, int hd, int window) {
        int qLen() { return batch * tq * nH * hd; }
        int kLen() { return batch * tk * nKv * hd; }
        int lseLen() { return batch * nH * tq; }
        AttentionDims dims() {
            return new AttentionDims(batch, tq, tk, nH, nKv, hd, window == 0 ? AttentionMask.none() : AttentionMask.causal(window));
        }

        @Override public String toString() {
            return "B" + batch + " T" + tq + " S" + tk + " nH" + nH + " nKv" + nKv + " hd" + hd + " w" + window;
        }
    }

    /** The odd shapes the kernels must handle: hd 1..64, T 1..33, cross and self, windows, GQA. */
    static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        int[] hds = {1, 3, 17, 64};
        int[] ts = {1, 7, 33};
        for (int hd : hds) {
            for (int t : ts) {
                int batch = (hd + t) % 2 == 0 ? 1 : 3;
                // cross-attention: S != T, no mask; nKv 1 and nKv nH
                cases.add(new Case(batch, t, t == 1 ? 5 : t + 4, 4, 1, hd, 0));
                cases.add(new Case(batch, t, 1, 2, 2, hd, 0));
                // self-attention: window 1, 5, T (full causal), nKv varied
                cases.add(new Case(batch, t, t, 2, 2, hd, 1));
                cases.add(new Case(batch, t, t, 6, 3, hd, 5));
                cases.add(new Case(batch, t, t, 3, 1, hd, t));
            }
        }
        // several query and key blocks, a window narrower than a block, B > 1
        cases.add(new Case(2, 97, 97, 4, 2, 16, 40));
        cases.add(new Case(1, 70, 130, 2, 1, 8, 0));
        cases.add(new Case(1, 129, 129, 2, 2, 5, 129));
        return cases;
    }

    static float[] normal(Rng rng, int n, double std) {
        float[] x = new float[n];
        rng.fillNormal(x, 0, std);
        return x;
    }

    /**
     * max |a - b| / max(max |b|, 0.1): an error relative to the size of the reference. The floor
     * matters where the exact result is 0 (window 1: softmax over one key has no gradient), and
     * float rounding of dp - D, two O(1) numbers that cancel, is all that is left.
     */
    static double relError(float[] a, float[] b) {
        double diff = 0, scale = 0.1;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(b[i]));
        }
        return diff / scale;
    }

    static double relError(double[] a, double[] b) {
        double diff = 0, scale = 1e-12;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(b[i]));
        }
        return diff / scale;
    }

    @Test
    void forwardMatchesNaiveOnOddShapes() {
        Rng rng = new Rng(11);
        for (Case c : cases()) {
            float[] q = normal(rng, c.qLen(), 1.5), k = normal(rng, c.kLen(), 1.5), v = normal(rng, c.kLen(), 1);
            float[] out = new float[c.qLen()], lse = new float[c.lseLen()];
            float[] outRef = new float[c.qLen()], lseRef = new float[c.lseLen()];
            Attention.forward(q, k, v, out, lse, c.dims());
            Attention.forwardNaive(q, k, v, outRef, lseRef, c.dims());
            assertThat(relError(out, outRef)).as("out " + c).isLessThan(1e-4);
            assertThat(relError(lse, lseRef)).as("lse " + c).isLessThan(1e-4);
        }
    }

    @Test
    void backwardMatchesNaiveOnOddShapes() {
        Rng rng = new Rng(12);
        for (Case c : cases()) {
            float[] q = normal(rng, c.qLen(), 1.5), k = normal(rng, c.kLen(), 1.5), v = normal(rng, c.kLen(), 1);
            float[] dOut = normal(rng, c.qLen(), 1);
            float[] out = new float[c.qLen()], lse = new float[c.lseLen()];
            Attention.forward(q, k, v, out, lse, c.dims());
            float[] dq = new float[c.qLen()], dk = new float[c.kLen()], dv = new float[c.kLen()];
            float[] dqRef = new float[c.qLen()], dkRef = new float[c.kLen()], dvRef = new float[c.kLen()];
            Attention.backward(q, k, v, out, lse, dOut, dq, dk, dv, c.dims());
            Attention.backwardNaive(q, k, v, out, lse, dOut, dqRef, dkRef, dvRef, c.dims());
            assertThat(relError(dq, dqRef)).as("dq " + c).isLessThan(1e-4);
            assertThat(relError(dk, dkRef)).as("dk " + c).isLessThan(1e-4);
            assertThat(relError(dv, dvRef)).as("dv " + c).isLessThan(1e-4);
        }
    }

    @Test
    void slidingWindowOfOneCopiesTheValueOfTheSameToken() {
        Rng rng = new Rng(13);
        int batch = 2, t = 9, nH = 4, nKv = 2, hd = 5;
        float[] q = normal(rng, batch * t * nH * hd, 1), k = normal(rng, batch * t * nKv * hd, 1);
        float[] v = normal(rng, batch * t * nKv * hd, 1);
        float[] out = new float[q.length], lse = new float[batch * nH * t];
        Attention.forward(q, k, v, out, lse, new AttentionDims(batch, t, t, nH, nKv, hd, AttentionMask.causal(1)));
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < t; i++)
                for (int h = 0; h < nH; h++)
                    for (int d = 0; d < hd; d++)
                        assertThat(out[((b * t + i) * nH + h) * hd + d])
                                .isEqualTo(v[((b * t + i) * nKv + h / 2) * hd + d]);
    }

    @Test
    void backwardAddsIntoPrefilledGradients() {
        Rng rng = new Rng(14);
        Case c = new Case(3, 33, 33, 4, 2, 17, 5);
        float[] q = normal(rng, c.qLen(), 1), k = normal(rng, c.kLen(), 1), v = normal(rng, c.kLen(), 1);
        float[] dOut = normal(rng, c.qLen(), 1);
        float[] out = new float[c.qLen()], lse = new float[c.lseLen()];
        Attention.forward(q, k, v, out, lse, c.dims());
        float[] dq0 = new float[c.qLen()], dk0 = new float[c.kLen()], dv0 = new float[c.kLen()];
        Attention.backward(q, k, v, out, lse, dOut, dq0, dk0, dv0, c.dims());
        float[] dqPre = normal(rng, c.qLen(), 1), dkPre = normal(rng, c.kLen(), 1), dvPre = normal(rng, c.kLen(), 1);
        float[] dq = dqPre.clone(), dk = dkPre.clone(), dv = dvPre.clone();
        Attention.backward(q, k, v, out, lse, dOut, dq, dk, dv, c.dims());
        assertThat(relError(dq, sum(dqPre, dq0))).isLessThan(1e-6);
        assertThat(relError(dk, sum(dkPre, dk0))).isLessThan(1e-6);
        assertThat(relError(dv, sum(dvPre, dv0))).isLessThan(1e-6);
        // the reference accumulates the same way
        float[] dqRef = dqPre.clone(), dkRef = dkPre.clone(), dvRef = dvPre.clone();
        Attention.backwardNaive(q, k, v, out, lse, dOut, dqRef, dkRef, dvRef, c.dims());
        assertThat(relError(dq, dqRef)).isLessThan(1e-4);
        assertThat(relError(dk, dkRef)).isLessThan(1e-4);
        assertThat(relError(dv, dvRef)).isLessThan(1e-4);
    }

    static float[] sum(float[] a, float[] b) {
        float[] c = new float[a.length];
        for (int i = 0; i < a.length; i++) c[i] = a[i] + b[i];
        return c;
    }

    @Test
    void nullGradientsAreSkippedAndTheOthersUnchanged() {
        Rng rng = new Rng(15);
        for (Case c : List.of(new Case(1, 33, 33, 4, 1, 17, 7), new Case(3, 7, 12, 2, 2, 3, 0))) {
            float[] q = normal(rng, c.qLen(), 1), k = normal(rng, c.kLen(), 1), v = normal(rng, c.kLen(), 1);
            float[] dOut = normal(rng, c.qLen(), 1);
            float[] out = new float[c.qLen()], lse = new float[c.lseLen()];
            Attention.forward(q, k, v, out, lse, c.dims());
            float[] dq = new float[c.qLen()], dk = new float[c.kLen()], dv = new float[c.kLen()];
            Attention.backward(q, k, v, out, lse, dOut, dq, dk, dv, c.dims());
            for (int mask = 0; mask < 8; mask++) {
                float[] dqM = (mask & 1) != 0 ? new float[c.qLen()] : null;
                float[] dkM = (mask & 2) != 0 ? new float[c.kLen()] : null;
                float[] dvM = (mask & 4) != 0 ? new float[c.kLen()] : null;
                Attention.backward(q, k, v, out, lse, dOut, dqM, dkM, dvM, c.dims());
                if (dqM != null) assertThat(relError(dqM, dq)).as("dq mask " + mask + " " + c).isLessThan(1e-6);
                if (dkM != null) assertThat(relError(dkM, dk)).as("dk mask " + mask + " " + c).isLessThan(1e-6);
                if (dvM != null) assertThat(relError(dvM, dv)).as("dv mask " + mask + " " + c).isLessThan(1e-6);
            }
        }
    }

    @Test
    void naiveBackwardMatchesFiniteDifferencesOfNaiveForward() {
        Rng rng = new Rng(16);
        List<Case> cases = List.of(
                new Case(2, 6, 6, 4, 2, 3, 3),   // sliding window, grouped kv
                new Case(1, 5, 5, 2, 1, 4, 5),   // full causal
                new Case(2, 4, 7, 2, 2, 5, 0));  // cross-attention
        for (Case c : cases) {
            double[] q = normalD(rng, c.qLen()), k = normalD(rng, c.kLen()), v = normalD(rng, c.kLen());
            double[] w = normalD(rng, c.qLen());
            // loss = sum(out * w), so dLoss/dOut = w
            double[] dq = new double[c.qLen()], dk = new double[c.kLen()], dv = new double[c.kLen()];
            Attention.backwardNaive(q, k, v, w, dq, dk, dv, c.dims());
            assertThat(relError(finiteDifference(c, q, k, v, w, q), dq)).as("dq " + c).isLessThan(1e-6);
            assertThat(relError(finiteDifference(c, q, k, v, w, k), dk)).as("dk " + c).isLessThan(1e-6);
            assertThat(relError(finiteDifference(c, q, k, v, w, v), dv)).as("dv " + c).isLessThan(1e-6);
        }
    }

    static double[] normalD(Rng rng, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = rng.normal();
        return x;
    }

    /** Central differences of sum(out * w) in each entry of x (one of q, k, v). */
    static double[] finiteDifference(Case c, double[] q, double[] k, double[] v, double[] w, double[] x) {
        double eps = 1e-5;
        double[] grad = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double saved = x[i];
            x[i] = saved + eps;
            double plus = loss(c, q, k, v, w);
            x[i] = saved - eps;
            double minus = loss(c, q, k, v, w);
            x[i] = saved;
            grad[i] = (plus - minus) / (2 * eps);
        }
        return grad;
    }

    static double loss(Case c, double[] q, double[] k, double[] v, double[] w) {
        double[] out = new double[c.qLen()], lse = new double[c.lseLen()];
        Attention.forwardNaive(q, k, v, out, lse, c.dims());
        double loss = 0;
        for (int i = 0; i < out.length; i++) loss += out[i] * w[i];
        return loss;
    }

    @Test
    void badArgumentsAreRejectedWithTheOpAndSizes() {
        int b = 1, t = 4, nH = 4, nKv = 2, hd = 8;
        float[] q = new float[b * t * nH * hd], k = new float[b * t * nKv * hd], v = new float[b * t * nKv * hd];
        float[] out = new float[q.length], lse = new float[b * nH * t];
        AttentionDims cross = new AttentionDims(b, t, t, nH, nKv, hd, AttentionMask.none());
        assertThatThrownBy(() -> new AttentionDims(b, t, t, nH, 3, hd, AttentionMask.none()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("attention: nHeads 4 is not a multiple of nKvHeads 3");
        assertThatThrownBy(() -> new AttentionDims(b, t, t + 1, nH, nKv, hd, AttentionMask.causal(2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("attention: a causal window needs tq == tk, got tq 4 and tk 5");
        assertThatThrownBy(() -> AttentionMask.causal(0))
                .hasMessageStartingWith("attention: a causal window must be >= 1, got 0");
        assertThatThrownBy(() -> new AttentionDims(-1, t, t, nH, nKv, hd, AttentionMask.none()))
                .hasMessageStartingWith("attention: negative size");
        assertThatThrownBy(() -> Attention.forward(q, k, v, out, new float[3], cross))
                .hasMessageStartingWith("attention.forward: lse has length 3, expected 16")
                .hasMessageContaining("tq 4");
        assertThatThrownBy(() -> Attention.forward(q, new float[5], v, out, lse, cross))
                .hasMessageStartingWith("attention.forward: k has length 5, expected 64");
        assertThatThrownBy(() -> Attention.backward(q, k, v, out, lse, new float[1], null, null, null, cross))
                .hasMessageStartingWith("attention.backward: dOut has length 1, expected 128");
        assertThatThrownBy(() -> Attention.backward(q, k, v, out, lse, out, null, new float[2], null, cross))
                .hasMessageStartingWith("attention.backward: dk has length 2, expected 64");
        assertThatThrownBy(() -> Attention.backward(q, k, v, out, lse, null, null, null, null, cross))
                .hasMessageStartingWith("attention.backward: dOut is null");
    }

    @Test
    void shapesAreCheckedOnceForEveryCaller() {
        Shape q = Shape.of(2, 5, 4, 8), k = Shape.of(2, 3, 2, 8);
        AttentionDims d = AttentionDims.of(q, k, k, AttentionMask.none());
        assertThat(d).isEqualTo(new AttentionDims(2, 5, 3, 4, 2, 8, AttentionMask.none()));
        assertThat(d.lseShape()).isEqualTo(Shape.of(2, 4, 5));
        assertThat(d.kernelWindow()).isZero();
        assertThat(AttentionDims.of(q, q, q, AttentionMask.causal(3)).kernelWindow()).isEqualTo(3);
        assertThat(AttentionMask.causal(3)).isInstanceOfSatisfying(AttentionMask.Causal.class,
                c -> assertThat(new int[] {c.firstKey(0), c.firstKey(2), c.firstKey(7)}).containsExactly(0, 0, 5));
        assertThatThrownBy(() -> AttentionDims.of(q, k, k, AttentionMask.causal(3)))
                .hasMessageContaining("a causal window needs as many keys as queries").hasMessageContaining("[2, 5, 4, 8]");
        assertThatThrownBy(() -> AttentionDims.of(q, k, Shape.of(2, 3, 2, 7), AttentionMask.none()))
                .hasMessageContaining("expected [B, Tq, nH, hd] and [B, Tk, nKv, hd]");
        assertThatThrownBy(() -> AttentionDims.of(q, Shape.of(2, 3, 3, 8), Shape.of(2, 3, 3, 8), AttentionMask.none()))
                .hasMessageContaining("nKv dividing nH");
    }

    /** Not a test of speed: prints the fast/naive ratio on one mid size for the record. */
    @Test
    void fastForwardAndBackwardAgreeWithNaiveOnAMidSize() {
        Rng rng = new Rng(17);
        Case c = new Case(1, 256, 256, 4, 4, 64, 256);
        float[] q = normal(rng, c.qLen(), 1), k = normal(rng, c.kLen(), 1), v = normal(rng, c.kLen(), 1);
        float[] dOut = normal(rng, c.qLen(), 1);
        float[] out = new float[c.qLen()], lse = new float[c.lseLen()];
        float[] outRef = new float[c.qLen()], lseRef = new float[c.lseLen()];
        float[] dq = new float[c.qLen()], dk = new float[c.kLen()], dv = new float[c.kLen()];
        float[] dqRef = new float[c.qLen()], dkRef = new float[c.kLen()], dvRef = new float[c.kLen()];
        long tFast = 0, tNaive = 0, tFastB = 0, tNaiveB = 0;
        for (int rep = 0; rep < 3; rep++) {
            long t0 = System.nanoTime();
            Attention.forward(q, k, v, out, lse, c.dims());
            long t1 = System.nanoTime();
            Attention.forwardNaive(q, k, v, outRef, lseRef, c.dims());
            long t2 = System.nanoTime();
            Attention.backward(q, k, v, out, lse, dOut, dq, dk, dv, c.dims());
            long t3 = System.nanoTime();
            Attention.backwardNaive(q, k, v, out, lse, dOut, dqRef, dkRef, dvRef, c.dims());
            long t4 = System.nanoTime();
            tFast = t1 - t0; tNaive = t2 - t1; tFastB = t3 - t2; tNaiveB = t4 - t3;
        }
        System.out.printf("attention %s: forward fast %.2f ms naive %.2f ms (x%.1f); backward fast %.2f ms naive %.2f ms (x%.1f)%n",
                c, tFast / 1e6, tNaive / 1e6, (double) tNaive / tFast, tFastB / 1e6, tNaiveB / 1e6, (double) tNaiveB / tFastB);
        assertThat(relError(out, outRef)).isLessThan(1e-4);
        // backward ran three times into the same buffers: compare one third of the sums
        for (float[] x : List.of(dq, dk, dv, dqRef, dkRef, dvRef))
            for (int i = 0; i < x.length; i++) x[i] /= 3;
        assertThat(relError(dq, dqRef)).isLessThan(1e-4);
        assertThat(relError(dk, dkRef)).isLessThan(1e-4);
        assertThat(relError(dv, dvRef)).isLessThan(1e-4);
    }

    /** The eight-row tiles form every element as the four-row ones do, bit for bit, whichever this machine uses. */
    @Test
    void eightRowTilesMatchFourRowTilesBitForBit() {
        Rng rng = new Rng(77);
        int hd = 64, tStride = 150, aStride = 70;
        float[] a = new float[8 * aStride], t = new float[hd * tStride];
        rng.fillUniform(a, -1, 1);
        rng.fillUniform(t, -1, 1);
        for (int n : new int[] {1, 15, 16, 33, 64}) {
            float[] eight = new float[8 * Attention.BLOCK_K], four = new float[8 * Attention.BLOCK_K];
            Attention.scores8(a, 0, aStride, t, 3, tStride, n, hd, 0.125f, eight, 0);
            Attention.scores4(a, 0, aStride, 2 * aStride, 3 * aStride, t, 3, tStride, n, hd, 0.125f, four, 0, 0);
            Attention.scores4(a, 4 * aStride, 5 * aStride, 6 * aStride, 7 * aStride, t, 3, tStride, n, hd, 0.125f, four, 4 * Attention.BLOCK_K, 0);
            assertThat(eight).as("scores, %d keys", n).isEqualTo(four);
        }
        // acc rows of hd (+ 40 for hd 40) += sum over the visible keys c of w[row, c] * rows[c]: causal, shifted and disjoint spans
        int keys = 40, rowStride = 90, wStep = keys;
        float[] rows = new float[keys * rowStride], w = new float[8 * wStep];
        rng.fillUniform(rows, -1, 1);
        rng.fillUniform(w, -1, 1);
        int[][][] spans = {
            {{0, 33, 34, 35, 36, 37, 38, 39}, {0, 0, 0, 0, 0, 0, 0, 0}},
            {{40, 40, 40, 40, 40, 40, 40, 40}, {0, 1, 2, 3, 4, 5, 6, 7}},
            {{10, 12, 14, 16, 30, 32, 34, 36}, {0, 0, 4, 4, 20, 20, 25, 25}},
            {{5, 5, 5, 5, 40, 40, 40, 40}, {0, 0, 0, 0, 20, 20, 20, 20}},
        };
        for (int width : new int[] {64, 40}) {
            for (int[][] span : spans) {
                int[] hi = span[0], lo = span[1];
                int accStep = width + 3;
                float[] acc8 = new float[8 * accStep], acc4;
                rng.fillUniform(acc8, -1, 1);
                acc4 = acc8.clone();
                float[] packed = new float[keys * width];
                Attention.packPairs(rows, 2, rowStride, keys, width, packed);
                Attention.accumulateGroup(8, 0, acc8, 0, accStep, w, 0, wStep, lo, hi, rows, 2, rowStride, width, packed, keys);
                Attention.accumulateGroup(4, 0, acc4, 0, accStep, w, 0, wStep, lo, hi, rows, 2, rowStride, width, packed, keys);
                Attention.accumulateGroup(4, 4, acc4, 0, accStep, w, 0, wStep, lo, hi, rows, 2, rowStride, width, packed, keys);
                assertThat(acc8).as("accumulate, hd %d, hi %s lo %s", width, java.util.Arrays.toString(hi), java.util.Arrays.toString(lo))
                        .isEqualTo(acc4);
            }
        }
    }

    /**
     * Targets summed in groups, from rows packed by {@link Attention#packPairs}, get the bits of each target summed alone
     * from the rows in place: head dimensions with and without a tail past the last pair of vectors, and counts that
     * leave targets outside any group.
     */
    @Test
    void groupedAccumulationOnPackedRowsMatchesOneTargetAtATimeBitForBit() {
        Rng rng = new Rng(79);
        int keys = 40, rowStride = 90, targets = 8;
        float[] rows = new float[keys * rowStride + 2], w = new float[targets * keys];
        rng.fillUniform(rows, -1, 1);
        rng.fillUniform(w, -1, 1);
        int[] hi = {33, 34, 40, 36, 37, 38, 39, 12}, lo = {0, 0, 3, 4, 5, 5, 20, 0};
        int wStep = keys;
        for (int width : new int[] {64, 40, 16, 8}) {
            for (int count : new int[] {8, 6, 4, 3}) {
                int accStep = width + 3;
                float[] grouped = new float[targets * accStep], one;
                rng.fillUniform(grouped, -1, 1);
                one = grouped.clone();
                float[] packed = new float[Attention.PACKED_ROWS * width];
                java.util.Arrays.fill(packed, Float.NaN); // what the packing leaves unwritten must not be read
                Attention.accumulateSpans(grouped, 0, accStep, w, 0, wStep, lo, hi, count, rows, 2, rowStride, width, packed);
                for (int q = 0; q < count; q++) {
                    Attention.accumulateSpans(one, q * accStep, accStep, w, q * wStep, wStep, new int[] {lo[q]},
                            new int[] {hi[q]}, 1, rows, 2, rowStride, width, packed);
                }
                assertThat(grouped).as("hd %d, %d targets", width, count).isEqualTo(one);
            }
        }
    }

    /** The transposition of keys and tiles, in squares of vectors where it can and one value at a time at the edges. */
    @Test
    void transposeBlockMovesEveryValueWhateverTheSizes() {
        Rng rng = new Rng(80);
        for (int[] size : new int[][] {{64, 64}, {37, 20}, {8, 5}, {3, 64}, {256, 16}, {33, 40}}) {
            int n = size[0], hd = size[1], stride = hd + 7, tStride = n + 9;
            float[] src = new float[5 + n * stride], t = new float[4 + hd * tStride];
            rng.fillUniform(src, -1, 1);
            Attention.transposeBlock(src, 5, stride, n, hd, t, 4, tStride);
            for (int c = 0; c < n; c++) {
                for (int d = 0; d < hd; d++) {
                    assertThat(t[4 + d * tStride + c]).as("%d x %d: row %d column %d", n, hd, c, d).isEqualTo(src[5 + c * stride + d]);
                }
            }
        }
    }

    /** Eight interleaved chains give each row the bits of its own {@link Attention#dotInOrder}. */
    @Test
    void eightDotsInOrderMatchOneAtATime() {
        Rng rng = new Rng(78);
        for (int n : new int[] {1, 17, 64}) {
            int stride = n + 5;
            float[] a = new float[9 * stride], b = new float[9 * stride], dst = new float[10];
            rng.fillNormal(a, 0, 1);
            rng.fillNormal(b, 0, 1);
            Attention.dotsInOrder8(a, b, 3, stride, n, dst, 2);
            for (int r = 0; r < 8; r++) {
                assertThat(dst[2 + r]).as("row %d of width %d", r, n).isEqualTo(Attention.dotInOrder(a, 3 + r * stride, b, 3 + r * stride, n));
            }
        }
    }
}
