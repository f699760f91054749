package dev.ltm.tensor;

import java.util.Objects;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision matrix multiply C = (accumulate ? C : 0) + op(A) op(B) on row-major float
 * arrays, the engine's one compute-bound kernel.
 *
 * <p>Layout: op(A) is [m,k]; without transA element (i,p) is {@code a[aOff + i*lda + p]}, with
 * transA A is stored [k,m] and (i,p) is {@code a[aOff + p*lda + i]}. op(B) is [k,n]; without
 * transB (p,j) is {@code b[bOff + p*ldb + j]}, with transB B is stored [n,k] and (p,j) is
 * {@code b[bOff + j*ldb + p]}. C is [m,n] with (i,j) at {@code c[cOff + i*ldc + j]}.
 *
 * <p>The fast path follows the BLIS/GotoBLAS scheme: B is packed into a [KC x NC] panel of NR-wide
 * column slivers, A into an [MC x KC] block of MR-high row slivers (packing absorbs the
 * transposes and pads edges with zeros), and an MR x NR register-blocked FMA micro-kernel
 * sweeps the block. The block sizes below were measured on this project's reference machine; the
 * deep KC, which keeps C's traffic low, matters most.
 */
public final class Gemm {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /**
     * Micro-tile: MR rows x NR columns = 4 x 2 vectors, 8 accumulators. Measured on an AVX-512 Zen 4
     * core run with -XX:UseAVX=2 (16 vector registers, as on AVX2 machines), C2 spilled the 6 x 2
     * tile (12 accumulators + 2 B vectors + 1 broadcast) and reached about 45% of the FMA peak,
     * while this 4 x 2 tile reached about 95%; with 32 registers both reach the peak.
     */
    static final int MR = 4;
    static final int NR = 2 * L;
    /**
     * Depth block: the deepest pass over k. Each pass re-reads and re-writes all of C, and on this
     * machine (Zen 4, 1 MiB L2 per core, an L3 shared with other guests) that C traffic, not the
     * micro-kernel, set the pace: 1024^3 on one core ran at a median 68 GFLOP/s with 128-deep passes
     * (8 passes over C), 79 with 256, 91 with 512 and 100 with 1024. The B sliver (KC x NR = 128 KiB
     * with 512-bit vectors) then streams from L2 with the A sliver, which the kernel sustains.
     * Depths above KC are cut into equal passes, so no pass is much shorter than the others.
     */
    static final int KC = 1024;
    /** Row block: the packed A block MC x KC is at most 192 KiB, in L2 beside the B sliver. */
    static final int MC = 48;
    /** Column block: the packed B panel KC x NC is at most 4 MiB, in L3. */
    static final int NC = 1024;
    /** Below this many multiply-adds the packing costs more than it saves. */
    static final long SMALL = 32 * 1024;
    /**
     * Below this many multiply-adds one thread runs the blocked product: handing half to a worker costs
     * about 2 us when it is spinning ({@link Parallel#SPIN_NANOS}) and 40-100 us when it has parked.
     * With a pool whose threads always parked, 2^21 paid (at {@code bench scaling}'s base, products of
     * 128x64x64 to 128x64x192, a median 16.3 ms per fit against 22.1 with 2^19). With spinning workers,
     * at that base (Zen 4, medians of 300 fits, alternated): 7.06 and 6.71 ms with 2^21, 5.97 and 6.28 with
     * 2^20, 5.38, 5.92, 5.83 and 6.47 with 2^19, 6.87 and 5.26 with 2^18.
     */
    static final long PARALLEL_WORK = 1L << 19;

    private Gemm() {}

    /** C = (accumulate ? C : 0) + op(A) op(B) on all of {@link Parallel}'s threads; see the class comment for the layout. */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float[] c, int cOff, int ldc, boolean accumulate) {
        sgemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, Parallel.threads());
    }

    /** As the other overload, using at most {@code threads} threads (1 runs on the calling thread). */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float[] c, int cOff, int ldc, boolean accumulate, int threads) {
        validate(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, threads);
        if (m == 0 || n == 0) return;
        if (k == 0) {
            if (!accumulate) for (int i = 0; i < m; i++) java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
            return;
        }
        if ((long) m * n * k < SMALL) {
            sgemmSimple(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
            return;
        }
        if (m <= FEW_ROWS && Simd.ENABLED) {
            sgemmFewRows(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, threads);
            return;
        }
        sgemmParallel(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate,
                (long) m * n * k < PARALLEL_WORK ? 1 : threads, Simd.ENABLED);
    }

    /**
     * Up to this many NR-wide slivers of C's columns, op(A) stored as rows (not transposed) is read where it
     * lies ({@link #kernelRows}) instead of packed: packing copies every element of A once, and only as many
     * slivers re-read it. Alternated on Zen 3, 2048 x n x k: in place 41 against 32 GFLOP/s at n=64, k=64 (two
     * threads; 55 against 48 on one), 57 against 50 at n=64, k=192, 71 against 66 at n=128, k=256 (one thread);
     * from n=192 (12 slivers) even, and 2-3% slower at n=256 and 704, where the packed block's one stream wins.
     */
    static final int IN_PLACE_SLIVERS = 8;

    /** Up to this many rows of C, B is read in place: packing B for one row (a decoding step) cost 7 times the product. */
    static final int FEW_ROWS = MR;

    /**
     * C (+)= op(A) op(B) for m <= {@link #FEW_ROWS} without packing: each column of C is one dot product
     * over k (transB: rows of B are contiguous) or each vector of C's row sums broadcast FMAs down B's
     * rows. Columns are split over the threads when B is large; every element is summed in the same
     * order whatever the split.
     */
    static void sgemmFewRows(boolean transA, boolean transB, int m, int n, int k,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float[] c, int cOff, int ldc, boolean accumulate, int threads) {
        int aRow = transA ? 1 : lda, aCol = transA ? lda : 1;
        float[] rowA = transA ? new float[m * k] : null; // op(A) rows made contiguous
        if (transA) for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) rowA[i * k + p] = a[aOff + i * aRow + p * aCol];
        float[] ar = transA ? rowA : a;
        int arOff = transA ? 0 : aOff, arLd = transA ? k : lda;
        int tasks = (long) n * k < (1 << 16) ? 1 : Math.min(Math.min(threads, Parallel.threads()), Math.max(1, n / NR));
        Parallel.forRange(tasks, tasks, t -> {
            // column ranges in whole vectors, so that the !transB path's vector loop is the same for every split
            int lo = (int) ((long) (n / L) * t / tasks) * L, hi = t == tasks - 1 ? n : (int) ((long) (n / L) * (t + 1) / tasks) * L;
            for (int i = 0; i < m; i++) {
                int ai = arOff + i * arLd, ci = cOff + i * ldc;
                if (transB) {
                    for (int j = lo; j < hi; j++) {
                        float sum = Attention.dot(ar, ai, b, bOff + j * ldb, k);
                        c[ci + j] = accumulate ? c[ci + j] + sum : sum;
                    }
                } else {
                    int j = lo;
                    for (; j + L <= hi; j += L) {
                        FloatVector acc = FloatVector.zero(F);
                        for (int p = 0; p < k; p++) {
                            acc = FloatVector.broadcast(F, ar[ai + p]).fma(FloatVector.fromArray(F, b, bOff + p * ldb + j), acc);
                        }
                        if (accumulate) acc = acc.add(FloatVector.fromArray(F, c, ci + j));
                        acc.intoArray(c, ci + j);
                    }
                    for (; j < hi; j++) {
                        float sum = 0;
                        for (int p = 0; p < k; p++) sum += ar[ai + p] * b[bOff + p * ldb + j];
                        c[ci + j] = accumulate ? c[ci + j] + sum : sum;
                    }
                }
            }
        });
    }

    /** Reference: the textbook triple loop with double accumulation, the tests' ground truth. */
    static void sgemmNaive(boolean transA, boolean transB, int m, int n, int k,
                           float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                           float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = accumulate ? c[cOff + i * ldc + j] : 0;
                for (int p = 0; p < k; p++) {
                    float x = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float y = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    s += (double) x * y;
                }
                c[cOff + i * ldc + j] = (float) s;
            }
        }
    }

    /** Small problems: a plain loop in float, no packing. */
    static void sgemmSimple(boolean transA, boolean transB, int m, int n, int k,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate) {
        int aRow = transA ? 1 : lda, aCol = transA ? lda : 1;
        int bRow = transB ? 1 : ldb, bCol = transB ? ldb : 1;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0;
                int ai = aOff + i * aRow, bj = bOff + j * bCol;
                for (int p = 0; p < k; p++) s += a[ai + p * aCol] * b[bj + p * bRow];
                int ci = cOff + i * ldc + j;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    /**
     * Splits C into at most {@code threads} strips along its longer side (rows in multiples of MR,
     * columns in multiples of NR) and runs the blocked product on each strip independently.
     */
    static void sgemmParallel(boolean transA, boolean transB, int m, int n, int k,
                              float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float[] c, int cOff, int ldc, boolean accumulate, int threads, boolean simd) {
        boolean byRows = m >= n;
        int tile = byRows ? MR : NR;
        int tiles = ((byRows ? m : n) + tile - 1) / tile;
        int tasks = Math.max(1, Math.min(Math.min(threads, Parallel.threads()), tiles));
        Parallel.forRange(tasks, tasks, t -> {
            int lo = (int) ((long) tiles * t / tasks) * tile;
            int hi = Math.min((int) ((long) tiles * (t + 1) / tasks) * tile, byRows ? m : n);
            if (lo >= hi) return;
            if (byRows) {
                int aStart = aOff + (transA ? lo : lo * lda);
                sgemmBlocked(transA, transB, hi - lo, n, k, a, aStart, lda, b, bOff, ldb,
                        c, cOff + lo * ldc, ldc, accumulate, simd);
            } else {
                int bStart = bOff + (transB ? lo * ldb : lo);
                sgemmBlocked(transA, transB, m, hi - lo, k, a, aOff, lda, b, bStart, ldb,
                        c, cOff + lo, ldc, accumulate, simd);
            }
        });
    }

    /** The single-threaded blocked product: loops jc (NC), pc (KC), ic (MC), jr (NR), ir (MR). */
    static void sgemmBlocked(boolean transA, boolean transB, int m, int n, int k,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float[] c, int cOff, int ldc, boolean accumulate, boolean simd) {
        int passes = (k + KC - 1) / KC;
        int kcMax = (k + passes - 1) / passes;
        GemmWorkspace ws = Parallel.takeGemmWorkspace();
        try {
            blocked(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, simd, kcMax, ws);
        } finally {
            Parallel.returnGemmWorkspace(ws);
        }
    }

    private static void blocked(boolean transA, boolean transB, int m, int n, int k,
                                float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                float[] c, int cOff, int ldc, boolean accumulate, boolean simd, int kcMax, GemmWorkspace ws) {
        boolean inPlace = simd && !transA && n <= IN_PLACE_SLIVERS * NR;
        float[] pa = inPlace ? null : ws.pa(roundUp(Math.min(m, MC), MR) * kcMax);
        float[] pb = ws.pb(roundUp(Math.min(n, NC), NR) * kcMax);
        float[] edge = ws.edge;
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += kcMax) {
                int kc = Math.min(kcMax, k - pc);
                boolean add = accumulate || pc > 0;
                packB(transB, b, bOff, ldb, pc, kc, jc, nc, pb);
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    if (!inPlace) packA(transA, a, aOff, lda, ic, mc, pc, kc, pa);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int nr = Math.min(NR, nc - jr);
                        for (int ir = 0; ir < mc; ir += MR) {
                            int mr = Math.min(MR, mc - ir);
                            int ci = cOff + (ic + ir) * ldc + jc + jr;
                            // in place: row r of the tile starts at a0 + r * lda (rows past m repeat the first; their results are dropped)
                            int a0 = aOff + (ic + ir) * lda + pc;
                            if (mr == MR && nr == NR) {
                                if (inPlace) kernelRows(kc, a, a0, a0 + lda, a0 + 2 * lda, a0 + 3 * lda, pb, jr * kc, c, ci, ldc, add);
                                else if (simd) kernel(kc, pa, ir * kc, pb, jr * kc, c, ci, ldc, add);
                                else kernelScalar(kc, pa, ir * kc, pb, jr * kc, c, ci, ldc, add);
                            } else {
                                // Edge tile: compute the full padded tile aside, write back the valid part.
                                if (inPlace) {
                                    int r1 = mr > 1 ? a0 + lda : a0, r2 = mr > 2 ? a0 + 2 * lda : a0, r3 = mr > 3 ? a0 + 3 * lda : a0;
                                    kernelRows(kc, a, a0, r1, r2, r3, pb, jr * kc, edge, 0, NR, false);
                                }
                                else if (simd) kernel(kc, pa, ir * kc, pb, jr * kc, edge, 0, NR, false);
                                else kernelScalar(kc, pa, ir * kc, pb, jr * kc, edge, 0, NR, false);
                                for (int r = 0; r < mr; r++) {
                                    int row = ci + r * ldc;
                                    for (int j = 0; j < nr; j++) {
                                        c[row + j] = add ? c[row + j] + edge[r * NR + j] : edge[r * NR + j];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Packs rows [ic, ic+mc) x depth [pc, pc+kc) of op(A) into MR-high slivers: sliver s holds,
     * for each p, the MR values A(ic + s*MR + r, pc + p) at {@code pa[s*MR*kc + p*MR + r]}; rows past
     * mc are zero. A whole sliver of A stored as rows is packed L columns at a time by {@link #packRows}.
     * Timed on Zen 4 (AVX-512), 1024^3 on one thread: packing A and B one float at a time cost 7% of the
     * product (112-113 GFLOP/s with both packs skipped against 104-105), and with vector packs it runs at
     * 108-110; at n = 256, where each packed A is read by 4 times fewer slivers, A's share is 4 times larger.
     */
    static void packA(boolean transA, float[] a, int aOff, int lda, int ic, int mc, int pc, int kc, float[] pa) {
        for (int s = 0; s < mc; s += MR) {
            int base = s * kc;
            int rows = Math.min(MR, mc - s);
            if (transA) {
                // A stored [k,m]: the MR values of one p are contiguous.
                for (int p = 0; p < kc; p++) {
                    int src = aOff + (pc + p) * lda + ic + s, dst = base + p * MR;
                    if (rows == MR && Simd.ENABLED) {
                        FloatVector.fromArray(F4, a, src).intoArray(pa, dst);
                        continue;
                    }
                    for (int r = 0; r < rows; r++) pa[dst + r] = a[src + r];
                    for (int r = rows; r < MR; r++) pa[dst + r] = 0f;
                }
            } else if (rows == MR && Simd.ENABLED) {
                packRows(a, aOff + (ic + s) * lda + pc, lda, kc, pa, base);
            } else {
                for (int r = 0; r < rows; r++) {
                    int src = aOff + (ic + s + r) * lda + pc;
                    for (int p = 0; p < kc; p++) pa[base + p * MR + r] = a[src + p];
                }
                for (int r = rows; r < MR; r++) {
                    for (int p = 0; p < kc; p++) pa[base + p * MR + r] = 0f;
                }
            }
        }
    }

    /** Four floats: one p of a transposed A's sliver. */
    private static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;
    /** Interleave two vectors x, y: ZIP_LO gives x0 y0 x1 y1 ... of their low halves, ZIP_HI the same of the high halves. */
    private static final VectorShuffle<Float> ZIP_LO = VectorShuffle.fromOp(F, i -> (i % 2) * L + i / 2),
            ZIP_HI = VectorShuffle.fromOp(F, i -> (i % 2) * L + L / 2 + i / 2);

    /**
     * One MR = 4 row sliver of A stored as rows (row r at {@code src + r*lda}) into {@code pa[dst + p*4 + r]}:
     * L columns of the four rows are loaded as four vectors and interleaved twice (rows 0 and 2 with 1 and 3),
     * which writes 4 L packed values as four whole vectors.
     */
    private static void packRows(float[] a, int src, int lda, int kc, float[] pa, int dst) {
        int s0 = src, s1 = src + lda, s2 = src + 2 * lda, s3 = src + 3 * lda;
        int p = 0;
        for (; p + L <= kc; p += L) {
            FloatVector v0 = FloatVector.fromArray(F, a, s0 + p), v1 = FloatVector.fromArray(F, a, s1 + p);
            FloatVector v2 = FloatVector.fromArray(F, a, s2 + p), v3 = FloatVector.fromArray(F, a, s3 + p);
            // rows 0,2 and 1,3 interleaved, then those two: lane 4q + r of the result is row r at column q
            FloatVector lo02 = v0.rearrange(ZIP_LO, v2), hi02 = v0.rearrange(ZIP_HI, v2);
            FloatVector lo13 = v1.rearrange(ZIP_LO, v3), hi13 = v1.rearrange(ZIP_HI, v3);
            int d = dst + p * MR;
            lo02.rearrange(ZIP_LO, lo13).intoArray(pa, d);
            lo02.rearrange(ZIP_HI, lo13).intoArray(pa, d + L);
            hi02.rearrange(ZIP_LO, hi13).intoArray(pa, d + 2 * L);
            hi02.rearrange(ZIP_HI, hi13).intoArray(pa, d + 3 * L);
        }
        for (; p < kc; p++) {
            int d = dst + p * MR;
            pa[d] = a[s0 + p]; pa[d + 1] = a[s1 + p]; pa[d + 2] = a[s2 + p]; pa[d + 3] = a[s3 + p];
        }
    }

    /**
     * Packs depth [pc, pc+kc) x columns [jc, jc+nc) of op(B) into NR-wide slivers: sliver s holds,
     * for each p, the NR values B(pc + p, jc + s*NR + j) at {@code pb[s*NR*kc + p*NR + j]}; columns
     * past nc are zero.
     */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc, float[] pb) {
        for (int s = 0; s < nc; s += NR) {
            int base = s * kc;
            int cols = Math.min(NR, nc - s);
            if (transB) {
                for (int j = 0; j < cols; j++) {
                    int src = bOff + (jc + s + j) * ldb + pc;
                    for (int p = 0; p < kc; p++) pb[base + p * NR + j] = b[src + p];
                }
                for (int j = cols; j < NR; j++) {
                    for (int p = 0; p < kc; p++) pb[base + p * NR + j] = 0f;
                }
            } else {
                // B stored [k,n]: the NR values of one p are contiguous.
                for (int p = 0; p < kc; p++) {
                    int src = bOff + (pc + p) * ldb + jc + s, dst = base + p * NR;
                    if (cols == NR && Simd.ENABLED) { // two vector copies: arraycopy's call cost more than its 2 L floats
                        FloatVector.fromArray(F, b, src).intoArray(pb, dst);
                        FloatVector.fromArray(F, b, src + L).intoArray(pb, dst + L);
                        continue;
                    }
                    System.arraycopy(b, src, pb, dst, cols);
                    for (int j = cols; j < NR; j++) pb[dst + j] = 0f;
                }
            }
        }
    }

    /**
     * The MR x NR = 4 x (2 vectors) micro-kernel: C[4, NR] (+)= Apanel[4, kc] Bpanel[kc, NR] from
     * packed slivers. Eight local accumulators and no arrays of vectors, so C2 keeps the whole
     * tile in registers; each step is 2 vector loads, 4 broadcasts and 8 FMAs.
     */
    static void kernel(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc, boolean add) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * MR, bp = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(F, pb, bp);
            FloatVector b1 = FloatVector.fromArray(F, pb, bp + L);
            FloatVector x = FloatVector.broadcast(F, pa[ap]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, pa[ap + 1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, pa[ap + 2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, pa[ap + 3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
        }
        int r1 = co + ldc, r2 = co + 2 * ldc, r3 = co + 3 * ldc;
        if (add) {
            c00 = c00.add(FloatVector.fromArray(F, c, co)); c01 = c01.add(FloatVector.fromArray(F, c, co + L));
            c10 = c10.add(FloatVector.fromArray(F, c, r1)); c11 = c11.add(FloatVector.fromArray(F, c, r1 + L));
            c20 = c20.add(FloatVector.fromArray(F, c, r2)); c21 = c21.add(FloatVector.fromArray(F, c, r2 + L));
            c30 = c30.add(FloatVector.fromArray(F, c, r3)); c31 = c31.add(FloatVector.fromArray(F, c, r3 + L));
        }
        c00.intoArray(c, co); c01.intoArray(c, co + L);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + L);
    }

    /**
     * {@link #kernel} reading op(A) in place: the four rows of the tile start at a0..a3 and run over k
     * contiguously (A not transposed), so each step broadcasts a[a0 + p] .. a[a3 + p]. Every element of C
     * is the same FMA chain over k as the packed kernel forms, so the bits are the same.
     */
    static void kernelRows(int kc, float[] a, int a0, int a1, int a2, int a3, float[] pb, int bo, float[] c, int co, int ldc, boolean add) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int bp = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(F, pb, bp);
            FloatVector b1 = FloatVector.fromArray(F, pb, bp + L);
            FloatVector x = FloatVector.broadcast(F, a[a0 + p]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, a[a1 + p]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, a[a2 + p]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, a[a3 + p]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
        }
        int r1 = co + ldc, r2 = co + 2 * ldc, r3 = co + 3 * ldc;
        if (add) {
            c00 = c00.add(FloatVector.fromArray(F, c, co)); c01 = c01.add(FloatVector.fromArray(F, c, co + L));
            c10 = c10.add(FloatVector.fromArray(F, c, r1)); c11 = c11.add(FloatVector.fromArray(F, c, r1 + L));
            c20 = c20.add(FloatVector.fromArray(F, c, r2)); c21 = c21.add(FloatVector.fromArray(F, c, r2 + L));
            c30 = c30.add(FloatVector.fromArray(F, c, r3)); c31 = c31.add(FloatVector.fromArray(F, c, r3 + L));
        }
        c00.intoArray(c, co); c01.intoArray(c, co + L);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + L);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + L);
    }

    /** Scalar twin of {@link #kernel}, taken when {@code -Dltm.vector=0}: same packed layout, same tile. */
    static void kernelScalar(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc, boolean add) {
        float[] acc = new float[MR * NR];
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * MR, bp = bo + p * NR;
            for (int r = 0; r < MR; r++) {
                float x = pa[ap + r];
                for (int j = 0; j < NR; j++) acc[r * NR + j] += x * pb[bp + j];
            }
        }
        for (int r = 0; r < MR; r++) {
            for (int j = 0; j < NR; j++) {
                int ci = co + r * ldc + j;
                c[ci] = add ? c[ci] + acc[r * NR + j] : acc[r * NR + j];
            }
        }
    }

    private static int roundUp(int x, int to) { return (x + to - 1) / to * to; }

    private static void validate(boolean transA, boolean transB, int m, int n, int k,
                                 float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                 float[] c, int cOff, int ldc, int threads) {
        String dims = "sgemm: m=" + m + " n=" + n + " k=" + k;
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException(dims + ": negative size");
        if (threads < 1) throw new IllegalArgumentException(dims + ": threads " + threads + " < 1");
        checkMatrix(dims, "A", a, aOff, lda, transA ? k : m, transA ? m : k);
        checkMatrix(dims, "B", b, bOff, ldb, transB ? n : k, transB ? k : n);
        checkMatrix(dims, "C", c, cOff, ldc, m, n);
    }

    /** A stored [rows, cols] with leading dimension ld from offset off must fit in the array. */
    private static void checkMatrix(String dims, String name, float[] x, int off, int ld, int rows, int cols) {
        Objects.requireNonNull(x, () -> dims + ": " + name + " is null");
        String what = dims + ": " + name + " stored [" + rows + ", " + cols + "] with ld=" + ld + " at offset " + off;
        if (off < 0) throw new IllegalArgumentException(what + ": negative offset");
        if (rows == 0 || cols == 0) return;
        if (ld < cols) throw new IllegalArgumentException(what + ": leading dimension < " + cols);
        long need = off + (long) (rows - 1) * ld + cols;
        if (need > x.length) {
            throw new IllegalArgumentException(what + ": needs " + need + " floats, array has " + x.length);
        }
    }
}
