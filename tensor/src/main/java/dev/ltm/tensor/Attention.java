package dev.ltm.tensor;

import java.util.Arrays;
import java.util.function.ObjIntConsumer;
import java.util.function.Supplier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
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

    /**
     * Eight rows per tile in {@link #scores8} and {@link #accumulate8} instead of four, on the machines the GEMM gives its
     * 12-row tile ({@link Gemm.Tuning}): with two 512-bit FMA pipes and a 4-cycle latency, the 8 chains of four rows
     * are the bare minimum, with no slack for the loads between them; eight rows give 16.
     */
    static final boolean EIGHT_ROWS = Gemm.Tuning.INTEL_AVX512;

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
        forUnits(units, tasks(d), () -> new ForwardScratch(d.headDim()), (scratch, u) -> {
            int qb = u % qBlocks, bh = u / qBlocks;
            forwardBlock(q, k, kT, v, out, lse, d, bh / nHeads, bh % nHeads, qb * BLOCK_Q, Math.min(tq, (qb + 1) * BLOCK_Q), scratch);
        });
    }

    /**
     * Runs {@code body(scratch, u)} for every unit u in [0, units), split into at most {@code maxTasks}
     * contiguous ranges, each with one working space of its own. Allocating it per unit instead cost a
     * third of a cross-attention forward to 2 thoughts (one thread, [16, 128, 4, 16]: 591 against 372 us),
     * where a unit is a couple of microseconds of work and the zeroing of its 10 KB is not.
     */
    private static <S> void forUnits(int units, int maxTasks, Supplier<S> newScratch, ObjIntConsumer<S> body) {
        Parallel.forChunks(units, maxTasks, (lo, hi) -> {
            S scratch = newScratch.get();
            for (int u = lo; u < hi; u++) body.accept(scratch, u);
        });
    }

    /** forwardBlock's working space, reused by the units of one task: acc, m and l are reset per unit, the rest written before read. */
    private static final class ForwardScratch {
        final float[] acc, s = new float[BLOCK_Q * BLOCK_K], m = new float[BLOCK_Q], l = new float[BLOCK_Q];
        final int[] lo = new int[BLOCK_Q], hi = new int[BLOCK_Q];
        /** The rows an accumulation sums, packed by {@link #packPairs}. */
        final float[] packed;

        ForwardScratch(int hd) {
            acc = new float[BLOCK_Q * hd];
            packed = new float[PACKED_ROWS * hd];
        }
    }

    /**
     * Query rows [i0, i1) of head h of batch b. Working space: acc [BLOCK_Q, hd] and one tile of
     * scores [BLOCK_Q, BLOCK_K]. Each key block runs in three passes over the rows: every row's
     * scores, then each row's online-softmax update, then every row's {@code acc += p v}; per row
     * that is the same sequence of operations as one row at a time, so the same bits, while the
     * first and last passes share their loads of k and v across four rows.
     */
    private static void forwardBlock(float[] q, float[] k, float[] kT, float[] v, float[] out, float[] lse, AttentionDims dims,
                                     int b, int h, int i0, int i1, ForwardScratch scratch) {
        int tq = dims.tq(), tk = dims.tk(), nH = dims.heads(), nKv = dims.kvHeads(), hd = dims.headDim();
        int window = dims.kernelWindow();
        int rows = i1 - i0;
        int g = h / (nH / nKv);
        int qStride = nH * hd, kStride = nKv * hd;
        int qBase = (b * tq * nH + h) * hd, kBase = (b * tk * nKv + g) * hd;
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] acc = scratch.acc, s = scratch.s, m = scratch.m, l = scratch.l;
        int[] lo = scratch.lo, hi = scratch.hi;
        Arrays.fill(acc, 0, rows * hd, 0f);
        Arrays.fill(m, 0, rows, Float.NEGATIVE_INFINITY);
        Arrays.fill(l, 0, rows, 0f);
        int pad = paddedKeys(tk), tBase = (b * nKv + g) * hd * pad;

        int keyStart = keyLo(i0, window), keyEnd = keyHi(i1 - 1, tk, window);
        for (int j0 = keyStart; j0 < keyEnd; j0 += BLOCK_K) {
            int j1 = Math.min(j0 + BLOCK_K, keyEnd);
            visibleKeys(i0, rows, j0, j1, tk, window, lo, hi);
            // s[r, c] = scale * q_i . k_j for the keys j = j0 + c of this block (row r = query i0 + r)
            if (kT != null) {
                scoresTile(q, qBase + i0 * qStride, qStride, rows, kT, tBase + j0, pad, j1 - j0, hd, scale, s);
            } else {
                for (int r = 0; r < rows; r++)
                    if (lo[r] < hi[r])
                        dotRows(q, qBase + (i0 + r) * qStride, k, kBase + (j0 + lo[r]) * kStride, kStride, hi[r] - lo[r], hd,
                                scale, s, r * BLOCK_K + lo[r]);
            }
            for (int r = 0; r < rows; r++) {
                int n = hi[r] - lo[r], sr = r * BLOCK_K + lo[r];
                if (n == 0) continue;
                float blockMax = max(s, sr, n);
                // online softmax: rescale the running sum and accumulator to the new max
                float mNew = Math.max(m[r], blockMax);
                if (m[r] != mNew && l[r] != 0) {
                    float corr = (float) Math.exp(m[r] - mNew);
                    l[r] *= corr;
                    scaleRow(acc, r * hd, hd, corr);
                }
                m[r] = mNew;
                expShifted(s, sr, n, mNew);
                l[r] += sumInOrder(s, sr, n);
            }
            // acc_i += sum_c p_c v_j
            accumulateSpans(acc, 0, hd, s, 0, BLOCK_K, lo, hi, rows, v, kBase + j0 * kStride, kStride, hd, scratch.packed);
        }
        for (int r = 0; r < rows; r++) {
            int i = i0 + r;
            int oOff = qBase + i * qStride;
            float inv = l[r] == 0 ? 0f : 1f / l[r];
            int d = 0;
            if (Simd.ENABLED)
                for (int bound = F.loopBound(hd); d < bound; d += F.length())
                    FloatVector.fromArray(F, acc, r * hd + d).mul(inv).intoArray(out, oOff + d);
            for (; d < hd; d++) out[oOff + d] = acc[r * hd + d] * inv;
            lse[(b * nH + h) * tq + i] = l[r] == 0 ? Float.NEGATIVE_INFINITY : m[r] + (float) Math.log(l[r]);
        }
    }

    /**
     * For the query rows i0 .. i0 + rows - 1 and the key block [j0, j1): row r sees the keys
     * j0 + [lo[r], hi[r]) (an empty range when it sees none of them).
     */
    private static void visibleKeys(int i0, int rows, int j0, int j1, int tk, int window, int[] lo, int[] hi) {
        for (int r = 0; r < rows; r++) {
            int i = i0 + r;
            int cLo = Math.max(j0, keyLo(i, window)), cHi = Math.min(j1, keyHi(i, tk, window));
            lo[r] = cLo - j0;
            hi[r] = Math.max(cLo, cHi) - j0;
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
            forUnits(groups, threads, () -> new BackwardScratch(headDim), (scratch, u) -> backwardGroup(x, d, dq,
                    new KvGradients(dk, dv, (u / nKvHeads * tk * nKvHeads + u % nKvHeads) * headDim, nKvHeads * headDim),
                    u / nKvHeads, u % nKvHeads, 0, tq, scratch));
            return;
        }
        int nChunks = chunks;
        int part = tk * headDim;
        float[][] dkParts = new float[groups * nChunks][], dvParts = new float[groups * nChunks][];
        forUnits(groups * nChunks, Parallel.threads(), () -> new BackwardScratch(headDim), (scratch, u) -> {
            int grp = u / nChunks, c = u % nChunks;
            int blkLo = (int) ((long) qBlocks * c / nChunks), blkHi = (int) ((long) qBlocks * (c + 1) / nChunks);
            float[] dkp = dk == null ? null : new float[part], dvp = dv == null ? null : new float[part];
            dkParts[u] = dkp;
            dvParts[u] = dvp;
            backwardGroup(x, d, dq, new KvGradients(dkp, dvp, 0, headDim),
                    grp / nKvHeads, grp % nKvHeads, blkLo * BLOCK_Q, Math.min(tq, blkHi * BLOCK_Q), scratch);
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

    /** backwardGroup's working space, reused by the units of one task: dqAcc is reset per query block, the rest written before read. */
    private static final class BackwardScratch {
        final float[] p = new float[BLOCK_Q * BLOCK_K], ds = new float[BLOCK_Q * BLOCK_K], dRow = new float[BLOCK_Q], dqAcc;
        /** P or dS transposed, [BLOCK_K, BLOCK_Q]: a key's weights over the query rows, contiguous. */
        final float[] tile = new float[BLOCK_K * BLOCK_Q];
        final int[] lo = new int[BLOCK_Q], hi = new int[BLOCK_Q], colLo = new int[BLOCK_K], colHi = new int[BLOCK_K];

        /** The rows an accumulation sums, packed by {@link #packPairs}. */
        final float[] packed;

        BackwardScratch(int hd) {
            dqAcc = new float[BLOCK_Q * hd];
            packed = new float[PACKED_ROWS * hd];
        }
    }

    /** Query rows [t0, t1) of every query head of kv head g of batch b. */
    private static void backwardGroup(Operands x, AttentionDims d, float[] dq, KvGradients kv,
                                      int b, int g, int t0, int t1, BackwardScratch scratch) {
        float[] q = x.q(), k = x.k(), v = x.v(), out = x.out(), lse = x.lse(), dOut = x.dOut();
        float[] dk = kv.dk(), dv = kv.dv();
        int dkvBase = kv.base(), dkvStride = kv.stride();
        int tq = d.tq(), tk = d.tk(), nH = d.heads(), nKv = d.kvHeads(), hd = d.headDim(), window = d.kernelWindow();
        int groupSize = nH / nKv;
        int qStride = nH * hd, kStride = nKv * hd;
        int kBase = (b * tk * nKv + g) * hd;
        float scale = (float) (1.0 / Math.sqrt(hd));
        boolean needDs = dq != null || dk != null;
        float[] p = scratch.p, ds = scratch.ds, tile = scratch.tile, dRow = scratch.dRow, dqAcc = dq == null ? null : scratch.dqAcc;
        int[] lo = scratch.lo, hi = scratch.hi, colLo = scratch.colLo, colHi = scratch.colHi;
        float[] kT = x.kT(), vT = x.vT();
        int pad = paddedKeys(tk), tBase = (b * nKv + g) * hd * pad;

        for (int h = g * groupSize; h < (g + 1) * groupSize; h++) {
            int qBase = (b * tq * nH + h) * hd;
            int lseBase = (b * nH + h) * tq;
            for (int i0 = t0; i0 < t1; i0 += BLOCK_Q) {
                int i1 = Math.min(t1, i0 + BLOCK_Q), rows = i1 - i0;
                // D_i = dOut_i . out_i, in the order the dOut . v_j of ds below are summed, so that a row whose output
                // is one v_j (a window of 1) gets ds exactly 0, as the exact gradient is
                rowDots(dOut, out, qBase + i0 * qStride, qStride, rows, hd, vT != null, dRow);
                if (dqAcc != null) Arrays.fill(dqAcc, 0f);
                int keyStart = keyLo(i0, window), keyEnd = keyHi(i1 - 1, tk, window);
                for (int j0 = keyStart; j0 < keyEnd; j0 += BLOCK_K) {
                    int j1 = Math.min(j0 + BLOCK_K, keyEnd), n = j1 - j0;
                    // P and dS of this [rows, n] tile, meaningful inside each row's visible keys [lo[r], hi[r]) only
                    visibleKeys(i0, rows, j0, j1, tk, window, lo, hi);
                    if (kT != null) {
                        scoresTile(q, qBase + i0 * qStride, qStride, rows, kT, tBase + j0, pad, n, hd, scale, p);
                        if (needDs) scoresTile(dOut, qBase + i0 * qStride, qStride, rows, vT, tBase + j0, pad, n, hd, 1f, ds);
                    }
                    for (int r = 0; r < rows; r++) {
                        int i = i0 + r, nr = hi[r] - lo[r];
                        if (nr == 0) continue;
                        int off = qBase + i * qStride, pr = r * BLOCK_K;
                        float lseI = lse[lseBase + i];
                        // p_ij = exp(scale * q_i . k_j - lse_i)
                        if (kT == null) dotRows(q, off, k, kBase + (j0 + lo[r]) * kStride, kStride, nr, hd, scale, p, pr + lo[r]);
                        expShifted(p, pr + lo[r], nr, lseI);
                        if (needDs) {
                            // ds_ij = p_ij (dOut_i . v_j - D_i), times scale for dq and dk
                            if (vT == null) dotRows(dOut, off, v, kBase + (j0 + lo[r]) * kStride, kStride, nr, hd, 1f, ds, pr + lo[r]);
                            scoreGradients(ds, p, pr + lo[r], nr, scale, dRow[r]);
                        }
                    }
                    // dv_j += sum_i p_ij dOut_i ; dk_j += sum_i ds_ij q_i, over the rows that see key j
                    if (dv != null || dk != null) visibleRows(lo, hi, rows, n, colLo, colHi);
                    if (dv != null) {
                        transposeBlock(p, 0, BLOCK_K, rows, n, tile, 0, BLOCK_Q);
                        accumulateSpans(dv, dkvBase + j0 * dkvStride, dkvStride, tile, 0, BLOCK_Q, colLo, colHi, n,
                                dOut, qBase + i0 * qStride, qStride, hd, scratch.packed);
                    }
                    if (dk != null) {
                        transposeBlock(ds, 0, BLOCK_K, rows, n, tile, 0, BLOCK_Q);
                        accumulateSpans(dk, dkvBase + j0 * dkvStride, dkvStride, tile, 0, BLOCK_Q, colLo, colHi, n,
                                q, qBase + i0 * qStride, qStride, hd, scratch.packed);
                    }
                    // dq_i += sum_j ds_ij k_j
                    if (dqAcc != null)
                        accumulateSpans(dqAcc, 0, hd, ds, 0, BLOCK_K, lo, hi, rows, k, kBase + j0 * kStride, kStride, hd,
                                scratch.packed);
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
     * dst[r] = a_r . b_r for the rows r in [0, rows) at {@code off + r * stride}: summed {@link #dotInOrder} (eight rows at a
     * time, {@link #dotsInOrder8}) where scoresRow sums the other dot products of the row, else by {@link #dot}.
     */
    private static void rowDots(float[] a, float[] b, int off, int stride, int rows, int hd, boolean inOrder, float[] dst) {
        int r = 0;
        if (inOrder) for (; r + 8 <= rows; r += 8) dotsInOrder8(a, b, off + r * stride, stride, hd, dst, r);
        for (; r < rows; r++) {
            int o = off + r * stride;
            dst[r] = inOrder ? dotInOrder(a, o, b, o, hd) : dot(a, o, b, o, hd);
        }
    }

    /**
     * {@link #dotInOrder} of eight rows, row r of a and b at {@code off + r * stride}, into dst[at + r]: the same chains,
     * interleaved. One chain waits on each FMA's latency (4 cycles) and the 32 query rows of a backward block took
     * a fifth of self-attention's backward (reference fit, one thread); eight keep both FMA pipes busy.
     */
    static void dotsInOrder8(float[] a, float[] b, int off, int stride, int n, float[] dst, int at) {
        int o0 = off, o1 = o0 + stride, o2 = o1 + stride, o3 = o2 + stride, o4 = o3 + stride, o5 = o4 + stride, o6 = o5 + stride,
                o7 = o6 + stride;
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
        for (int d = 0; d < n; d++) {
            s0 = Math.fma(a[o0 + d], b[o0 + d], s0);
            s1 = Math.fma(a[o1 + d], b[o1 + d], s1);
            s2 = Math.fma(a[o2 + d], b[o2 + d], s2);
            s3 = Math.fma(a[o3 + d], b[o3 + d], s3);
            s4 = Math.fma(a[o4 + d], b[o4 + d], s4);
            s5 = Math.fma(a[o5 + d], b[o5 + d], s5);
            s6 = Math.fma(a[o6 + d], b[o6 + d], s6);
            s7 = Math.fma(a[o7 + d], b[o7 + d], s7);
        }
        dst[at] = s0; dst[at + 1] = s1; dst[at + 2] = s2; dst[at + 3] = s3;
        dst[at + 4] = s4; dst[at + 5] = s5; dst[at + 6] = s6; dst[at + 7] = s7;
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
        int c = 0;
        if (Gemm.SQUARE_TRANSPOSE) { // whole L x L squares in registers (Gemm.transposeSquare), the edges below one at a time
            int len = F.length(), dEnd = hd - hd % len;
            for (; c + len <= n; c += len) {
                for (int d = 0; d < dEnd; d += len) Gemm.transposeSquare(src, base + c * stride + d, stride, t, tBase + d * tStride + c, tStride);
                for (int r = c; r < c + len; r++) {
                    int off = base + r * stride;
                    for (int d = dEnd; d < hd; d++) t[tBase + d * tStride + r] = src[off + d];
                }
            }
        }
        for (; c < n; c++) {
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
        // Like a result, the array comes from the calling thread's TensorArena scope when there is one (a new one, 2.2 MiB
        // at the reference fit, was zeroed serially on each call), so every element is written, the padding zeroed.
        float[] t = Tensor.output(Shape.of(d.batch() * nKv * hd * pad)).data();
        Parallel.forRange(d.batch() * nKv, tasks(d), bg -> {
            int tBase = bg * hd * pad;
            transposeBlock(k, ((bg / nKv) * tk * nKv + bg % nKv) * hd, nKv * hd, tk, hd, t, tBase, pad);
            for (int row = tBase; row < tBase + hd * pad; row += pad) Arrays.fill(t, row + tk, row + pad, 0f);
        });
        return t;
    }

    /** Row length of the transposed keys: one vector past S, as far as {@link #scoresRow} reads past a block's end. */
    static int paddedKeys(int tk) { return tk + F.length(); }

    /**
     * dst[dstOff + c] = scale * a[aOff..aOff+hd) . column c of the transposed keys (key c of the block at
     * t[tBase + d * tStride + c]), for c in [0, n) rounded up to whole vectors (n <= BLOCK_K; it reads
     * and writes less than one vector past n, inside {@link #paddedKeys} and a BLOCK_K row of dst; lanes
     * past n are not meaningful). The twin of {@link #dotRows} on {@link #transposeKeys}'s layout, summing
     * over d in order.
     */
    static void scoresRow(float[] a, int aOff, float[] t, int tBase, int tStride, int n, int hd, float scale, float[] dst, int dstOff) {
        int len = F.length(), c = 0;
        for (; c + 3 * len < n; c += 4 * len) { // 4 * len divides BLOCK_K: the group stays inside dst's row
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            for (int d = 0; d < hd; d++) {
                FloatVector x = FloatVector.broadcast(F, a[aOff + d]);
                int row = tBase + d * tStride + c;
                s0 = x.fma(FloatVector.fromArray(F, t, row), s0);
                s1 = x.fma(FloatVector.fromArray(F, t, row + len), s1);
                s2 = x.fma(FloatVector.fromArray(F, t, row + 2 * len), s2);
                s3 = x.fma(FloatVector.fromArray(F, t, row + 3 * len), s3);
            }
            s0.mul(scale).intoArray(dst, dstOff + c);
            s1.mul(scale).intoArray(dst, dstOff + c + len);
            s2.mul(scale).intoArray(dst, dstOff + c + 2 * len);
            s3.mul(scale).intoArray(dst, dstOff + c + 3 * len);
        }
        for (; c < n; c += len) {
            FloatVector s0 = FloatVector.zero(F);
            for (int d = 0; d < hd; d++) {
                s0 = FloatVector.broadcast(F, a[aOff + d]).fma(FloatVector.fromArray(F, t, tBase + d * tStride + c), s0);
            }
            s0.mul(scale).intoArray(dst, dstOff + c);
        }
    }

    /**
     * The scores of {@code rows} rows of a (row r at aBase + r * aStride) against the n keys of one block
     * of the transposed keys, into row r of the [BLOCK_Q, BLOCK_K] tile dst, as {@link #scoresRow} writes
     * them (the same bits): four rows at a time share each vector of keys, the rest one at a time.
     */
    static void scoresTile(float[] a, int aBase, int aStride, int rows, float[] t, int tBase, int tStride, int n, int hd,
                           float scale, float[] dst) {
        int r = 0;
        if (EIGHT_ROWS) {
            for (; r + 8 <= rows; r += 8) scores8(a, aBase + r * aStride, aStride, t, tBase, tStride, n, hd, scale, dst, r * BLOCK_K);
        }
        for (; r + 4 <= rows; r += 4) {
            int a0 = aBase + r * aStride;
            scores4(a, a0, a0 + aStride, a0 + 2 * aStride, a0 + 3 * aStride, t, tBase, tStride, n, hd, scale, dst, r * BLOCK_K, 0);
        }
        for (; r < rows; r++) scoresRow(a, aBase + r * aStride, t, tBase, tStride, n, hd, scale, dst, r * BLOCK_K);
    }

    /**
     * {@link #scores4} for eight rows (rows r at {@code a0 + r*aStride}), on the Intel tuning ({@link #EIGHT_ROWS}): per step
     * over d, two vectors of keys and eight broadcasts feed sixteen FMA chains, twice what two FMA pipes strictly need. The key
     * columns past the last whole pair go to scores4, four rows at a time. Each lane is the same chain as scores4 forms.
     */
    static void scores8(float[] a, int a0, int aStride, float[] t, int tBase, int tStride, int n, int hd,
                        float scale, float[] dst, int dstOff) {
        int len = F.length(), c = 0;
        int a1 = a0 + aStride, a2 = a1 + aStride, a3 = a2 + aStride, a4 = a3 + aStride, a5 = a4 + aStride, a6 = a5 + aStride, a7 = a6 + aStride;
        for (; c + len < n; c += 2 * len) {
            FloatVector s00 = FloatVector.zero(F), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
            FloatVector s40 = s00, s41 = s00, s50 = s00, s51 = s00, s60 = s00, s61 = s00, s70 = s00, s71 = s00;
            for (int d = 0; d < hd; d++) {
                int row = tBase + d * tStride + c;
                FloatVector k0 = FloatVector.fromArray(F, t, row), k1 = FloatVector.fromArray(F, t, row + len);
                FloatVector x = FloatVector.broadcast(F, a[a0 + d]);
                s00 = x.fma(k0, s00); s01 = x.fma(k1, s01);
                x = FloatVector.broadcast(F, a[a1 + d]);
                s10 = x.fma(k0, s10); s11 = x.fma(k1, s11);
                x = FloatVector.broadcast(F, a[a2 + d]);
                s20 = x.fma(k0, s20); s21 = x.fma(k1, s21);
                x = FloatVector.broadcast(F, a[a3 + d]);
                s30 = x.fma(k0, s30); s31 = x.fma(k1, s31);
                x = FloatVector.broadcast(F, a[a4 + d]);
                s40 = x.fma(k0, s40); s41 = x.fma(k1, s41);
                x = FloatVector.broadcast(F, a[a5 + d]);
                s50 = x.fma(k0, s50); s51 = x.fma(k1, s51);
                x = FloatVector.broadcast(F, a[a6 + d]);
                s60 = x.fma(k0, s60); s61 = x.fma(k1, s61);
                x = FloatVector.broadcast(F, a[a7 + d]);
                s70 = x.fma(k0, s70); s71 = x.fma(k1, s71);
            }
            s00.mul(scale).intoArray(dst, dstOff + 0 * BLOCK_K + c); s01.mul(scale).intoArray(dst, dstOff + 0 * BLOCK_K + c + len);
            s10.mul(scale).intoArray(dst, dstOff + 1 * BLOCK_K + c); s11.mul(scale).intoArray(dst, dstOff + 1 * BLOCK_K + c + len);
            s20.mul(scale).intoArray(dst, dstOff + 2 * BLOCK_K + c); s21.mul(scale).intoArray(dst, dstOff + 2 * BLOCK_K + c + len);
            s30.mul(scale).intoArray(dst, dstOff + 3 * BLOCK_K + c); s31.mul(scale).intoArray(dst, dstOff + 3 * BLOCK_K + c + len);
            s40.mul(scale).intoArray(dst, dstOff + 4 * BLOCK_K + c); s41.mul(scale).intoArray(dst, dstOff + 4 * BLOCK_K + c + len);
            s50.mul(scale).intoArray(dst, dstOff + 5 * BLOCK_K + c); s51.mul(scale).intoArray(dst, dstOff + 5 * BLOCK_K + c + len);
            s60.mul(scale).intoArray(dst, dstOff + 6 * BLOCK_K + c); s61.mul(scale).intoArray(dst, dstOff + 6 * BLOCK_K + c + len);
            s70.mul(scale).intoArray(dst, dstOff + 7 * BLOCK_K + c); s71.mul(scale).intoArray(dst, dstOff + 7 * BLOCK_K + c + len);
        }
        if (c < n) {
            scores4(a, a0, a1, a2, a3, t, tBase, tStride, n, hd, scale, dst, dstOff, c);
            scores4(a, a4, a5, a6, a7, t, tBase, tStride, n, hd, scale, dst, dstOff + 4 * BLOCK_K, c);
        }
    }

    /**
     * {@link #scoresRow} for four rows of a at once, into four consecutive BLOCK_K rows of dst from dstOff (key
     * columns from cFrom on; {@link #scores8} hands over its last columns so):
     * per step over d, two vectors of keys and four broadcasts feed eight independent FMA chains (one
     * row alone loads a vector of keys for every FMA). Each lane sums over d in order from zero, then
     * scales, as scoresRow does. It has the register tile of {@link #accumulate4} but not its code: one
     * shared tile with the stride of the broadcast values as a parameter ran at 34-37 GFLOP/s here against
     * 50-66 (the 32 x 64 x 64 score tile, one thread), since with stride 1 known C2 drops the range checks.
     */
    static void scores4(float[] a, int a0, int a1, int a2, int a3, float[] t, int tBase, int tStride, int n, int hd,
                        float scale, float[] dst, int dstOff, int cFrom) {
        int len = F.length(), c = cFrom;
        int o0 = dstOff, o1 = o0 + BLOCK_K, o2 = o1 + BLOCK_K, o3 = o2 + BLOCK_K;
        for (; c + len < n; c += 2 * len) { // the pair ends by n rounded up to whole vectors
            FloatVector s00 = FloatVector.zero(F), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
            for (int d = 0; d < hd; d++) {
                int row = tBase + d * tStride + c;
                FloatVector k0 = FloatVector.fromArray(F, t, row), k1 = FloatVector.fromArray(F, t, row + len);
                FloatVector x = FloatVector.broadcast(F, a[a0 + d]);
                s00 = x.fma(k0, s00); s01 = x.fma(k1, s01);
                x = FloatVector.broadcast(F, a[a1 + d]);
                s10 = x.fma(k0, s10); s11 = x.fma(k1, s11);
                x = FloatVector.broadcast(F, a[a2 + d]);
                s20 = x.fma(k0, s20); s21 = x.fma(k1, s21);
                x = FloatVector.broadcast(F, a[a3 + d]);
                s30 = x.fma(k0, s30); s31 = x.fma(k1, s31);
            }
            s00.mul(scale).intoArray(dst, o0 + c); s01.mul(scale).intoArray(dst, o0 + c + len);
            s10.mul(scale).intoArray(dst, o1 + c); s11.mul(scale).intoArray(dst, o1 + c + len);
            s20.mul(scale).intoArray(dst, o2 + c); s21.mul(scale).intoArray(dst, o2 + c + len);
            s30.mul(scale).intoArray(dst, o3 + c); s31.mul(scale).intoArray(dst, o3 + c + len);
        }
        for (; c < n; c += len) {
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            for (int d = 0; d < hd; d++) {
                FloatVector kv = FloatVector.fromArray(F, t, tBase + d * tStride + c);
                s0 = FloatVector.broadcast(F, a[a0 + d]).fma(kv, s0);
                s1 = FloatVector.broadcast(F, a[a1 + d]).fma(kv, s1);
                s2 = FloatVector.broadcast(F, a[a2 + d]).fma(kv, s2);
                s3 = FloatVector.broadcast(F, a[a3 + d]).fma(kv, s3);
            }
            s0.mul(scale).intoArray(dst, o0 + c);
            s1.mul(scale).intoArray(dst, o1 + c);
            s2.mul(scale).intoArray(dst, o2 + c);
            s3.mul(scale).intoArray(dst, o3 + c);
        }
    }

    /**
     * The largest of x[off..off+n) (-infinity when n is 0), with Math.max's rules, so exact whatever
     * the order: a vector of running maxima, then its lanes, instead of one scalar chain of Math.max
     * (a compare-and-blend sequence per element, each waiting on the one before).
     */
    static float max(float[] x, int off, int n) {
        int c = 0;
        float m = Float.NEGATIVE_INFINITY;
        if (Simd.ENABLED && n >= F.length()) {
            FloatVector acc = FloatVector.fromArray(F, x, off);
            for (int bound = F.loopBound(n); c < bound; c += F.length()) acc = acc.max(FloatVector.fromArray(F, x, off + c));
            m = Simd.maxLanes(acc);
        }
        for (; c < n; c++) m = Math.max(m, x[off + c]);
        return m;
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

    /**
     * s[off..off+n) = exp(s - shift). Callers that need the sum take it by {@link #sumInOrder}: an
     * accumulator in this loop, with {@link Simd#exp} inlined, took C2 to its node limit, and it then
     * called {@link Simd#sumLanes} out of line, boxing the accumulator on every call.
     */
    private static void expShifted(float[] s, int off, int n, float shift) {
        int c = 0;
        if (Simd.ENABLED) {
            for (int bound = F.loopBound(n); c < bound; c += F.length()) {
                Simd.exp(FloatVector.fromArray(F, s, off + c).sub(shift)).intoArray(s, off + c);
            }
            // the tail as one masked vector: cross-attention to a few thoughts (2 to 8 keys) is all tail, and
            // one scalar Math.exp per key made it cost about 100 ns per query row
            if (c < n) {
                VectorMask<Float> tail = F.indexInRange(c, n);
                Simd.exp(FloatVector.fromArray(F, s, off + c, tail).sub(shift)).intoArray(s, off + c, tail);
            }
            return;
        }
        for (; c < n; c++) s[off + c] = (float) Math.exp(s[off + c] - shift);
    }

    /** ds[off..off+n) = scale * p * (ds - dI), rounded as written, lane by lane. */
    private static void scoreGradients(float[] ds, float[] p, int off, int n, float scale, float dI) {
        int c = 0;
        if (Simd.ENABLED) {
            for (int bound = F.loopBound(n); c < bound; c += F.length()) {
                FloatVector.fromArray(F, p, off + c).mul(scale).mul(FloatVector.fromArray(F, ds, off + c).sub(dI))
                        .intoArray(ds, off + c);
            }
        }
        for (; c < n; c++) ds[off + c] = scale * p[off + c] * (ds[off + c] - dI);
    }

    /** x[off] + ... + x[off+n-1]: lane-wise vector sums, their lanes by {@link Simd#sumLanes}, then the tail in order. */
    private static float sumInOrder(float[] x, int off, int n) {
        int c = 0;
        float sum = 0f;
        if (Simd.ENABLED) {
            FloatVector acc = FloatVector.zero(F);
            for (int bound = F.loopBound(n); c < bound; c += F.length()) acc = acc.add(FloatVector.fromArray(F, x, off + c));
            sum = Simd.sumLanes(acc);
        }
        for (; c < n; c++) sum += x[off + c];
        return sum;
    }

    /**
     * For the n key columns of a [rows, BLOCK_K] tile whose rows r see the keys [lo[r], hi[r]): the rows
     * that see column c are [colLo[c], colHi[c]) (contiguous, as every mask's visible keys are).
     */
    private static void visibleRows(int[] lo, int[] hi, int rows, int n, int[] colLo, int[] colHi) {
        for (int c = 0; c < n; c++) {
            int rLo = 0, rHi = rows;
            while (rLo < rows && !(lo[rLo] <= c && c < hi[rLo])) rLo++;
            while (rHi > rLo && !(lo[rHi - 1] <= c && c < hi[rHi - 1])) rHi--;
            colLo[c] = rLo;
            colHi[c] = Math.max(rLo, rHi);
        }
    }

    /**
     * For each target q in [0, count): acc row {@code accBase + q * accStep} (hd values) +=
     * sum over c in [lo[q], hi[q]) of w[wBase + q * wStep + c] * rows[rowBase + c * rowStride ..+hd).
     * The three products of attention are this shape: p v into the output rows (a target per query row,
     * c over keys), ds k into dq (the same), and p dOut, ds q into dv and dk (a target per key, c over the
     * query rows, from the transposed tiles). Four targets go through their common range of c together
     * ({@link #accumulate4}), the parts of their ranges outside it one at a time before and after, so that
     * every element still sums over c in ascending order: the bits do not depend on the grouping. The rows
     * the groups read are first packed into {@code packed} ({@link #packPairs}; at least {@link #PACKED_ROWS}
     * times hd floats).
     *
     * <p>A target's weights are contiguous along c, so the tiles' loads of them have a constant stride as well, and
     * C2 drops their range checks: with a stride that was a variable (1 or BLOCK_K), the p v accumulation of a
     * 32 x 64 x 64 block on packed rows ran at 51-57 GFLOP/s on the Zen 3 host of 2026-12-07 (one thread), at 65-71
     * with stride 1 fixed; backward transposes its P and dS tiles for dv and dk to have it.
     */
    static void accumulateSpans(float[] acc, int accBase, int accStep, float[] w, int wBase, int wStep,
                                int[] lo, int[] hi, int count, float[] rows, int rowBase, int rowStride, int hd, float[] packed) {
        int q = 0;
        if (Simd.ENABLED && hd >= F.length() && count >= 4) {
            int cEnd = 0;
            for (int e = 0; e < count; e++) cEnd = Math.max(cEnd, hi[e]);
            packPairs(rows, rowBase, rowStride, cEnd, hd, packed);
            int group = EIGHT_ROWS && hd >= 2 * F.length() ? 8 : 4;
            for (; q + group <= count; q += group)
                accumulateGroup(group, q, acc, accBase, accStep, w, wBase, wStep, lo, hi, rows, rowBase, rowStride, hd,
                        packed, cEnd);
            for (; q + 4 <= count; q += 4)
                accumulateGroup(4, q, acc, accBase, accStep, w, wBase, wStep, lo, hi, rows, rowBase, rowStride, hd,
                        packed, cEnd);
        }
        for (; q < count; q++)
            accumulateSpan(acc, accBase + q * accStep, w, wBase + q * wStep, lo[q], hi[q], rows, rowBase, rowStride, hd);
    }

    /** The rows a block's accumulation sums: BLOCK_K keys or BLOCK_Q query rows. */
    static final int PACKED_ROWS = Math.max(BLOCK_Q, BLOCK_K);

    /** Two vectors: the width of the slices {@link #packPairs} cuts the rows into. */
    private static final int PAIR = 2 * F.length();

    /**
     * Copies rows c in [0, n) (row c at {@code rowBase + c * rowStride}) into {@code packed} as slices of {@link #PAIR}
     * columns, the columns [d, d + PAIR) of every row one after another: row c's at {@code packed[d * n + c * PAIR]}. Only
     * whole pairs of vectors are packed; the columns past them are read in place.
     *
     * <p>Why: the tiles' loop over c then loads at a constant stride, and C2 drops the range checks of those loads, which it
     * cannot do for a stride that is a variable (the rows' is the heads times hd). On the Zen 3 host of 2026-12-07
     * (AVX2, one thread), the p v accumulation of a 32 x 64 x 64 block ran at 43-44 GFLOP/s on rows in place and at
     * 51-57 on packed rows, the packing included.
     */
    static void packPairs(float[] rows, int rowBase, int rowStride, int n, int hd, float[] packed) {
        int len = F.length();
        for (int c = 0; c < n; c++) {
            int src = rowBase + c * rowStride;
            for (int d = 0; d + PAIR <= hd; d += PAIR) {
                int dst = d * n + c * PAIR;
                FloatVector.fromArray(F, rows, src + d).intoArray(packed, dst);
                FloatVector.fromArray(F, rows, src + d + len).intoArray(packed, dst + len);
            }
        }
    }

    /**
     * Targets q .. q + size - 1 (size 4 or 8) of {@link #accumulateSpans}: the keys all of them see go through
     * {@link #accumulate4} or {@link #accumulate8} together, each target's own keys before and after through
     * {@link #accumulateSpan}. Each element still sums over c in order. Eight targets that share no key go as two fours.
     * {@code packed} holds the rows c in [0, packedRows) as {@link #packPairs} leaves them.
     */
    static void accumulateGroup(int size, int q, float[] acc, int accBase, int accStep, float[] w, int wBase, int wStep,
                                int[] lo, int[] hi, float[] rows, int rowBase, int rowStride, int hd,
                                float[] packed, int packedRows) {
        int cLo = lo[q], cHi = hi[q];
        for (int e = q + 1; e < q + size; e++) {
            cLo = Math.max(cLo, lo[e]);
            cHi = Math.min(cHi, hi[e]);
        }
        if (cLo >= cHi) {
            if (size == 8) {
                accumulateGroup(4, q, acc, accBase, accStep, w, wBase, wStep, lo, hi, rows, rowBase, rowStride, hd,
                        packed, packedRows);
                accumulateGroup(4, q + 4, acc, accBase, accStep, w, wBase, wStep, lo, hi, rows, rowBase, rowStride, hd,
                        packed, packedRows);
            } else {
                for (int e = q; e < q + size; e++)
                    accumulateSpan(acc, accBase + e * accStep, w, wBase + e * wStep, lo[e], hi[e], rows, rowBase, rowStride, hd);
            }
            return;
        }
        for (int e = q; e < q + size; e++)
            accumulateSpan(acc, accBase + e * accStep, w, wBase + e * wStep, lo[e], cLo, rows, rowBase, rowStride, hd);
        int a0 = accBase + q * accStep, w0 = wBase + q * wStep + cLo, r0 = rowBase + cLo * rowStride, p0 = cLo * PAIR;
        if (size == 8) {
            accumulate8(acc, a0, accStep, w, w0, wStep, cHi - cLo, rows, r0, rowStride, packed, p0, packedRows, hd);
        } else {
            accumulate4(acc, a0, a0 + accStep, a0 + 2 * accStep, a0 + 3 * accStep, w, w0, w0 + wStep, w0 + 2 * wStep, w0 + 3 * wStep,
                    cHi - cLo, rows, r0, rowStride, packed, p0, packedRows, hd, 0);
        }
        for (int e = q; e < q + size; e++)
            accumulateSpan(acc, accBase + e * accStep, w, wBase + e * wStep, cHi, hi[e], rows, rowBase, rowStride, hd);
    }

    /**
     * {@link #accumulate4} for eight accumulator rows (at {@code o0 + r*oStep}, weights at {@code w0 + r*wStep}), on the
     * Intel tuning: per step over c, two vectors of a row and eight broadcasts feed sixteen FMA chains. Head dimensions
     * past the last whole pair of vectors go to accumulate4, four rows at a time. Each element is the same chain over c.
     */
    private static void accumulate8(float[] acc, int o0, int oStep, float[] w, int w0, int wStep, int n,
                                    float[] rows, int rowBase, int rowStride, float[] packed, int pOff, int pRows, int hd) {
        int len = F.length(), d = 0;
        int o1 = o0 + oStep, o2 = o1 + oStep, o3 = o2 + oStep, o4 = o3 + oStep, o5 = o4 + oStep, o6 = o5 + oStep, o7 = o6 + oStep;
        int w1 = w0 + wStep, w2 = w1 + wStep, w3 = w2 + wStep, w4 = w3 + wStep, w5 = w4 + wStep, w6 = w5 + wStep, w7 = w6 + wStep;
        for (; d + PAIR <= hd; d += PAIR) {
            int pBase = d * pRows + pOff;
            FloatVector a00 = FloatVector.fromArray(F, acc, o0 + d), a01 = FloatVector.fromArray(F, acc, o0 + d + len);
            FloatVector a10 = FloatVector.fromArray(F, acc, o1 + d), a11 = FloatVector.fromArray(F, acc, o1 + d + len);
            FloatVector a20 = FloatVector.fromArray(F, acc, o2 + d), a21 = FloatVector.fromArray(F, acc, o2 + d + len);
            FloatVector a30 = FloatVector.fromArray(F, acc, o3 + d), a31 = FloatVector.fromArray(F, acc, o3 + d + len);
            FloatVector a40 = FloatVector.fromArray(F, acc, o4 + d), a41 = FloatVector.fromArray(F, acc, o4 + d + len);
            FloatVector a50 = FloatVector.fromArray(F, acc, o5 + d), a51 = FloatVector.fromArray(F, acc, o5 + d + len);
            FloatVector a60 = FloatVector.fromArray(F, acc, o6 + d), a61 = FloatVector.fromArray(F, acc, o6 + d + len);
            FloatVector a70 = FloatVector.fromArray(F, acc, o7 + d), a71 = FloatVector.fromArray(F, acc, o7 + d + len);
            for (int c = 0; c < n; c++) {
                int row = pBase + c * PAIR;
                FloatVector r0 = FloatVector.fromArray(F, packed, row), r1 = FloatVector.fromArray(F, packed, row + len);
                FloatVector x = FloatVector.broadcast(F, w[w0 + c]);
                a00 = r0.fma(x, a00); a01 = r1.fma(x, a01);
                x = FloatVector.broadcast(F, w[w1 + c]);
                a10 = r0.fma(x, a10); a11 = r1.fma(x, a11);
                x = FloatVector.broadcast(F, w[w2 + c]);
                a20 = r0.fma(x, a20); a21 = r1.fma(x, a21);
                x = FloatVector.broadcast(F, w[w3 + c]);
                a30 = r0.fma(x, a30); a31 = r1.fma(x, a31);
                x = FloatVector.broadcast(F, w[w4 + c]);
                a40 = r0.fma(x, a40); a41 = r1.fma(x, a41);
                x = FloatVector.broadcast(F, w[w5 + c]);
                a50 = r0.fma(x, a50); a51 = r1.fma(x, a51);
                x = FloatVector.broadcast(F, w[w6 + c]);
                a60 = r0.fma(x, a60); a61 = r1.fma(x, a61);
                x = FloatVector.broadcast(F, w[w7 + c]);
                a70 = r0.fma(x, a70); a71 = r1.fma(x, a71);
            }
            a00.intoArray(acc, o0 + d); a01.intoArray(acc, o0 + d + len);
            a10.intoArray(acc, o1 + d); a11.intoArray(acc, o1 + d + len);
            a20.intoArray(acc, o2 + d); a21.intoArray(acc, o2 + d + len);
            a30.intoArray(acc, o3 + d); a31.intoArray(acc, o3 + d + len);
            a40.intoArray(acc, o4 + d); a41.intoArray(acc, o4 + d + len);
            a50.intoArray(acc, o5 + d); a51.intoArray(acc, o5 + d + len);
            a60.intoArray(acc, o6 + d); a61.intoArray(acc, o6 + d + len);
            a70.intoArray(acc, o7 + d); a71.intoArray(acc, o7 + d + len);
        }
        if (d < hd) {
            accumulate4(acc, o0, o1, o2, o3, w, w0, w1, w2, w3, n, rows, rowBase, rowStride, packed, pOff, pRows, hd, d);
            accumulate4(acc, o4, o5, o6, o7, w, w4, w5, w6, w7, n, rows, rowBase, rowStride, packed, pOff, pRows, hd, d);
        }
    }

    /** One target of {@link #accumulateSpans} over c in [from, to) (nothing when empty). */
    private static void accumulateSpan(float[] acc, int accOff, float[] w, int wOff, int from, int to,
                                       float[] rows, int rowBase, int rowStride, int hd) {
        if (from < to)
            accumulate(acc, accOff, w, wOff + from, to - from, rows, rowBase + from * rowStride, rowStride, hd);
    }

    /**
     * {@link #accumulate} for four accumulator rows that share the rows being summed: per step over c,
     * two vectors of a row and four broadcast weights feed eight independent FMA chains. Each element is
     * the same chain over c, from the same start, as accumulate forms (its scalar tail included). Head
     * dimensions from dFrom on ({@link #accumulate8} hands over the last ones so). Row c's whole pairs of vectors
     * are read packed (columns [d, d + PAIR) at {@code packed[d * pRows + pOff + c * PAIR]}, see {@link #packPairs}), the
     * columns past them in place (at {@code rowBase + c * rowStride}). Plain arguments, not a record: one made per
     * group was not scalar-replaced (the kernel is not inlined) and came to about 70 MB of garbage a reference fit (JFR's allocation samples).
     */
    private static void accumulate4(float[] acc, int o0, int o1, int o2, int o3, float[] w, int w0, int w1, int w2, int w3,
                                    int n, float[] rows, int rowBase, int rowStride, float[] packed, int pOff, int pRows,
                                    int hd, int dFrom) {
        int len = F.length(), d = dFrom;
        for (; d + PAIR <= hd; d += PAIR) {
            int pBase = d * pRows + pOff;
            FloatVector a00 = FloatVector.fromArray(F, acc, o0 + d), a01 = FloatVector.fromArray(F, acc, o0 + d + len);
            FloatVector a10 = FloatVector.fromArray(F, acc, o1 + d), a11 = FloatVector.fromArray(F, acc, o1 + d + len);
            FloatVector a20 = FloatVector.fromArray(F, acc, o2 + d), a21 = FloatVector.fromArray(F, acc, o2 + d + len);
            FloatVector a30 = FloatVector.fromArray(F, acc, o3 + d), a31 = FloatVector.fromArray(F, acc, o3 + d + len);
            for (int c = 0; c < n; c++) {
                int row = pBase + c * PAIR;
                FloatVector r0 = FloatVector.fromArray(F, packed, row), r1 = FloatVector.fromArray(F, packed, row + len);
                FloatVector x = FloatVector.broadcast(F, w[w0 + c]);
                a00 = r0.fma(x, a00); a01 = r1.fma(x, a01);
                x = FloatVector.broadcast(F, w[w1 + c]);
                a10 = r0.fma(x, a10); a11 = r1.fma(x, a11);
                x = FloatVector.broadcast(F, w[w2 + c]);
                a20 = r0.fma(x, a20); a21 = r1.fma(x, a21);
                x = FloatVector.broadcast(F, w[w3 + c]);
                a30 = r0.fma(x, a30); a31 = r1.fma(x, a31);
            }
            a00.intoArray(acc, o0 + d); a01.intoArray(acc, o0 + d + len);
            a10.intoArray(acc, o1 + d); a11.intoArray(acc, o1 + d + len);
            a20.intoArray(acc, o2 + d); a21.intoArray(acc, o2 + d + len);
            a30.intoArray(acc, o3 + d); a31.intoArray(acc, o3 + d + len);
        }
        for (; d + len <= hd; d += len) {
            FloatVector a0 = FloatVector.fromArray(F, acc, o0 + d), a1 = FloatVector.fromArray(F, acc, o1 + d);
            FloatVector a2 = FloatVector.fromArray(F, acc, o2 + d), a3 = FloatVector.fromArray(F, acc, o3 + d);
            for (int c = 0; c < n; c++) {
                FloatVector r0 = FloatVector.fromArray(F, rows, rowBase + c * rowStride + d);
                a0 = r0.fma(FloatVector.broadcast(F, w[w0 + c]), a0);
                a1 = r0.fma(FloatVector.broadcast(F, w[w1 + c]), a1);
                a2 = r0.fma(FloatVector.broadcast(F, w[w2 + c]), a2);
                a3 = r0.fma(FloatVector.broadcast(F, w[w3 + c]), a3);
            }
            a0.intoArray(acc, o0 + d); a1.intoArray(acc, o1 + d);
            a2.intoArray(acc, o2 + d); a3.intoArray(acc, o3 + d);
        }
        accumulateScalar(acc, o0, w, w0, n, rows, rowBase, rowStride, d, hd);
        accumulateScalar(acc, o1, w, w1, n, rows, rowBase, rowStride, d, hd);
        accumulateScalar(acc, o2, w, w2, n, rows, rowBase, rowStride, d, hd);
        accumulateScalar(acc, o3, w, w3, n, rows, rowBase, rowStride, d, hd);
    }

    /**
     * acc[accOff..accOff+hd) += sum_c w[wOff + c] * rows[rowBase + c*rowStride ..+hd) for c in
     * [0, n), the accumulator held in registers. Four (then two) vector slices of the row go through the
     * c loop together: one slice alone is a single chain of dependent FMAs, which waits on the FMA's
     * latency (4 cycles on Zen 3) while two FMA units could each start one per cycle. Every lane still
     * sums over c in order, so the result does not depend on how the slices are grouped.
     */
    private static void accumulate(float[] acc, int accOff, float[] w, int wOff, int n,
                                   float[] rows, int rowBase, int rowStride, int hd) {
        int d = 0;
        if (Simd.ENABLED) {
            int len = F.length();
            for (; d + 4 * len <= hd; d += 4 * len) {
                int o = accOff + d;
                FloatVector a0 = FloatVector.fromArray(F, acc, o), a1 = FloatVector.fromArray(F, acc, o + len);
                FloatVector a2 = FloatVector.fromArray(F, acc, o + 2 * len), a3 = FloatVector.fromArray(F, acc, o + 3 * len);
                for (int c = 0; c < n; c++) {
                    FloatVector x = FloatVector.broadcast(F, w[wOff + c]);
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
                    FloatVector x = FloatVector.broadcast(F, w[wOff + c]);
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
                    a = FloatVector.fromArray(F, rows, rowBase + c * rowStride + d).fma(FloatVector.broadcast(F, w[wOff + c]), a);
                a.intoArray(acc, accOff + d);
            }
        }
        accumulateScalar(acc, accOff, w, wOff, n, rows, rowBase, rowStride, d, hd);
    }

    /**
     * {@link #accumulate}'s elements [from, hd) in plain Java: the scalar path, and the tail past the
     * last whole vector (the same for one target as for each of {@link #accumulate4}'s four).
     */
    private static void accumulateScalar(float[] acc, int accOff, float[] w, int wOff, int n,
                                         float[] rows, int rowBase, int rowStride, int from, int hd) {
        for (int d = from; d < hd; d++) {
            float a = acc[accOff + d];
            for (int c = 0; c < n; c++) a += w[wOff + c] * rows[rowBase + c * rowStride + d];
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
