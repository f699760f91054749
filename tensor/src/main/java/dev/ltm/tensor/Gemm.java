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
 * sweeps the block. The tile and block sizes below were measured on the machines this project has
 * run on: Zen 3 and Zen 4 share one configuration (4-row tile, deep KC, which keeps C's traffic low),
 * and Intel AVX-512 cores get another ({@link Tuning}; {@link #configuration()} names the one in use).
 */
public final class Gemm {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /**
     * Micro-tile: MR rows x NR columns = MR x 2 vectors. The 4 x 2 tile (8 accumulators) is the default: measured on
     * an AVX-512 Zen 4 core run with -XX:UseAVX=2 (16 vector registers, as on AVX2 machines), C2 spilled the 6 x 2
     * tile (12 accumulators + 2 B vectors + 1 broadcast) and reached about 45% of the FMA peak, while 4 x 2 reached
     * about 95%; with 32 registers 6 x 2 and 8 x 2 gained nothing there. An Intel AVX-512 core has two 512-bit FMA
     * pipes, so 8 independent FMA chains (4 x 2's) are the bare minimum through its 4-cycle latency, with no slack for
     * the loads, and there the micro-kernel alone, on
     * L1-resident slivers, ran 4 x 2 at 128-147 GFLOP/s, 8 x 2 at 163-169 and 12 x 2 ({@link #kernel12}, 24
     * accumulators) at 175-176, against a peak of about 230; 14 x 2 spilled (74). So those cores get 12 x 2.
     */
    static final int MR = Tuning.INTEL_AVX512 ? 12 : 4;
    static final int NR = 2 * L;
    /**
     * Depth block: the deepest pass over k. Each pass re-reads and re-writes all of C, and on Zen 4 (1 MiB L2 per core,
     * an L3 shared with other guests) that C traffic, not the micro-kernel, set the pace: 1024^3 on one core ran at a
     * median 68 GFLOP/s with 128-deep passes (8 passes over C), 79 with 256, 91 with 512 and 100 with 1024; the B
     * sliver (KC x NR = 128 KiB with 512-bit vectors) then streams from L2 with the A sliver. On the Intel AVX-512 core
     * (48 KiB L1d, 2 MiB L2) the 12 x 2 kernel wants its B sliver in L1 instead, as BLIS has it: 1024^3 with KC 1024
     * ran at 127 (one thread) and 189 GFLOP/s (two), with 512 at 126-134 / 251-265, with 384 at 142-152 / 278-307,
     * with 256 (a 32 KiB sliver) at 149-157 / 281-316, with 192 at 139-153 / 274-306, with 128 at 122-136 / 248-277.
     * Depths above KC are cut into equal passes, so no pass is much shorter than the others. {@code -Dltm.gemm.kc}
     * overrides it for tuning on another machine; a pass boundary moves the rounding, so results depend on it.
     */
    static final int KC = Tuning.block("ltm.gemm.kc", Tuning.INTEL_AVX512 ? 256 : 1024, 1);
    /**
     * Row block: MC x KC of packed A, 192 KiB in L2 beside the B sliver on Zen 4 (48 x 1024). On the Intel core 72 x 256
     * (72 KiB): 1024^3 alternated, 156-164 / 286-318 GFLOP/s (one / two threads) against 145-157 / 281-316 with 96 rows,
     * and 144 or 192 rows lost 5-10%. {@code -Dltm.gemm.mc} overrides it (a positive multiple of MR).
     */
    static final int MC = Tuning.block("ltm.gemm.mc", Tuning.INTEL_AVX512 ? 72 : 48, MR);
    /**
     * Column block: the packed B panel KC x NC is at most 4 MiB, in L3. {@code -Dltm.gemm.nc} overrides it (a positive
     * multiple of NR).
     */
    static final int NC = Tuning.block("ltm.gemm.nc", 1024, NR);
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

    /**
     * Which of the measured configurations this machine gets. Intel cores with AVX-512 have two 512-bit FMA pipes
     * (Zen 4 has one a cycle), so they get the 12-row tile and L1-sized depth blocks; every other machine gets the
     * Zen-measured 4-row tile and deep blocks. The vendor comes from Linux's /proc/cpuinfo; elsewhere it is unknown and
     * the defaults hold. The results' last bits depend on the depth block, so they differ between the two.
     */
    static final class Tuning {
        // Simd's species, not Gemm's L: Attention reads this too, and a class initialised first through it must not
        // start Gemm's initialisation half way through this one's (Gemm would then read false here).
        static final boolean INTEL_AVX512 = Simd.F.length() == 16 && Simd.ENABLED && intelCpu();

        private Tuning() {}

        /** A block size from a system property, or the default; it must be a positive multiple of {@code multiple}. */
        static int block(String property, int fallback, int multiple) {
            int v = Integer.getInteger(property, fallback);
            if (v < multiple || v % multiple != 0) {
                throw new IllegalArgumentException(property + "=" + v + ": must be a positive multiple of " + multiple);
            }
            return v;
        }

        private static boolean intelCpu() {
            try (java.util.stream.Stream<String> lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/cpuinfo"))) {
                return lines.filter(l -> l.startsWith("vendor_id")).findFirst().map(l -> l.contains("GenuineIntel")).orElse(false);
            } catch (java.io.IOException | java.io.UncheckedIOException | SecurityException e) {
                return false;
            }
        }
    }

    /** The tile and block sizes in use, for benchmark reports: e.g. "MR x NR = 12 x 32, KC = 256, MC = 72, NC = 1024". */
    public static String configuration() {
        return "MR x NR = " + MR + " x " + NR + ", KC = " + KC + ", MC = " + MC + ", NC = " + NC
                + (Tuning.INTEL_AVX512 ? " (Intel AVX-512 tuning)" : "");
    }

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
        if (!blockedPath(m, n, k)) {
            if ((long) m * n * k < SMALL) {
                sgemmSimple(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
            } else {
                sgemmFewRows(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, threads);
            }
            return;
        }
        sgemmParallel(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate,
                (long) m * n * k < PARALLEL_WORK ? 1 : threads, Simd.ENABLED);
    }

    /**
     * Whether {@link #sgemm} runs an m x n x k product through its blocked kernels, where each element of C is summed in an
     * order that depends on n and k only: then any other row count past this one, split over any threads, gives each row
     * the same bits. Smaller products take {@link #sgemmSimple} or {@link #sgemmFewRows}, which sum in other orders.
     */
    public static boolean blockedPath(int m, int n, int k) {
        return (long) m * n * k >= SMALL && (m > FEW_ROWS || !Simd.ENABLED);
    }

    /**
     * Up to this many NR-wide slivers of C's columns, op(A) stored as rows (not transposed) is read where it
     * lies ({@link #kernelRows}) instead of packed: packing copies every element of A once, and only as many
     * slivers re-read it. Alternated on Zen 3, 2048 x n x k: in place 41 against 32 GFLOP/s at n=64, k=64 (two
     * threads; 55 against 48 on one), 57 against 50 at n=64, k=192, 71 against 66 at n=128, k=256 (one thread);
     * from n=192 (12 slivers) even, and 2-3% slower at n=256 and 704, where the packed block's one stream wins. The
     * in-place kernel is 4 rows high, so on the Intel tuning, where the packed tile is 12 rows, it pays only up to 4
     * slivers: one thread, 2048 x n x 256, n=64 in place 134-157 against 104-106 GFLOP/s packed, n=128 138-157 against
     * 129-141, n=256 134 in place against 150-166 packed.
     */
    static final int IN_PLACE_SLIVERS = Tuning.INTEL_AVX512 ? 4 : 8;

    /** Up to this many rows of C, B is read in place: packing B for one row (a decoding step) cost 7 times the product. */
    static final int FEW_ROWS = 4;

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
     * columns in multiples of NR) and runs the blocked product on each strip independently; a row split whose B panel
     * is large packs it once for all strips ({@link #sgemmSharedPanel}).
     */
    static void sgemmParallel(boolean transA, boolean transB, int m, int n, int k,
                              float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float[] c, int cOff, int ldc, boolean accumulate, int threads, boolean simd) {
        boolean byRows = m >= n;
        int tile = byRows ? MR : NR;
        int tiles = ((byRows ? m : n) + tile - 1) / tile;
        // Tasks that would run one after another on this thread would each pack all of B: one task packs it once.
        int tasks = Parallel.runsInline() ? 1 : Math.max(1, Math.min(Math.min(threads, Parallel.threads()), tiles));
        if (byRows && tasks > 1 && (long) Math.min(n, NC) * Math.min(k, KC) >= SHARED_PANEL) {
            sgemmSharedPanel(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, tasks, simd);
            return;
        }
        Parallel.forRange(tasks, tasks, t -> {
            int lo = stripStart(tiles, t, tasks, tile);
            int hi = Math.min(stripStart(tiles, t + 1, tasks, tile), byRows ? m : n);
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
        int kcMax = depthBlock(k);
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
        float[] pb = ws.pb(roundUp(Math.min(n, NC), NR) * kcMax);
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += kcMax) {
                int kc = Math.min(kcMax, k - pc);
                packB(transB, b, bOff, ldb, pc, kc, jc, nc, pb);
                panel(transA, m, n, a, aOff, lda, pb, jc, nc, pc, kc, c, cOff, ldc, accumulate || pc > 0, simd, kcMax, ws);
            }
        }
    }

    /**
     * From this many floats of a packed B panel (kc x nc) up, the threads of a product split by rows pack one panel
     * together ({@link #sgemmSharedPanel}) instead of each packing all of it. 1024^3 on two threads: each packed the
     * whole 4 MiB panel in about 0.6 ms of its 12 ms (Zen 3). {@code -Dltm.gemm.shared} overrides it (a huge value turns
     * the shared panel off).
     */
    static final int SHARED_PANEL = Tuning.block("ltm.gemm.shared", 1 << 18, 1);

    /**
     * {@link #sgemmParallel}'s row split with one packed B panel for all tasks, BLIS style: per (NC, KC) block, the tasks
     * first pack a share of the panel's slivers each, then each multiplies its rows by the whole panel. Two hand-offs
     * per block instead of one, each thread packs 1 / tasks of the panel, and one copy sits in the shared cache instead
     * of one per thread. The panel is the calling thread's buffer; every task's rows, blocks and kernels are the ones
     * {@link #sgemmBlocked} runs on the same strip, so the bits are the same.
     */
    static void sgemmSharedPanel(boolean transA, boolean transB, int m, int n, int k,
                                 float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                 float[] c, int cOff, int ldc, boolean accumulate, int tasks, boolean simd) {
        int kcMax = depthBlock(k);
        int tiles = (m + MR - 1) / MR;
        Thread caller = Thread.currentThread();
        GemmWorkspace own = Parallel.takeGemmWorkspace();
        try {
            float[] pb = own.pb(roundUp(Math.min(n, NC), NR) * kcMax);
            for (int jc = 0; jc < n; jc += NC) {
                int nc = Math.min(NC, n - jc), slivers = (nc + NR - 1) / NR, j0 = jc;
                for (int pc = 0; pc < k; pc += kcMax) {
                    int kc = Math.min(kcMax, k - pc), p0 = pc;
                    Parallel.forRange(tasks, tasks, t -> {
                        int s0 = stripStart(slivers, t, tasks, NR);
                        int s1 = Math.min(nc, stripStart(slivers, t + 1, tasks, NR));
                        if (s0 < s1) packB(transB, b, bOff, ldb, p0, kc, j0 + s0, s1 - s0, pb, s0 * kc);
                    });
                    Parallel.forRange(tasks, tasks, t -> {
                        int lo = stripStart(tiles, t, tasks, MR), hi = Math.min(stripStart(tiles, t + 1, tasks, MR), m);
                        if (lo >= hi) return;
                        // the caller's buffers serve every task that runs on the caller (its panel is pb; pa is separate)
                        GemmWorkspace ws = Thread.currentThread() == caller ? own : Parallel.takeGemmWorkspace();
                        try {
                            panel(transA, hi - lo, n, a, aOff + (transA ? lo : lo * lda), lda, pb, j0, nc, p0, kc,
                                    c, cOff + lo * ldc, ldc, accumulate || p0 > 0, simd, kcMax, ws);
                        } finally {
                            if (ws != own) Parallel.returnGemmWorkspace(ws);
                        }
                    });
                }
            }
        } finally {
            Parallel.returnGemmWorkspace(own);
        }
    }

    /**
     * C[:, jc .. jc+nc) (+)= op(A)[:, pc .. pc+kc) times the packed panel pb of op(B)'s block at (pc, jc), for all m
     * rows: loops ic (MC), jr (NR), ir (MR); n is the whole width, which decides whether A is read in place.
     */
    private static void panel(boolean transA, int m, int n, float[] a, int aOff, int lda, float[] pb, int jc, int nc,
                              int pc, int kc, float[] c, int cOff, int ldc, boolean add, boolean simd, int kcMax,
                              GemmWorkspace ws) {
        boolean inPlace = simd && !transA && n <= IN_PLACE_SLIVERS * NR;
        int tileRows = inPlace ? 4 : MR; // the in-place kernel is 4 x NR whatever MR is
        float[] pa = inPlace ? null : ws.pa(roundUp(Math.min(m, MC), MR) * kcMax);
        float[] edge = ws.edge;
        for (int ic = 0; ic < m; ic += MC) {
            int mc = Math.min(MC, m - ic);
            if (!inPlace) packA(transA, a, aOff, lda, ic, mc, pc, kc, pa);
            for (int jr = 0; jr < nc; jr += NR) {
                int nr = Math.min(NR, nc - jr);
                for (int ir = 0; ir < mc; ir += tileRows) {
                    int mr = Math.min(tileRows, mc - ir);
                    int ci = cOff + (ic + ir) * ldc + jc + jr;
                    // in place: row r of the tile starts at a0 + r * lda (rows past m repeat the first; their results are dropped)
                    int a0 = aOff + (ic + ir) * lda + pc;
                    if (mr == tileRows && nr == NR) {
                        if (inPlace) kernelRows(kc, a, a0, a0 + lda, a0 + 2 * lda, a0 + 3 * lda, pb, jr * kc, c, ci, ldc, add);
                        else if (simd) kernelPacked(kc, pa, ir * kc, pb, jr * kc, c, ci, ldc, add);
                        else kernelScalar(kc, pa, ir * kc, pb, jr * kc, c, ci, ldc, add);
                    } else {
                        // Edge tile: compute the full padded tile aside, write back the valid part.
                        if (inPlace) {
                            int r1 = mr > 1 ? a0 + lda : a0, r2 = mr > 2 ? a0 + 2 * lda : a0, r3 = mr > 3 ? a0 + 3 * lda : a0;
                            kernelRows(kc, a, a0, r1, r2, r3, pb, jr * kc, edge, 0, NR, false);
                        }
                        else if (simd) kernelPacked(kc, pa, ir * kc, pb, jr * kc, edge, 0, NR, false);
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
                        for (int g = 0; g < MR; g += 4) FloatVector.fromArray(F4, a, src + g).intoArray(pa, dst + g);
                        continue;
                    }
                    for (int r = 0; r < rows; r++) pa[dst + r] = a[src + r];
                    for (int r = rows; r < MR; r++) pa[dst + r] = 0f;
                }
            } else if (rows == MR && Simd.ENABLED) {
                if (MR == 12) packRows12(a, aOff + (ic + s) * lda + pc, lda, kc, pa, base);
                else packRows(a, aOff + (ic + s) * lda + pc, lda, kc, pa, base);
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
    private static final VectorShuffle<Float> ZIP_LO = zip(F, false), ZIP_HI = zip(F, true);

    /** The two-vector shuffle that interleaves the low (or high) halves of two vectors of {@code species}, lane by lane. */
    private static VectorShuffle<Float> zip(VectorSpecies<Float> species, boolean high) {
        int n = species.length(), from = high ? n / 2 : 0;
        return VectorShuffle.fromOp(species, i -> (i % 2) * n + from + i / 2);
    }

    /**
     * The four rows of a sliver of A stored as rows (MR = 4; row r at {@code src + r*lda}) into {@code pa[dst + p*MR + r]}:
     * L columns of the four rows are loaded as four vectors and interleaved twice (rows 0 and 2 with 1 and 3), which
     * gives the 4 L packed values, four consecutive per column, as four whole vectors of the sliver.
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
     * The twelve rows of a sliver of A stored as rows (MR = 12, L = 16; row r at {@code src + r*lda}) into
     * {@code pa[dst + p*12 + r]}, 16 columns at a time. Each group of four rows is interleaved as {@link #packRows} does,
     * which leaves the four rows of each column as one 4-lane chunk (column c of a vector in chunk c % 4); the three
     * groups' vectors A, B, C of the same four columns c0..c3 then make the 48 packed values as three whole vectors,
     * each chunk by chunk from up to three of them by two two-vector rearranges:
     * [A0 B0 C0 A1], [B1 C1 A2 B2], [C2 A3 B3 C3]. It replaced four-lane stores of each chunk to its place (masked
     * 16-lane stores), which ran at 0.5-0.8 ns a packed float on the Intel AVX-512 host against 0.18-0.30 for this,
     * and A's packing is a seventh of a 2048 x 256 x 256 product. The twelve vectors are named, not an array and
     * not a helper's parameters: those kept them in memory (1.0 ns a float); a loop choosing among named ones does not.
     */
    static void packRows12(float[] a, int src, int lda, int kc, float[] pa, int dst) {
        int p = 0;
        for (; p + L <= kc; p += L) {
            int s = src + p;
            FloatVector x0 = FloatVector.fromArray(F, a, s), x1 = FloatVector.fromArray(F, a, s + lda);
            FloatVector x2 = FloatVector.fromArray(F, a, s + 2 * lda), x3 = FloatVector.fromArray(F, a, s + 3 * lda);
            FloatVector lo02g0 = x0.rearrange(ZIP_LO, x2), hi02g0 = x0.rearrange(ZIP_HI, x2);
            FloatVector lo13g0 = x1.rearrange(ZIP_LO, x3), hi13g0 = x1.rearrange(ZIP_HI, x3);
            x0 = FloatVector.fromArray(F, a, s + 4 * lda); x1 = FloatVector.fromArray(F, a, s + 5 * lda);
            x2 = FloatVector.fromArray(F, a, s + 6 * lda); x3 = FloatVector.fromArray(F, a, s + 7 * lda);
            FloatVector lo02g1 = x0.rearrange(ZIP_LO, x2), hi02g1 = x0.rearrange(ZIP_HI, x2);
            FloatVector lo13g1 = x1.rearrange(ZIP_LO, x3), hi13g1 = x1.rearrange(ZIP_HI, x3);
            x0 = FloatVector.fromArray(F, a, s + 8 * lda); x1 = FloatVector.fromArray(F, a, s + 9 * lda);
            x2 = FloatVector.fromArray(F, a, s + 10 * lda); x3 = FloatVector.fromArray(F, a, s + 11 * lda);
            FloatVector lo02g2 = x0.rearrange(ZIP_LO, x2), hi02g2 = x0.rearrange(ZIP_HI, x2);
            FloatVector lo13g2 = x1.rearrange(ZIP_LO, x3), hi13g2 = x1.rearrange(ZIP_HI, x3);
            // columns 0-3, 4-7, 8-11, 12-15 of the 16: 48 packed values each (C2 unrolls the loop and folds the choices)
            for (int q = 0, d = dst + p * 12; q < 4; q++, d += 4 * 12) {
                VectorShuffle<Float> zip = (q & 1) == 0 ? ZIP_LO : ZIP_HI;
                FloatVector ga = (q < 2 ? lo02g0 : hi02g0).rearrange(zip, q < 2 ? lo13g0 : hi13g0);
                FloatVector gb = (q < 2 ? lo02g1 : hi02g1).rearrange(zip, q < 2 ? lo13g1 : hi13g1);
                FloatVector gc = (q < 2 ? lo02g2 : hi02g2).rearrange(zip, q < 2 ? lo13g2 : hi13g2);
                ga.rearrange(A0_B0, gb).rearrange(C0_THIRD, gc).intoArray(pa, d);
                gb.rearrange(B1_C1, gc).rearrange(A2_THIRD, ga).intoArray(pa, d + L);
                gc.rearrange(C2_A3, ga).rearrange(B3_THIRD, gb).intoArray(pa, d + 2 * L);
            }
        }
        for (; p < kc; p++) {
            for (int r = 0; r < 12; r++) pa[dst + p * 12 + r] = a[src + r * lda + p];
        }
    }

    /**
     * A two-vector rearrange by 4-lane chunks (L = 16): chunk i of the result is chunk {@code c[i]} of the first vector
     * (0-3) or chunk {@code c[i] - 4} of the second (4-7). Where packRows12 fills a chunk in a second step, the first
     * step's choice there is arbitrary (its own chunk 2).
     */
    private static VectorShuffle<Float> chunks(int... c) {
        return VectorShuffle.fromOp(F, i -> c[i * c.length / L] * (L / 4) + i % (L / 4));
    }

    // packRows12's steps: first A0 B0 . A1 (from A, B), then C0 into the third chunk; likewise B1 C1 . B2 then A2, C2 A3 . C3 then B3
    private static final VectorShuffle<Float> A0_B0 = chunks(0, 4, 2, 1), C0_THIRD = chunks(0, 1, 4, 3);
    private static final VectorShuffle<Float> B1_C1 = chunks(1, 5, 2, 2), A2_THIRD = chunks(0, 1, 6, 3);
    private static final VectorShuffle<Float> C2_A3 = chunks(2, 7, 2, 3), B3_THIRD = chunks(0, 1, 7, 3);

    /**
     * Packs depth [pc, pc+kc) x columns [jc, jc+nc) of op(B) into NR-wide slivers: sliver s holds,
     * for each p, the NR values B(pc + p, jc + s*NR + j) at {@code pb[s*NR*kc + p*NR + j]}; columns
     * past nc are zero.
     */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc, float[] pb) {
        packB(transB, b, bOff, ldb, pc, kc, jc, nc, pb, 0);
    }

    /** {@link #packB} into {@code pb} from {@code pbOff}: a share of a panel that several threads pack together. */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc, float[] pb, int pbOff) {
        for (int s = 0; s < nc; s += NR) {
            int base = pbOff + s * kc;
            int cols = Math.min(NR, nc - s);
            if (transB) {
                // B stored [n,k] (a linear layer's weight): each of the NR rows of the sliver runs along p
                int p = 0;
                if (cols == NR && SQUARE_TRANSPOSE) {
                    for (; p + L <= kc; p += L) {
                        int src = bOff + (jc + s) * ldb + pc + p;
                        transposeSquare(b, src, ldb, pb, base + p * NR, NR);
                        transposeSquare(b, src + L * ldb, ldb, pb, base + p * NR + L, NR);
                    }
                }
                for (int j = 0; j < cols; j++) {
                    int src = bOff + (jc + s + j) * ldb + pc;
                    for (int q = p; q < kc; q++) pb[base + q * NR + j] = b[src + q];
                }
                for (int j = cols; j < NR; j++) {
                    for (int q = p; q < kc; q++) pb[base + q * NR + j] = 0f;
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

    /** Whether {@link #transposeSquare} serves this machine's vectors: 8 or 16 lanes. */
    static final boolean SQUARE_TRANSPOSE = Simd.ENABLED && (L == 8 || L == 16);

    /**
     * The L x L block of b whose row r starts at {@code src + r*ld}, transposed: its column c to {@code dst + c*dstStride}
     * ({@link #transpose8} or {@link #transpose16}; only where {@link #SQUARE_TRANSPOSE}).
     */
    static void transposeSquare(float[] b, int src, int ld, float[] dst, int dstOff, int dstStride) {
        if (L == 16) transpose16(b, src, ld, dst, dstOff, dstStride);
        else transpose8(b, src, ld, dst, dstOff, dstStride);
    }

    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorShuffle<Float> ZIP_LO8 = zip(F8, false), ZIP_HI8 = zip(F8, true);

    /**
     * {@link #transpose16} for 8 x 8 blocks on 256-bit vectors (AVX2 hosts): three rounds of interleaving row i with row
     * i + 4, 24 two-vector rearranges for 64 values. On the Zen 3 host of 2026-12-07 it transposed attention's keys at
     * 0.41-0.51 ns a float, against 0.71-1.37 one float at a time.
     */
    static void transpose8(float[] b, int src, int ld, float[] dst, int dstOff, int dstStride) {
        FloatVector r0 = FloatVector.fromArray(F8, b, src), r1 = FloatVector.fromArray(F8, b, src + ld);
        FloatVector r2 = FloatVector.fromArray(F8, b, src + 2 * ld), r3 = FloatVector.fromArray(F8, b, src + 3 * ld);
        FloatVector r4 = FloatVector.fromArray(F8, b, src + 4 * ld), r5 = FloatVector.fromArray(F8, b, src + 5 * ld);
        FloatVector r6 = FloatVector.fromArray(F8, b, src + 6 * ld), r7 = FloatVector.fromArray(F8, b, src + 7 * ld);
        for (int round = 0; round < 3; round++) {
            FloatVector n0 = r0.rearrange(ZIP_LO8, r4), n1 = r0.rearrange(ZIP_HI8, r4);
            FloatVector n2 = r1.rearrange(ZIP_LO8, r5), n3 = r1.rearrange(ZIP_HI8, r5);
            FloatVector n4 = r2.rearrange(ZIP_LO8, r6), n5 = r2.rearrange(ZIP_HI8, r6);
            FloatVector n6 = r3.rearrange(ZIP_LO8, r7), n7 = r3.rearrange(ZIP_HI8, r7);
            r0 = n0; r1 = n1; r2 = n2; r3 = n3; r4 = n4; r5 = n5; r6 = n6; r7 = n7;
        }
        r0.intoArray(dst, dstOff); r1.intoArray(dst, dstOff + dstStride);
        r2.intoArray(dst, dstOff + 2 * dstStride); r3.intoArray(dst, dstOff + 3 * dstStride);
        r4.intoArray(dst, dstOff + 4 * dstStride); r5.intoArray(dst, dstOff + 5 * dstStride);
        r6.intoArray(dst, dstOff + 6 * dstStride); r7.intoArray(dst, dstOff + 7 * dstStride);
    }

    /**
     * The 16 x 16 block of b whose row r starts at {@code src + r*ld}, transposed: its column c (16 values, one per row)
     * to {@code dst + c*dstStride}. Four rounds of interleaving row i with row i + 8 (new row 2i the low halves' lanes
     * alternated, 2i + 1 the high halves'), each moving every value one bit of its index from column to row: 64 two-vector
     * rearranges for 256 values. It packs a transposed B at 0.23 ns a float on the Intel AVX-512 host, against 0.42 one
     * float at a time (4-5% of a 2048 x 256 x 256 product with B transposed, as every linear layer's is).
     */
    static void transpose16(float[] b, int src, int ld, float[] dst, int dstOff, int dstStride) {
        FloatVector r0 = FloatVector.fromArray(F, b, src), r1 = FloatVector.fromArray(F, b, src + ld);
        FloatVector r2 = FloatVector.fromArray(F, b, src + 2 * ld), r3 = FloatVector.fromArray(F, b, src + 3 * ld);
        FloatVector r4 = FloatVector.fromArray(F, b, src + 4 * ld), r5 = FloatVector.fromArray(F, b, src + 5 * ld);
        FloatVector r6 = FloatVector.fromArray(F, b, src + 6 * ld), r7 = FloatVector.fromArray(F, b, src + 7 * ld);
        FloatVector r8 = FloatVector.fromArray(F, b, src + 8 * ld), r9 = FloatVector.fromArray(F, b, src + 9 * ld);
        FloatVector r10 = FloatVector.fromArray(F, b, src + 10 * ld), r11 = FloatVector.fromArray(F, b, src + 11 * ld);
        FloatVector r12 = FloatVector.fromArray(F, b, src + 12 * ld), r13 = FloatVector.fromArray(F, b, src + 13 * ld);
        FloatVector r14 = FloatVector.fromArray(F, b, src + 14 * ld), r15 = FloatVector.fromArray(F, b, src + 15 * ld);
        for (int round = 0; round < 4; round++) {
            FloatVector n0 = r0.rearrange(ZIP_LO, r8), n1 = r0.rearrange(ZIP_HI, r8);
            FloatVector n2 = r1.rearrange(ZIP_LO, r9), n3 = r1.rearrange(ZIP_HI, r9);
            FloatVector n4 = r2.rearrange(ZIP_LO, r10), n5 = r2.rearrange(ZIP_HI, r10);
            FloatVector n6 = r3.rearrange(ZIP_LO, r11), n7 = r3.rearrange(ZIP_HI, r11);
            FloatVector n8 = r4.rearrange(ZIP_LO, r12), n9 = r4.rearrange(ZIP_HI, r12);
            FloatVector n10 = r5.rearrange(ZIP_LO, r13), n11 = r5.rearrange(ZIP_HI, r13);
            FloatVector n12 = r6.rearrange(ZIP_LO, r14), n13 = r6.rearrange(ZIP_HI, r14);
            FloatVector n14 = r7.rearrange(ZIP_LO, r15), n15 = r7.rearrange(ZIP_HI, r15);
            r0 = n0; r1 = n1; r2 = n2; r3 = n3; r4 = n4; r5 = n5; r6 = n6; r7 = n7;
            r8 = n8; r9 = n9; r10 = n10; r11 = n11; r12 = n12; r13 = n13; r14 = n14; r15 = n15;
        }
        r0.intoArray(dst, dstOff); r1.intoArray(dst, dstOff + dstStride);
        r2.intoArray(dst, dstOff + 2 * dstStride); r3.intoArray(dst, dstOff + 3 * dstStride);
        r4.intoArray(dst, dstOff + 4 * dstStride); r5.intoArray(dst, dstOff + 5 * dstStride);
        r6.intoArray(dst, dstOff + 6 * dstStride); r7.intoArray(dst, dstOff + 7 * dstStride);
        r8.intoArray(dst, dstOff + 8 * dstStride); r9.intoArray(dst, dstOff + 9 * dstStride);
        r10.intoArray(dst, dstOff + 10 * dstStride); r11.intoArray(dst, dstOff + 11 * dstStride);
        r12.intoArray(dst, dstOff + 12 * dstStride); r13.intoArray(dst, dstOff + 13 * dstStride);
        r14.intoArray(dst, dstOff + 14 * dstStride); r15.intoArray(dst, dstOff + 15 * dstStride);
    }

    /**
     * The 4 x NR = 4 x (2 vectors) micro-kernel (MR = 4): C[4, NR] (+)= Apanel[4, kc] Bpanel[kc, NR] from
     * packed slivers. Eight local accumulators and no arrays of vectors, so C2 keeps the whole
     * tile in registers; each step is 2 vector loads, 4 broadcasts and 8 FMAs.
     */
    static void kernel(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc, boolean add) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * 4, bp = bo + p * NR;
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

    /** The packed micro-kernel of this machine's tile: {@link #kernel12} on the Intel tuning (MR = 12), else {@link #kernel}. */
    static void kernelPacked(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc, boolean add) {
        if (MR == 12) kernel12(kc, pa, ao, pb, bo, c, co, ldc, add);
        else kernel(kc, pa, ao, pb, bo, c, co, ldc, add);
    }

    /**
     * The 12 x (2 vectors) micro-kernel of the Intel tuning (32 registers), {@link #kernel}'s scheme with three times the rows:
     * 24 accumulators, 2 B vectors and a broadcast live in 27 of the 32 registers; each step is 2 vector loads,
     * 12 broadcasts and 24 FMAs, and every element of C is the same FMA chain over k as in {@link #kernel}.
     */
    static void kernel12(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc, boolean add) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F), c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F), c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F), c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        FloatVector c60 = FloatVector.zero(F), c61 = FloatVector.zero(F), c70 = FloatVector.zero(F), c71 = FloatVector.zero(F);
        FloatVector c80 = FloatVector.zero(F), c81 = FloatVector.zero(F), c90 = FloatVector.zero(F), c91 = FloatVector.zero(F);
        FloatVector ca0 = FloatVector.zero(F), ca1 = FloatVector.zero(F), cb0 = FloatVector.zero(F), cb1 = FloatVector.zero(F);
        // the offsets step instead of being p * 12 and p * NR: on the Intel core 7-10% faster alone on L1 slivers, and
        // full one-thread products alternated ran 1024^3 at 159-160 against 147-165, 2048 x 704 x 256 at 168-174 against 162-172
        for (int ap = ao, bp = bo, end = ao + kc * 12; ap < end; ap += 12, bp += NR) {
            FloatVector b0 = FloatVector.fromArray(F, pb, bp), b1 = FloatVector.fromArray(F, pb, bp + L);
            FloatVector x = FloatVector.broadcast(F, pa[ap]); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, pa[ap + 1]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, pa[ap + 2]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, pa[ap + 3]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(F, pa[ap + 4]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(F, pa[ap + 5]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(F, pa[ap + 6]); c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(F, pa[ap + 7]); c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
            x = FloatVector.broadcast(F, pa[ap + 8]); c80 = x.fma(b0, c80); c81 = x.fma(b1, c81);
            x = FloatVector.broadcast(F, pa[ap + 9]); c90 = x.fma(b0, c90); c91 = x.fma(b1, c91);
            x = FloatVector.broadcast(F, pa[ap + 10]); ca0 = x.fma(b0, ca0); ca1 = x.fma(b1, ca1);
            x = FloatVector.broadcast(F, pa[ap + 11]); cb0 = x.fma(b0, cb0); cb1 = x.fma(b1, cb1);
        }
        if (add) {
            int r0 = co + 0 * ldc; c00 = c00.add(FloatVector.fromArray(F, c, r0)); c01 = c01.add(FloatVector.fromArray(F, c, r0 + L));
            int r1 = co + 1 * ldc; c10 = c10.add(FloatVector.fromArray(F, c, r1)); c11 = c11.add(FloatVector.fromArray(F, c, r1 + L));
            int r2 = co + 2 * ldc; c20 = c20.add(FloatVector.fromArray(F, c, r2)); c21 = c21.add(FloatVector.fromArray(F, c, r2 + L));
            int r3 = co + 3 * ldc; c30 = c30.add(FloatVector.fromArray(F, c, r3)); c31 = c31.add(FloatVector.fromArray(F, c, r3 + L));
            int r4 = co + 4 * ldc; c40 = c40.add(FloatVector.fromArray(F, c, r4)); c41 = c41.add(FloatVector.fromArray(F, c, r4 + L));
            int r5 = co + 5 * ldc; c50 = c50.add(FloatVector.fromArray(F, c, r5)); c51 = c51.add(FloatVector.fromArray(F, c, r5 + L));
            int r6 = co + 6 * ldc; c60 = c60.add(FloatVector.fromArray(F, c, r6)); c61 = c61.add(FloatVector.fromArray(F, c, r6 + L));
            int r7 = co + 7 * ldc; c70 = c70.add(FloatVector.fromArray(F, c, r7)); c71 = c71.add(FloatVector.fromArray(F, c, r7 + L));
            int r8 = co + 8 * ldc; c80 = c80.add(FloatVector.fromArray(F, c, r8)); c81 = c81.add(FloatVector.fromArray(F, c, r8 + L));
            int r9 = co + 9 * ldc; c90 = c90.add(FloatVector.fromArray(F, c, r9)); c91 = c91.add(FloatVector.fromArray(F, c, r9 + L));
            int ra = co + 10 * ldc; ca0 = ca0.add(FloatVector.fromArray(F, c, ra)); ca1 = ca1.add(FloatVector.fromArray(F, c, ra + L));
            int rb = co + 11 * ldc; cb0 = cb0.add(FloatVector.fromArray(F, c, rb)); cb1 = cb1.add(FloatVector.fromArray(F, c, rb + L));
        }
        c00.intoArray(c, co + 0 * ldc); c01.intoArray(c, co + 0 * ldc + L);
        c10.intoArray(c, co + 1 * ldc); c11.intoArray(c, co + 1 * ldc + L);
        c20.intoArray(c, co + 2 * ldc); c21.intoArray(c, co + 2 * ldc + L);
        c30.intoArray(c, co + 3 * ldc); c31.intoArray(c, co + 3 * ldc + L);
        c40.intoArray(c, co + 4 * ldc); c41.intoArray(c, co + 4 * ldc + L);
        c50.intoArray(c, co + 5 * ldc); c51.intoArray(c, co + 5 * ldc + L);
        c60.intoArray(c, co + 6 * ldc); c61.intoArray(c, co + 6 * ldc + L);
        c70.intoArray(c, co + 7 * ldc); c71.intoArray(c, co + 7 * ldc + L);
        c80.intoArray(c, co + 8 * ldc); c81.intoArray(c, co + 8 * ldc + L);
        c90.intoArray(c, co + 9 * ldc); c91.intoArray(c, co + 9 * ldc + L);
        ca0.intoArray(c, co + 10 * ldc); ca1.intoArray(c, co + 10 * ldc + L);
        cb0.intoArray(c, co + 11 * ldc); cb1.intoArray(c, co + 11 * ldc + L);
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

    /**
     * Where task t of {@code tasks} starts, splitting {@code units} units of {@code unit} rows (or columns) each: the
     * one split of a product's strips and panel slivers, so that {@link #sgemmParallel} and {@link #sgemmSharedPanel}
     * give each task the same strip.
     */
    private static int stripStart(int units, int t, int tasks, int unit) {
        return (int) ((long) units * t / tasks) * unit;
    }

    /** The depth of each of the equal passes over k, at most {@link #KC}: the blocking every path of a product uses. */
    private static int depthBlock(int k) {
        int passes = (k + KC - 1) / KC;
        return (k + passes - 1) / passes;
    }

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
