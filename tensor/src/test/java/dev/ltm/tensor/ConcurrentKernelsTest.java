package dev.ltm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The parallel kernels give the same bits every time, whatever else runs: each is run many times
 * from three threads at once (so the pool's tasks, Gemm's per-thread packing buffers and its spare
 * buffer are all in use together) on the shapes of ModelParityTest's grouped-K/V case (3 query heads on
 * 1 K/V head, odd sizes) and on shapes that take the GQA-chunked attention backward, and every result
 * is compared bit for bit with one computed alone; Gemm is also compared with its one-thread run.
 * A packing buffer or partial-gradient buffer shared between two calls would show here as a
 * mismatch, as the flaky parity failures would have.
 */
class ConcurrentKernelsTest {
    private static final int ROUNDS = 8;

    private static float[] random(Rng rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rng.normal();
        return x;
    }

    /** Runs {@code kernel} alone once, then ROUNDS times on each of three threads at once; every result must equal the first. */
    private static void sameBitsUnderConcurrency(String what, Callable<float[][]> kernel) throws Exception {
        float[][] alone = kernel.call();
        ExecutorService threads = Executors.newFixedThreadPool(3);
        try {
            List<Future<float[][]>> runs = new ArrayList<>();
            for (int r = 0; r < ROUNDS; r++) for (int t = 0; t < 3; t++) runs.add(threads.submit(kernel));
            for (Future<float[][]> f : runs) {
                float[][] got = f.get(5, TimeUnit.MINUTES);
                for (int i = 0; i < alone.length; i++) assertThat(got[i]).as(what + " output " + i).containsExactly(alone[i]);
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void gemmGivesTheSameBitsOnAnyThreadCountAndUnderConcurrentCalls() throws Exception {
        // [m, n, k]: the grouped case's projections, FFN and head (B*T = 39 rows), its weight gradients, and larger ones.
        int[][] shapes = {{39, 64, 24}, {39, 37, 24}, {24, 64, 39}, {64, 24, 39}, {37, 24, 39}, {130, 70, 1100}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            Rng rng = new Rng(m * 31L + n * 7L + k);
            float[] a = random(rng, m * k), bT = random(rng, n * k), c0 = random(rng, m * n);
            for (boolean transB : new boolean[] {false, true}) {
                float[] one = c0.clone();
                Gemm.sgemm(false, transB, m, n, k, a, 0, k, bT, 0, transB ? k : n, one, 0, n, true, 1);
                sameBitsUnderConcurrency("sgemm " + m + "x" + n + "x" + k + (transB ? " B^T" : ""), () -> {
                    float[] c = c0.clone();
                    Gemm.sgemm(false, transB, m, n, k, a, 0, k, bT, 0, transB ? k : n, c, 0, n, true);
                    assertThat(c).containsExactly(one);
                    return new float[][] {c};
                });
            }
        }
    }

    @Test
    void attentionForwardAndBackwardGiveTheSameBitsUnderConcurrentCalls() throws Exception {
        // {B, T, S, heads, kvHeads, hd, window}: the grouped case's self- and cross-attention; GQA-chunked backward
        // (one K/V group, long T).
        int[][] shapes = {{3, 13, 13, 3, 1, 8, 5}, {3, 13, 3, 3, 1, 8, 0}, {1, 100, 100, 4, 1, 16, 0}, {1, 70, 70, 6, 2, 8, 9}};
        for (int[] s : shapes) {
            int b = s[0], tq = s[1], tk = s[2], nh = s[3], nkv = s[4], hd = s[5], window = s[6];
            Rng rng = new Rng(tq * 131L + tk + nh);
            float[] q = random(rng, b * tq * nh * hd), k = random(rng, b * tk * nkv * hd), v = random(rng, b * tk * nkv * hd);
            float[] dOut = random(rng, b * tq * nh * hd);
            // window 0: no mask (the cross-attention case), else causal with that window
            AttentionDims d = new AttentionDims(b, tq, tk, nh, nkv, hd, window == 0 ? AttentionMask.none() : AttentionMask.causal(window));
            sameBitsUnderConcurrency("attention " + java.util.Arrays.toString(s), () -> {
                float[] out = new float[q.length], lse = new float[b * nh * tq];
                Attention.forward(q, k, v, out, lse, d);
                float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length], dqOnly = new float[q.length];
                Attention.backward(q, k, v, out, lse, dOut, dq, dk, dv, d);
                Attention.backward(q, k, v, out, lse, dOut, dqOnly, null, null, d);
                return new float[][] {out, lse, dq, dk, dv, dqOnly};
            });
        }
    }

    @Test
    void ropeGivesTheSameBitsUnderConcurrentCalls() throws Exception {
        Rng rng = new Rng(5);
        Tensor x = Tensor.of(random(rng, 3 * 13 * 3 * 8), 3, 13, 3, 8);
        int[] positions = new int[13];
        for (int i = 0; i < positions.length; i++) positions[i] = 2 * i + 1;
        sameBitsUnderConcurrency("rope", () -> new float[][] {
                CpuBackend.INSTANCE.rope(x, positions, 10000f, false).data(), CpuBackend.INSTANCE.rope(x, positions, 10000f, true).data()});
    }
}
