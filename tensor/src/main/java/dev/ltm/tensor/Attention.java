package dev.ltm.tensor;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused scaled dot-product attention with grouped K/V heads and an optional causal sliding
 * window, forward and backward, on flat float arrays (spec section 1: self- and cross-attention).
 *
 * <pre>
 * q, out, dOut, dq : [B, T, nH,  hd]   index ((b*T + t)*nH  + h)*hd + d
 * k, v, dk, dv     : [B, S, nKv, hd]   index ((b*S + j)*nKv + g)*hd + d,  g = h / (nH / nKv)
 * lse              : [B, nH, T]        log-sum-exp of the scaled scores of each query row,
 *                                      written by forward, read by backward (with out)
 * scale = 1 / sqrt(hd)
 * mask causal(W): S == T, query i sees keys max(0, i-W+1) .. i   (full causal: W = T)
 * mask none:      every query sees all S keys (cross-attention)
 * </pre>
 *
 * Sizes and mask arrive as one validated {@link AttentionDims}; inside, the mask is the int
 * {@code window} of {@link AttentionDims#kernelWindow()} (0 = none) that the hot loops test.
 *
 * The fast kernels never build a T x S matrix: forward runs an online softmax (running max and
 * sum) over blocks of keys, backward recomputes the probabilities from lse. With a window they
 * visit only the keys inside it, so the cost is O(T * window * hd).
 */
public final class Attention {
    /**
     * Below this many multiply-adds of q k^T (batch * heads * T * S * hd) a call runs on the calling
     * thread: a decoding step's attention (one query) took longer to fork and join than to compute.
     */
    static final long INLINE_WORK = 1 << 16;

    /** Tasks a call may use: one under {@link #INLINE_WORK}, else all threads. */
    static int tasks(AttentionDims d) {
        long work = (long) d.batch() * d.heads() * d.tq() * d.tk() * d.headDim();
        return work < INLINE_WORK ? 1 : Parallel.threads();
    }

    /** Query rows per work unit: one key block is reused from L1 by all of them. */
    static final int BLOCK_Q = 32;
    /** Keys per block of the online softmax. */
    static final int BLOCK_K = 64;

    private static final VectorSpecies<Float> F = Simd.F;

    private Attention() {}

    // ---------------------------------------------------------------------------------------
    // forward

    /**
     * Writes softmax(q k^T * scale, masked) v into {@code out} and the row log-sum-exps into
     * {@code lse}; shapes and mask as in the class comment.
     */
    public static void forward(float[] q, float[] k, float[] v, float[] out, float[] lse, AttentionDims d) {
        checkLengths("attention.forward", d, q, k, v, out, lse);
        int tq = d.tq(), nHeads = d.heads();
        int qBlocks = (tq + BLOCK_Q - 1) / BLOCK_Q;
        int units = d.batch() * nHeads * qBlocks;
        float[] kT = transposeKeys(k, d);
        Parallel.forRange(units, tasks(d), u -> {
            int qb = u % qBlocks, bh = u / qBlocks;
            forwardBlock(q, k, kT, v, out, lse, d, bh / nHeads, bh % nHeads, qb * BLOCK_Q, Math.min(tq, (qb + 1) * BLOCK_Q));
        });
    }

    /**
     * Query rows [i0, i1) of head h of batch b. Working space: acc [BLOCK_Q, hd] and one block
     * of scores [BLOCK_Q, BLOCK_K].
     */
    private static void forwardBlock(float[] q, float[] k, float[] kT, float[] v, float[] out, float[] lse, AttentionDims dims,
                                     int b, int h, int i0, int i1) {
        int tq = dims.tq(), tk = dims.tk(), nH = dims.heads(), nKv = dims.kvHeads(), hd = dims.headDim();
        int window = dims.kernelWindow();
        int rows = i1 - i0;
        int g = h / (nH / nKv);
        int qStride = nH * hd, kStride = nKv * hd;
        int qBase = (b * tq * nH + h) * hd, kBase = (b * tk * nKv + g) * hd;
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] acc = new float[rows * hd];
        float[] s = new float[BLOCK_K];
        float[] m = new float[rows], l = new float[rows];
        Arrays.fill(m, Float.NEGATIVE_INFINITY);
        float[] sRow = kT == null ? null : new float[BLOCK_K];
        int pad = paddedKeys(tk), tBase = (b * nKv + g) * hd * pad;

        int keyStart = keyLo(i0, window), keyEnd = keyHi(i1 - 1, tk, window);
        for (int j0 = keyStart; j0 < keyEnd; j0 += BLOCK_K) {
            int j1 = Math.min(j0 + BLOCK_K, keyEnd);
            for (int r = 0; r < rows; r++) {
                int i = i0 + r;
                int cLo = Math.max(j0, keyLo(i, window)), cHi = Math.min(j1, keyHi(i, tk, window));
                if (cLo >= cHi) continue;
                int n = cHi - cLo;
                int qOff = qBase + i * qStride;
                // s_c = scale * q_i . k_j for the visible keys j = cLo + c of this block
                if (kT != null) {
                    scoresRow(q, qOff, kT, tBase + j0, pad, j1 - j0, hd, scale, sRow);
                    System.arraycopy(sRow, cLo - j0, s, 0, n);
                } else {
                    dotRows(q, qOff, k, kBase + cLo * kStride, kStride, n, hd, scale, s, 0);
                }
                float blockMax = Float.NEGATIVE_INFINITY;
                for (int c = 0; c < n; c++) blockMax = Math.max(blockMax, s[c]);
                // online softmax: rescale the running sum and accumulator to the new max
                float mNew = Math.max(m[r], blockMax);
                if (m[r] != mNew && l[r] != 0) {
                    float corr = (float) Math.exp(m[r] - mNew);
                    l[r] *= corr;
                    scaleRow(acc, r * hd, hd, corr);
                }
                m[r] = mNew;
                l[r] += expShifted(s, n, mNew);
                // acc_i += sum_c p_c v_j
                accumulateRows(acc, r * hd, s, 0, n, v, kBase + cLo * kStride, kStride, hd);
            }
        }
        for (int r = 0; r < rows; r++) {
            int i = i0 + r;
            int oOff = qBase + i * qStride;
            float inv = l[r] == 0 ? 0f : 1f / l[r];
            for (int d = 0; d < hd; d++) out[oOff + d] = acc[r * hd + d] * inv;
            lse[(b * nH + h) * tq + i] = l[r] == 0 ? Float.NEGATIVE_INFINITY : m[r] + (float) Math.log(l[r]);
        }
    }

    // ---------------------------------------------------------------------------------------
    // backward

    /**
     * Adds the gradients of the attention output into {@code dq}, {@code dk}, {@code dv} (any
     * may be null: not needed), given forward's {@code out} and {@code lse} and the upstream
     * gradient {@code dOut}.
     */
    public static void backward(float[] q, float[] k, float[] v, float[] out, float[] lse, float[] dOut,
                                float[] dq, float[] dk, float[] dv, AttentionDims d) {
        checkLengths("attention.backward", d, q, k, v, out, lse);
        checkGradientLengths("attention.backward", d, dOut, dq, dk, dv);
        if (dq == null && dk == null && dv == null) return;
        Operands x = new Operands(q, k, v, out, lse, dOut, transposeKeys(k, d), dq != null || dk != null ? transposeKeys(v, d) : null);
        int tq = d.tq(), tk = d.tk(), nKvHeads = d.kvHeads(), headDim = d.headDim();
        int groups = d.batch() * nKvHeads;
        // dk and dv of one (batch, kv head) are written by one unit only: no data race. When there
        // are fewer such groups than threads, split the queries into chunks that each add into
        // their own dk/dv buffer, summed in chunk order afterwards (deterministic).
        int qBlocks = (tq + BLOCK_Q - 1) / BLOCK_Q;
        int threads = tasks(d);
        int chunks = (dk == null && dv == null) ? Math.min(qBlocks, threads)
                : Math.min(qBlocks, Math.max(1, (threads + groups - 1) / groups));
        if (chunks <= 1) {
            Parallel.forRange(groups, threads, u -> backwardGroup(x, d, dq,
                    new KvGradients(dk, dv, (u / nKvHeads * tk * nKvHeads + u % nKvHeads) * headDim, nKvHeads * headDim),
                    u / nKvHeads, u % nKvHeads, 0, tq));
            return;
        }
        int nChunks = chunks;
        int part = tk * headDim;
        float[][] dkParts = new float[groups * nChunks][], dvParts = new float[groups * nChunks][];
        Parallel.forRange(groups * nChunks, u -> {
            int grp = u / nChunks, c = u % nChunks;
            int blkLo = (int) ((long) qBlocks * c / nChunks), blkHi = (int) ((long) qBlocks * (c + 1) / nChunks);
            float[] dkp = dk == null ? null : new float[part], dvp = dv == null ? null : new float[part];
            dkParts[u] = dkp;
            dvParts[u] = dvp;
            backwardGroup(x, d, dq, new KvGradients(dkp, dvp, 0, headDim),
                    grp / nKvHeads, grp % nKvHeads, blkLo * BLOCK_Q, Math.min(tq, blkHi * BLOCK_Q));
        });
        Parallel.forRange(groups, grp -> {
            int base = (grp / nKvHeads * tk * nKvHeads + grp % nKvHeads) * headDim, stride = nKvHeads * headDim;
            for (int c = 0; c < nChunks; c++) {
                for (int j = 0; j < tk; j++) {
                    if (dk != null) addRow(dk, base + j * stride, dkParts[grp * nChunks + c], j * headDim, headDim);
                    if (dv != null) addRow(dv, base + j * stride, dvParts[grp * nChunks + c], j * headDim, headDim);
                }
            }
        });
    }

    /** The forward's inputs and results and the upstream gradient, as backward reads them. */
    private record Operands(float[] q, float[] k, float[] v, float[] out, float[] lse, float[] dOut, float[] kT, float[] vT) {}

    /**
     * Where one backward unit adds dk and dv (either may be null): row j at {@code base + j * stride},
     * in the real arrays or in a private partial buffer.
     */
    private record KvGradients(float[] dk, float[] dv, int base, int stride) {}

    /** Query rows [t0, t1) of every query head of kv head g of batch b. */
    private static void backwardGroup(Operands x, AttentionDims d, float[] dq, KvGradients kv,
                                      int b, int g, int t0, int t1) {
        float[] q = x.q(), k = x.k(), v = x.v(), out = x.out(), lse = x.lse(), dOut = x.dOut();
        float[] dk = kv.dk(), dv = kv.dv();
        int dkvBase = kv.base(), dkvStride = kv.stride();
        int tq = d.tq(), tk = d.tk(), nH = d.heads(), nKv = d.kvHeads(), hd = d.headDim(), window = d.kernelWindow();
        int groupSize = nH / nKv;
        int qStride = nH * hd, kStride = nKv * hd;
        int kBase = (b * tk * nKv + g) * hd;
        float scale = (float) (1.0 / Math.sqrt(hd));
        boolean needDs = dq != null || dk != null;
        float[] p = new float[BLOCK_Q * BLOCK_K], ds = new float[BLOCK_Q * BLOCK_K];
        float[] dRow = new float[BLOCK_Q];
        float[] dqAcc = dq == null ? null : new float[BLOCK_Q * hd];
        int[] lo = new int[BLOCK_Q], hi = new int[BLOCK_Q];
        float[] kT = x.kT(), vT = x.vT(), sRow = kT == null ? null : new float[BLOCK_K];
        int pad = paddedKeys(tk), tBase = (b * nKv + g) * hd * pad;

        for (int h = g * groupSize; h < (g + 1) * groupSize; h++) {
            int qBase = (b * tq * nH + h) * hd;
            int lseBase = (b * nH + h) * tq;
            for (int i0 = t0; i0 < t1; i0 += BLOCK_Q) {
                int i1 = Math.min(t1, i0 + BLOCK_Q), rows = i1 - i0;
                // D_i = dOut_i . out_i
                for (int r = 0; r < rows; r++) {
                    int off = qBase + (i0 + r) * qStride;
                    // in the order the dOut . v_j of ds below are summed, so that a row whose output is one v_j
                    // (a window of 1) gets ds exactly 0, as the exact gradient is
                    dRow[r] = vT != null ? dotInOrder(dOut, off, out, off, hd) : dot(dOut, off, out, off, hd);
                }
                if (dqAcc != null) Arrays.fill(dqAcc, 0f);
                int keyStart = keyLo(i0, window), keyEnd = keyHi(i1 - 1, tk, window);
                for (int j0 = keyStart; j0 < keyEnd; j0 += BLOCK_K) {
                    int j1 = Math.min(j0 + BLOCK_K, keyEnd), n = j1 - j0;
                    // P and dS of this [rows, n] tile; zero outside each row's visible keys
                    for (int r = 0; r < rows; r++) {
                        int i = i0 + r;
                        int cLo = Math.max(j0, keyLo(i, window)), cHi = Math.min(j1, keyHi(i, tk, window));
                        lo[r] = cLo - j0;
                        hi[r] = Math.max(cLo, cHi) - j0;
                        int off = qBase + i * qStride;
                        float lseI = lse[lseBase + i];
                        int pr = r * BLOCK_K;
                        Arrays.fill(p, pr, pr + n, 0f);
                        Arrays.fill(ds, pr, pr + n, 0f);
                        int nr = hi[r] - lo[r];
                        if (nr == 0) continue;
                        // p_ij = exp(scale * q_i . k_j - lse_i)
                        if (kT != null) {
                            scoresRow(q, off, kT, tBase + j0, pad, n, hd, scale, sRow);
                            System.arraycopy(sRow, lo[r], p, pr + lo[r], nr);
                        } else {
                            dotRows(q, off, k, kBase + (j0 + lo[r]) * kStride, kStride, nr, hd, scale, p, pr + lo[r]);
                        }
                        for (int c = lo[r]; c < hi[r]; c++) p[pr + c] -= lseI;
                        expInPlace(p, pr + lo[r], nr);
                        if (needDs) {
                            // ds_ij = p_ij (dOut_i . v_j - D_i), times scale for dq and dk
                            if (vT != null) {
                                scoresRow(dOut, off, vT, tBase + j0, pad, n, hd, 1f, sRow);
                                System.arraycopy(sRow, lo[r], ds, pr + lo[r], nr);
                            } else {
                                dotRows(dOut, off, v, kBase + (j0 + lo[r]) * kStride, kStride, nr, hd, 1f, ds, pr + lo[r]);
                            }
                            for (int c = lo[r]; c < hi[r]; c++)
                                ds[pr + c] = scale * p[pr + c] * (ds[pr + c] - dRow[r]);
                        }
                    }
                    // dv_j += sum_i p_ij dOut_i ; dk_j += sum_i ds_ij q_i
                    if (dv != null)
                        accumulateColumns(dv, dkvBase + j0 * dkvStride, dkvStride, p, n, rows, lo, hi,
                                dOut, qBase + i0 * qStride, qStride, hd);
                    if (dk != null)
                        accumulateColumns(dk, dkvBase + j0 * dkvStride, dkvStride, ds, n, rows, lo, hi,
                                q, qBase + i0 * qStride, qStride, hd);
                    // dq_i += sum_j ds_ij k_j
                    if (dqAcc != null)
                        for (int r = 0; r < rows; r++)
                            if (lo[r] < hi[r])
                                accumulateRows(dqAcc, r * hd, ds, r * BLOCK_K + lo[r], hi[r] - lo[r],
                                        k, kBase + (j0 + lo[r]) * kStride, kStride, hd);
                }
                if (dqAcc != null)
                    for (int r = 0; r < rows; r++)
                        addRow(dq, qBase + (i0 + r) * qStride, dqAcc, r * hd, hd);
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // mask

    /** First key query i sees. */
    static int keyLo(int i, int window) { return window > 0 ? Math.max(0, i - window + 1) : 0; }

    /** One past the last key query i sees. */
    static int keyHi(int i, int tk, int window) { return window > 0 ? i + 1 : tk; }

    // ---------------------------------------------------------------------------------------
    // small vector kernels over hd, each with its scalar twin

    /** a[aOff..aOff+n) . b[bOff..bOff+n). */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int d = 0;
        float sum = 0f;
        if (Simd.ENABLED && n >= F.length()) {
            FloatVector acc = FloatVector.zero(F);
            for (int bound = F.loopBound(n); d < bound; d += F.length())
                acc = FloatVector.fromArray(F, a, aOff + d).fma(FloatVector.fromArray(F, b, bOff + d), acc);
            sum = Simd.sumLanes(acc);
        }
        for (; d < n; d++) sum += a[aOff + d] * b[bOff + d];
        return sum;
    }

    /** a[aOff..aOff+n) . b[bOff..bOff+n) as one FMA chain over d in order: the sum one lane of {@link #scoresRow} forms. */
    static float dotInOrder(float[] a, int aOff, float[] b, int bOff, int n) {
        float sum = 0f;
        for (int d = 0; d < n; d++) sum = Math.fma(a[aOff + d], b[bOff + d], sum);
        return sum;
    }

    /**
     * dst[dstOff + c] = scale * a[aOff..aOff+hd) . row c, for the n rows at rowBase + c * rowStride:
     * four rows at a time share the loads of a and run four independent FMA chains.
     */
    static void dotRows(float[] a, int aOff, float[] rows, int rowBase, int rowStride, int n, int hd,
                        float scale, float[] dst, int dstOff) {
        int c = 0;
        if (Simd.ENABLED && hd >= F.length()) {
            int bound = F.loopBound(hd);
            for (; c + 4 <= n; c += 4) {
                int r0 = rowBase + c * rowStride, r1 = r0 + rowStride, r2 = r1 + rowStride, r3 = r2 + rowStride;
                FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
                for (int d = 0; d < bound; d += F.length()) {
                    FloatVector x = FloatVector.fromArray(F, a, aOff + d);
                    s0 = x.fma(FloatVector.fromArray(F, rows, r0 + d), s0);
                    s1 = x.fma(FloatVector.fromArray(F, rows, r1 + d), s1);
                    s2 = x.fma(FloatVector.fromArray(F, rows, r2 + d), s2);
                    s3 = x.fma(FloatVector.fromArray(F, rows, r3 + d), s3);
                }
                float t0 = Simd.sumLanes(s0), t1 = Simd.sumLanes(s1);
                float t2 = Simd.sumLanes(s2), t3 = Simd.sumLanes(s3);
                for (int d = bound; d < hd; d++) {
                    float x = a[aOff + d];
                    t0 += x * rows[r0 + d];
                    t1 += x * rows[r1 + d];
                    t2 += x * rows[r2 + d];
                    t3 += x * rows[r3 + d];
                }
                dst[dstOff + c] = scale * t0;
                dst[dstOff + c + 1] = scale * t1;
                dst[dstOff + c + 2] = scale * t2;
                dst[dstOff + c + 3] = scale * t3;
            }
        }
        for (; c < n; c++) dst[dstOff + c] = scale * dot(a, aOff, rows, rowBase + c * rowStride, hd);
    }

    /**
     * Copies n rows of width hd (row c at base + c * stride) into t transposed: t[tBase + d * tStride + c].
     * Done once per call and read by every query row, it turns the n dot products of a row into hd
     * broadcast FMAs over vectors of keys, with no lane reductions (for a head of 16, one vector, a
     * reduction cost more than its dot product).
     */
    static void transposeBlock(float[] src, int base, int stride, int n, int hd, float[] t, int tBase, int tStride) {
        for (int c = 0; c < n; c++) {
            int off = base + c * stride;
            for (int d = 0; d < hd; d++) t[tBase + d * tStride + c] = src[off + d];
        }
    }

    /**
     * k (or v) [B, S, nKv, hd] transposed per (batch, kv head) into [B * nKv][hd][{@link #paddedKeys}(S)],
     * once per call, so that every query block reads its keys as vectors; null on the scalar path and for
     * fewer than BLOCK_Q / 4 queries.
     */
    static float[] transposeKeys(float[] k, AttentionDims d) {
        // A handful of queries (a decoding step) would pay as much to transpose as to attend.
        if (!Simd.ENABLED || d.tq() < BLOCK_Q / 4) return null;
        int tk = d.tk(), nKv = d.kvHeads(), hd = d.headDim(), pad = paddedKeys(tk);
        float[] t = new float[d.batch() * nKv * hd * pad];
        Parallel.forRange(d.batch() * nKv, tasks(d), bg -> transposeBlock(k, ((bg / nKv) * tk * nKv + bg % nKv) * hd, nKv * hd, tk, hd,
                t, bg * hd * pad, pad));
        return t;
    }

    /** Row length of the transposed keys: one vector past S, as far as {@link #scoresRow} reads past a block's end. */
    static int paddedKeys(int tk) { return tk + F.length(); }

    /**
     * dst[c] = scale * a[aOff..aOff+hd) . column c of the transposed keys (key c of the block at
     * t[tBase + d * tStride + c]), for c in [0, n) rounded up to whole vectors (n <= BLOCK_K; it reads
     * and writes less than one vector past n, inside {@link #paddedKeys} and dst's BLOCK_K; lanes past n
     * are not meaningful). The twin of {@link #dotRows} on {@link #transposeKeys}'s layout, summing over d in order.
     */
    static void scoresRow(float[] a, int aOff, float[] t, int tBase, int tStride, int n, int hd, float scale, float[] dst) {
        int len = F.length(), c = 0;
        for (; c + 3 * len < n; c += 4 * len) { // 4 * len divides BLOCK_K: the group stays inside dst
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            for (int d = 0; d < hd; d++) {
                FloatVector x = FloatVector.broadcast(F, a[aOff + d]);
                int row = tBase + d * tStride + c;
                s0 = x.fma(FloatVector.fromArray(F, t, row), s0);
                s1 = x.fma(FloatVector.fromArray(F, t, row + len), s1);
                s2 = x.fma(FloatVector.fromArray(F, t, row + 2 * len), s2);
                s3 = x.fma(FloatVector.fromArray(F, t, row + 3 * len), s3);
            }
            s0.mul(scale).intoArray(dst, c);
            s1.mul(scale).intoArray(dst, c + len);
            s2.mul(scale).intoArray(dst, c + 2 * len);
            s3.mul(scale).intoArray(dst, c + 3 * len);
        }
        for (; c < n; c += len) {
            FloatVector s0 = FloatVector.zero(F);
            for (int d = 0; d < hd; d++) {
                s0 = FloatVector.broadcast(F, a[aOff + d]).fma(FloatVector.fromArray(F, t, tBase + d * tStride + c), s0);
            }
            s0.mul(scale).intoArray(dst, c);
        }
    }

    /** acc[off..off+n) *= c. */
    private static void scaleRow(float[] acc, int off, int n, float c) {
        int d = 0;
        if (Simd.ENABLED)
            for (int bound = F.loopBound(n); d < bound; d += F.length())
                FloatVector.fromArray(F, acc, off + d).mul(c).intoArray(acc, off + d);
        for (; d < n; d++) acc[off + d] *= c;
    }

    /** dst[dOff..dOff+n) += src[sOff..sOff+n). */
    private static void addRow(float[] dst, int dOff, float[] src, int sOff, int n) {
        int d = 0;
        if (Simd.ENABLED)
            for (int bound = F.loopBound(n); d < bound; d += F.length())
                FloatVector.fromArray(F, dst, dOff + d).add(FloatVector.fromArray(F, src, sOff + d))
                        .intoArray(dst, dOff + d);
        for (; d < n; d++) dst[dOff + d] += src[sOff + d];
    }

    /** s[0..n) = exp(s - shift); returns their sum. */
    private static float expShifted(float[] s, int n, float shift) {
        int c = 0;
        float sum = 0f;
        if (Simd.ENABLED) {
            FloatVector acc = FloatVector.zero(F);
            for (int bound = F.loopBound(n); c < bound; c += F.length()) {
                FloatVector e = Simd.exp(FloatVector.fromArray(F, s, c).sub(shift));
                e.intoArray(s, c);
                acc = acc.add(e);
            }
            sum = Simd.sumLanes(acc);
        }
        for (; c < n; c++) {
            float e = (float) Math.exp(s[c] - shift);
            s[c] = e;
            sum += e;
        }
        return sum;
    }

    /** x[off..off+n) = exp(x). */
    private static void expInPlace(float[] x, int off, int n) {
        int c = 0;
        if (Simd.ENABLED)
            for (int bound = F.loopBound(n); c < bound; c += F.length())
                Simd.exp(FloatVector.fromArray(F, x, off + c)).intoArray(x, off + c);
        for (; c < n; c++) x[off + c] = (float) Math.exp(x[off + c]);
    }

    /**
     * acc[accOff..accOff+hd) += sum_c w[wOff + c] * rows[rowBase + c*rowStride ..+hd) for c in [0, n):
     * one row of a (weights x rows) product.
     */
    private static void accumulateRows(float[] acc, int accOff, float[] w, int wOff, int n,
                                       float[] rows, int rowBase, int rowStride, int hd) {
        accumulate(acc, accOff, w, wOff, 1, n, rows, rowBase, rowStride, hd);
    }

    /**
     * For each key column c of a [rows, BLOCK_K] tile w: dst row c += sum_r w[r, c] * src row r,
     * summing only the rows whose visible range [lo[r], hi[r]) holds c.
     */
    private static void accumulateColumns(float[] dst, int dstBase, int dstStride, float[] w, int n,
                                          int rows, int[] lo, int[] hi,
                                          float[] src, int srcBase, int srcStride, int hd) {
        for (int c = 0; c < n; c++) {
            int rLo = 0, rHi = rows;
            while (rLo < rows && !(lo[rLo] <= c && c < hi[rLo])) rLo++;
            while (rHi > rLo && !(lo[rHi - 1] <= c && c < hi[rHi - 1])) rHi--;
            if (rLo >= rHi) continue;
            accumulate(dst, dstBase + c * dstStride, w, rLo * BLOCK_K + c, BLOCK_K, rHi - rLo,
                    src, srcBase + rLo * srcStride, srcStride, hd);
        }
    }

    /**
     * acc[accOff..accOff+hd) += sum_c w[wOff + c*wStride] * rows[rowBase + c*rowStride ..+hd) for c in
     * [0, n), the accumulator held in registers. Four (then two) vector slices of the row go through the
     * c loop together: one slice alone is a single chain of dependent FMAs, which waits on the FMA's
     * latency (4 cycles on Zen 3) while two FMA units could each start one per cycle. Every lane still
     * sums over c in order, so the result does not depend on how the slices are grouped.
     */
    private static void accumulate(float[] acc, int accOff, float[] w, int wOff, int wStride, int n,
                                   float[] rows, int rowBase, int rowStride, int hd) {
        int d = 0;
        if (Simd.ENABLED) {
            int len = F.length();
            for (; d + 4 * len <= hd; d += 4 * len) {
                int o = accOff + d;
                FloatVector a0 = FloatVector.fromArray(F, acc, o), a1 = FloatVector.fromArray(F, acc, o + len);
                FloatVector a2 = FloatVector.fromArray(F, acc, o + 2 * len), a3 = FloatVector.fromArray(F, acc, o + 3 * len);
                for (int c = 0; c < n; c++) {
                    FloatVector x = FloatVector.broadcast(F, w[wOff + c * wStride]);
                    int row = rowBase + c * rowStride + d;
                    a0 = FloatVector.fromArray(F, rows, row).fma(x, a0);
                    a1 = FloatVector.fromArray(F, rows, row + len).fma(x, a1);
                    a2 = FloatVector.fromArray(F, rows, row + 2 * len).fma(x, a2);
                    a3 = FloatVector.fromArray(F, rows, row + 3 * len).fma(x, a3);
                }
                a0.intoArray(acc, o);
                a1.intoArray(acc, o + len);
                a2.intoArray(acc, o + 2 * len);
                a3.intoArray(acc, o + 3 * len);
            }
            for (; d + 2 * len <= hd; d += 2 * len) {
                int o = accOff + d;
                FloatVector a0 = FloatVector.fromArray(F, acc, o), a1 = FloatVector.fromArray(F, acc, o + len);
                for (int c = 0; c < n; c++) {
                    FloatVector x = FloatVector.broadcast(F, w[wOff + c * wStride]);
                    int row = rowBase + c * rowStride + d;
                    a0 = FloatVector.fromArray(F, rows, row).fma(x, a0);
                    a1 = FloatVector.fromArray(F, rows, row + len).fma(x, a1);
                }
                a0.intoArray(acc, o);
                a1.intoArray(acc, o + len);
            }
            for (int bound = F.loopBound(hd); d < bound; d += len) {
                FloatVector a = FloatVector.fromArray(F, acc, accOff + d);
                for (int c = 0; c < n; c++)
                    a = FloatVector.fromArray(F, rows, rowBase + c * rowStride + d).fma(FloatVector.broadcast(F, w[wOff + c * wStride]), a);
                a.intoArray(acc, accOff + d);
            }
        }
        for (; d < hd; d++) {
            float a = acc[accOff + d];
            for (int c = 0; c < n; c++) a += w[wOff + c * wStride] * rows[rowBase + c * rowStride + d];
            acc[accOff + d] = a;
        }
    }

    // ---------------------------------------------------------------------------------------
    // naive references: the full [T, S] score matrix per (batch, head), in double

    /** Reference forward: builds every score row in double; same contract as {@link #forward}. */
    static void forwardNaive(float[] q, float[] k, float[] v, float[] out, float[] lse, AttentionDims d) {
        checkLengths("attention.forwardNaive", d, q, k, v, out, lse);
        double[] outD = new double[out.length], lseD = new double[lse.length];
        forwardNaive(toDouble(q), toDouble(k), toDouble(v), outD, lseD, d);
        for (int i = 0; i < out.length; i++) out[i] = (float) outD[i];
        for (int i = 0; i < lse.length; i++) lse[i] = (float) lseD[i];
    }

    /** Reference backward: recomputes P from q and k in double (out and lse are not read); accumulates. */
    static void backwardNaive(float[] q, float[] k, float[] v, float[] out, float[] lse, float[] dOut,
                              float[] dq, float[] dk, float[] dv, AttentionDims d) {
        checkLengths("attention.backwardNaive", d, q, k, v, out, lse);
        checkGradientLengths("attention.backwardNaive", d, dOut, dq, dk, dv);
        double[] dqD = dq == null ? null : toDouble(dq);
        double[] dkD = dk == null ? null : toDouble(dk);
        double[] dvD = dv == null ? null : toDouble(dv);
        backwardNaive(toDouble(q), toDouble(k), toDouble(v), toDouble(dOut), dqD, dkD, dvD, d);
        if (dq != null) for (int i = 0; i < dq.length; i++) dq[i] = (float) dqD[i];
        if (dk != null) for (int i = 0; i < dk.length; i++) dk[i] = (float) dkD[i];
        if (dv != null) for (int i = 0; i < dv.length; i++) dv[i] = (float) dvD[i];
    }

    /** The double-precision reference forward (no validation: callers pass consistent sizes). */
    static void forwardNaive(double[] q, double[] k, double[] v, double[] out, double[] lse, AttentionDims dims) {
        int batch = dims.batch(), tq = dims.tq(), tk = dims.tk(), nH = dims.heads(), nKv = dims.kvHeads(), hd = dims.headDim();
        int window = dims.kernelWindow();
        double scale = 1.0 / Math.sqrt(hd);
        double[] p = new double[tk];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < nH; h++) {
                int g = h / (nH / nKv);
                for (int i = 0; i < tq; i++) {
                    int qOff = ((b * tq + i) * nH + h) * hd;
                    int lo = keyLo(i, window), hi = keyHi(i, tk, window);
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = lo; j < hi; j++) {
                        int kOff = ((b * tk + j) * nKv + g) * hd;
                        double s = 0;
                        for (int d = 0; d < hd; d++) s += q[qOff + d] * k[kOff + d];
                        p[j] = s * scale;
                        max = Math.max(max, p[j]);
                    }
                    double sum = 0;
                    for (int j = lo; j < hi; j++) {
                        p[j] = Math.exp(p[j] - max);
                        sum += p[j];
                    }
                    for (int d = 0; d < hd; d++) {
                        double o = 0;
                        for (int j = lo; j < hi; j++) o += p[j] * v[((b * tk + j) * nKv + g) * hd + d];
                        out[qOff + d] = sum == 0 ? 0 : o / sum;
                    }
                    lse[(b * nH + h) * tq + i] = sum == 0 ? Double.NEGATIVE_INFINITY : max + Math.log(sum);
                }
            }
        }
    }

    /**
     * The double-precision reference backward, accumulating into dq, dk, dv (each may be null):
     * P = softmax(S), dP = dOut V^T, dS = P * (dP - rowsum(P * dP)), dQ = scale dS K,
     * dK = scale dS^T Q, dV = P^T dOut.
     */
    static void backwardNaive(double[] q, double[] k, double[] v, double[] dOut,
                              double[] dq, double[] dk, double[] dv, AttentionDims dims) {
        int batch = dims.batch(), tq = dims.tq(), tk = dims.tk(), nH = dims.heads(), nKv = dims.kvHeads(), hd = dims.headDim();
        int window = dims.kernelWindow();
        double scale = 1.0 / Math.sqrt(hd);
        double[][] p = new double[tq][tk], dp = new double[tq][tk];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < nH; h++) {
                int g = h / (nH / nKv);
                for (int i = 0; i < tq; i++) {
                    int qOff = ((b * tq + i) * nH + h) * hd;
                    int lo = keyLo(i, window), hi = keyHi(i, tk, window);
                    Arrays.fill(p[i], 0);
                    Arrays.fill(dp[i], 0);
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = lo; j < hi; j++) {
                        int kOff = ((b * tk + j) * nKv + g) * hd;
                        double s = 0, t = 0;
                        for (int d = 0; d < hd; d++) {
                            s += q[qOff + d] * k[kOff + d];
                            t += dOut[qOff + d] * v[kOff + d];
                        }
                        p[i][j] = s * scale;
                        dp[i][j] = t;
                        max = Math.max(max, p[i][j]);
                    }
                    double sum = 0;
                    for (int j = lo; j < hi; j++) {
                        p[i][j] = Math.exp(p[i][j] - max);
                        sum += p[i][j];
                    }
                    double rowDot = 0;
                    for (int j = lo; j < hi; j++) {
                        p[i][j] /= sum;
                        rowDot += p[i][j] * dp[i][j];
                    }
                    for (int j = lo; j < hi; j++) {
                        int kOff = ((b * tk + j) * nKv + g) * hd;
                        double ds = p[i][j] * (dp[i][j] - rowDot);
                        for (int d = 0; d < hd; d++) {
                            if (dq != null) dq[qOff + d] += scale * ds * k[kOff + d];
                            if (dk != null) dk[kOff + d] += scale * ds * q[qOff + d];
                            if (dv != null) dv[kOff + d] += p[i][j] * dOut[qOff + d];
                        }
                    }
                }
            }
        }
    }

    private static double[] toDouble(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i];
        return y;
    }

    // ---------------------------------------------------------------------------------------
    // argument checks: the sizes were validated by AttentionDims; here only the arrays' lengths

    private static void checkLengths(String op, AttentionDims d, float[] q, float[] k, float[] v, float[] out, float[] lse) {
        checkLength(op, "q", q, d.qSize(), d);
        checkLength(op, "k", k, d.kvSize(), d);
        checkLength(op, "v", v, d.kvSize(), d);
        checkLength(op, "out", out, d.qSize(), d);
        checkLength(op, "lse", lse, d.lseSize(), d);
    }

    private static void checkGradientLengths(String op, AttentionDims d, float[] dOut, float[] dq, float[] dk, float[] dv) {
        checkLength(op, "dOut", dOut, d.qSize(), d);
        if (dq != null) checkLength(op, "dq", dq, d.qSize(), d);
        if (dk != null) checkLength(op, "dk", dk, d.kvSize(), d);
        if (dv != null) checkLength(op, "dv", dv, d.kvSize(), d);
    }

    private static void checkLength(String op, String name, float[] a, long expected, AttentionDims d) {
        if (a == null)
            throw new IllegalArgumentException(op + ": " + name + " is null" + d);
        if (a.length != expected)
            throw new IllegalArgumentException(op + ": " + name + " has length " + a.length + ", expected " + expected + d);
    }
}
