package dev.ltm.gpu;

import static dev.ltm.gpu.ClTest.assertClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ltm.tensor.AttentionMask;
import dev.ltm.tensor.Backend;
import dev.ltm.tensor.Backends;
import dev.ltm.tensor.BinaryOp;
import dev.ltm.tensor.CpuBackend;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;
import dev.ltm.tensor.UnaryOp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Every Backend op on the OpenCL backend against the CPU backend, on seeded random odd shapes. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenClBackendTest {
    private static final double TOL = 1e-4;
    private static final Backend CPU = CpuBackend.INSTANCE;
    private OpenClBackend cl;
    private final Rng rng = new Rng(20240607);

    @BeforeAll
    void open() {
        cl = new OpenClBackend(ClTest.openOrSkip(), 0);
    }

    @AfterAll
    void close() {
        if (cl != null) cl.close();
    }

    private Tensor rand(int... dims) { return Tensor.randn(rng, 0, 1, dims); }

    /** The same values on the OpenCL backend. */
    private Tensor dev(Tensor cpu) { return cl.fromArray(cpu.read(), cpu.shape()); }

    private static void same(String what, Tensor onDevice, Tensor onCpu, double tol) {
        assertThat(onDevice.shape()).as(what + " shape").isEqualTo(onCpu.shape());
        assertClose(what, onDevice.toArray(), onCpu.toArray(), tol);
    }

    @Test
    void creationAndCopyStayOnTheDevice() {
        Tensor z = cl.zeros(Shape.of(3, 7));
        assertThat(z.backend()).isSameAs(cl);
        assertThat(z.toArray()).containsOnly(0f);
        Tensor a = rand(5, 3);
        Tensor c = dev(a).copy();
        assertThat(c.backend()).isSameAs(cl);
        same("copy", c, a, 0);
        assertThat(a.to(cl).to(CPU).toArray()).containsExactly(a.toArray());
    }

    @Test
    void fullFillsOnTheDeviceWithoutAnUpload() {
        OpenClBackend.Transfers before = cl.transfers();
        Tensor f = cl.full(Shape.of(3, 7), -2.5f), s = cl.full(Shape.of(), 1f);
        assertThat(cl.transfers()).as("full uploads nothing").isEqualTo(before);
        assertThat(f.backend()).isSameAs(cl);
        assertThat(f.toArray()).hasSize(21).containsOnly(-2.5f);
        assertThat(s.item()).isEqualTo(1f);
        assertThat(CPU.full(Shape.of(5), 3f).toArray()).containsExactly(3f, 3f, 3f, 3f, 3f);
    }

    @Test
    void matmulAllFlagsSharedAndBatched() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (boolean shared : new boolean[] {false, true}) {
                    int batch = 3, m = 13, k = 7, n = 5;
                    Tensor a = ta ? rand(batch, k, m) : rand(batch, m, k);
                    Tensor b = shared ? (tb ? rand(n, k) : rand(k, n)) : (tb ? rand(batch, n, k) : rand(batch, k, n));
                    String what = "matmul ta=" + ta + " tb=" + tb + " shared=" + shared;
                    same(what, dev(a).matmul(dev(b), ta, tb), a.matmul(b, ta, tb), TOL);
                }
            }
        }
        Tensor a = rand(67, 1031), b = rand(1031, 3);
        same("matmul large k", dev(a).matmul(dev(b)), a.matmul(b), 1e-3);
        Tensor e = rand(4, 0), f = rand(0, 3);
        same("matmul k = 0", dev(e).matmul(dev(f)), e.matmul(f), 0);
    }

    @Test
    void elementwiseWithBroadcasting() {
        Tensor a = rand(3, 5, 7), row = rand(7), col = rand(3, 5, 1), mid = rand(5, 1), s = Tensor.scalar(1.7f);
        for (BinaryOp op : BinaryOp.values()) {
            Tensor b = op == BinaryOp.DIV ? rand(3, 5, 7).map(UnaryOp.ABS).affine(1f, 0.5f) : rand(3, 5, 7);
            same(op + " same shape", apply(op, dev(a), dev(b)), apply(op, a, b), TOL);
            Tensor[] others = {row, col, mid, s};
            for (Tensor o : others) {
                Tensor safe = op == BinaryOp.DIV ? o.map(UnaryOp.ABS).affine(1f, 0.5f) : o;
                same(op + " with " + o.shape(), apply(op, dev(a), dev(safe)), apply(op, a, safe), TOL);
                same(op + " reversed " + o.shape(), apply(op, dev(safe), dev(a)), apply(op, safe, a), TOL);
            }
        }
        Tensor pos = rand(4, 9).map(UnaryOp.ABS).affine(1f, 0.1f);
        for (UnaryOp op : UnaryOp.values()) {
            Tensor x = op == UnaryOp.LOG || op == UnaryOp.SQRT ? pos : rand(4, 9);
            same("unary " + op, dev(x).map(op), x.map(op), TOL);
        }
        same("affine", dev(a).affine(-0.3f, 2.5f), a.affine(-0.3f, 2.5f), TOL);
    }

    private static Tensor apply(BinaryOp op, Tensor a, Tensor b) {
        return switch (op) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
        };
    }

    @Test
    void reductions() {
        Tensor a = rand(3, 5, 7);
        for (int ax = 0; ax < 3; ax++) {
            int[] kept = a.shape().dims();
            kept[ax] = 1;
            same("sum axis " + ax, dev(a).sumTo(Shape.of(kept)), a.sumTo(Shape.of(kept)), TOL);
        }
        same("sumAll", cl.sumAll(dev(a)), CPU.sumAll(a), TOL);
        Tensor big = rand(1, 1237);
        same("sumAll many", cl.sumAll(dev(big)), CPU.sumAll(big), TOL);
        for (Shape target : new Shape[] {Shape.of(7), Shape.of(5, 1), Shape.of(3, 1, 7), Shape.of(1, 1, 1), Shape.of(),
                Shape.of(3, 5, 7)}) {
            same("sumTo " + target, dev(a).sumTo(target), a.sumTo(target), TOL);
        }
    }

    @Test
    void layout() {
        Tensor a = rand(3, 5, 7, 2);
        same("permute", dev(a).permute(2, 0, 3, 1), a.permute(2, 0, 3, 1), 0);
        same("transpose", dev(a).transpose(-1, -2), a.transpose(-1, -2), 0);
        same("slice", dev(a).slice(1, 1, 4), a.slice(1, 1, 4), 0);
        same("empty slice", dev(a).slice(2, 3, 3), a.slice(2, 3, 3), 0);
        Tensor b = rand(3, 2, 7, 2), c = rand(3, 1, 7, 2);
        same("concat", Tensor.concat(1, dev(a), dev(b), dev(c)), Tensor.concat(1, a, b, c), 0);
        Tensor[] parts = dev(a).split(2, 3, 4);
        same("split", parts[1], a.split(2, 3, 4)[1], 0);
        same("reshape view", dev(a).reshape(15, -1), a.reshape(15, -1), 0);
    }

    @Test
    void rmsNormForwardAndBackward() {
        int rows = 13, h = 37;
        Tensor x = rand(rows, h), g = rand(h), dy = rand(rows, h);
        Tensor rstdCpu = CPU.zeros(Shape.of(rows)), rstdCl = cl.zeros(Shape.of(rows));
        same("rmsNorm", cl.rmsNorm(dev(x), dev(g), 1e-5f, rstdCl), CPU.rmsNorm(x, g, 1e-5f, rstdCpu), TOL);
        same("rstd", rstdCl, rstdCpu, TOL);
        Tensor dgCpu = CPU.zeros(Shape.of(h)), dgCl = cl.zeros(Shape.of(h));
        same("rmsNorm dx", cl.rmsNormBackward(dev(x), dev(g), rstdCl, dev(dy), dgCl),
                CPU.rmsNormBackward(x, g, rstdCpu, dy, dgCpu), TOL);
        same("rmsNorm dg", dgCl, dgCpu, TOL);
        same("rmsNorm dx without dg", cl.rmsNormBackward(dev(x), dev(g), rstdCl, dev(dy), null),
                CPU.rmsNormBackward(x, g, rstdCpu, dy, null), TOL);
    }

    @Test
    void embeddingAndRope() {
        Tensor table = rand(11, 9);
        int[] ids = {3, 0, 10, 3, 3, 7, 1};
        same("embedding", cl.embedding(dev(table), ids), CPU.embedding(table, ids), 0);
        Tensor dy = rand(ids.length, 9), dtCpu = rand(11, 9), dtCl = dev(dtCpu);
        CPU.embeddingBackward(dtCpu, ids, dy);
        cl.embeddingBackward(dtCl, ids, dev(dy));
        same("embedding backward (repeated ids add up)", dtCl, dtCpu, TOL);
        assertThatThrownBy(() -> cl.embedding(dev(table), new int[] {11})).hasMessageContaining("embedding").hasMessageContaining("11");

        Tensor x = rand(2, 5, 3, 6);
        int[] pos = {0, 1, 4, 9, 17};
        for (boolean inverse : new boolean[] {false, true}) {
            same("rope inverse=" + inverse, cl.rope(dev(x), pos, 10000f, inverse), CPU.rope(x, pos, 10000f, inverse), TOL);
        }
    }

    @Test
    void attentionForwardAndBackward() {
        // causal with a window (self-attention, grouped kv heads) and unmasked (cross-attention, fewer keys)
        int[][] cases = {{2, 13, 13, 4, 2, 6, 5}, {3, 7, 3, 2, 1, 8, 0}, {1, 9, 9, 3, 3, 4, 9}};
        for (int[] c : cases) {
            int b = c[0], t = c[1], s = c[2], nh = c[3], nkv = c[4], hd = c[5];
            AttentionMask w = c[6] == 0 ? AttentionMask.none() : AttentionMask.causal(c[6]);
            Tensor q = rand(b, t, nh, hd), k = rand(b, s, nkv, hd), v = rand(b, s, nkv, hd), dout = rand(b, t, nh, hd);
            Tensor lseCpu = CPU.zeros(Shape.of(b, nh, t)), lseCl = cl.zeros(Shape.of(b, nh, t));
            Tensor oCpu = CPU.attention(q, k, v, w, lseCpu), oCl = cl.attention(dev(q), dev(k), dev(v), w, lseCl);
            String what = "attention " + java.util.Arrays.toString(c);
            same(what + " out", oCl, oCpu, TOL);
            same(what + " lse", lseCl, lseCpu, TOL);
            Tensor dqC = rand(b, t, nh, hd), dkC = rand(b, s, nkv, hd), dvC = CPU.zeros(v.shape());
            Tensor dqD = dev(dqC), dkD = dev(dkC), dvD = cl.zeros(v.shape());
            CPU.attentionBackward(q, k, v, oCpu, lseCpu, dout, dqC, dkC, dvC, w);
            cl.attentionBackward(dev(q), dev(k), dev(v), oCl, lseCl, dev(dout), dqD, dkD, dvD, w);
            same(what + " dq (accumulated)", dqD, dqC, TOL);
            same(what + " dk (accumulated)", dkD, dkC, TOL);
            same(what + " dv", dvD, dvC, TOL);
            Tensor dkOnly = cl.zeros(k.shape()), dkRef = CPU.zeros(k.shape());
            CPU.attentionBackward(q, k, v, oCpu, lseCpu, dout, null, dkRef, null, w);
            cl.attentionBackward(dev(q), dev(k), dev(v), oCl, lseCl, dev(dout), null, dkOnly, null, w);
            same(what + " dk alone", dkOnly, dkRef, TOL);
        }
    }

    @Test
    void crossEntropyForwardAndBackward() {
        int rows = 9, vocab = 257;
        Tensor logits = rand(rows, vocab).scale(2f);
        int[] targets = {0, 256, -1, 17, 3, 3, 100, -1, 255};
        Tensor scale = Tensor.of(new float[] {1f, 0.5f, 1f, 2f, 0f, 1f, -1f, 3f, 0.25f}, rows), g = Tensor.scalar(-0.7f);
        Tensor loss = cl.crossEntropy(dev(logits), targets);
        assertThat(loss.backend()).as("per-row losses stay on the device").isSameAs(cl);
        same("crossEntropy", loss, CPU.crossEntropy(logits, targets), TOL);
        same("crossEntropy backward", cl.crossEntropyBackward(dev(logits), targets, dev(scale), dev(g)),
                CPU.crossEntropyBackward(logits, targets, scale, g), TOL);
    }

    @Test
    void crossEntropyWithAVocabularyBelowTheWorkGroupAndAnIgnoredRow() {
        // a regression: PoCL crashed on the kernel's early return ahead of its barriers
        int[] targets = {48, 39, 4, 14, 50, 21, 40, 54, 39, 53, 9, 41, 48, 6, 60, 29, 5, -1};
        Tensor logits = rand(18, 61);
        Tensor scale = Tensor.full(0.5f, 18), g = Tensor.scalar(1f);
        same("crossEntropy", cl.crossEntropy(dev(logits), targets), CPU.crossEntropy(logits, targets), TOL);
        same("crossEntropy backward", cl.crossEntropyBackward(dev(logits), targets, cl.full(Shape.of(18), 0.5f), dev(g)),
                CPU.crossEntropyBackward(logits, targets, scale, g), TOL);
    }

    @Test
    void inPlaceUpdates() {
        Tensor a = rand(7, 11), b = rand(7, 11), ad = dev(a);
        CPU.addInPlace(a, b, -0.7f);
        cl.addInPlace(ad, dev(b), -0.7f);
        same("addInPlace", ad, a, TOL);

        Tensor p = rand(5, 13), m = CPU.zeros(p.shape()), v = CPU.zeros(p.shape());
        Tensor pd = dev(p), md = cl.zeros(p.shape()), vd = cl.zeros(p.shape());
        for (int step = 1; step <= 4; step++) {
            Tensor g = rand(5, 13);
            CPU.adamw(p, g, m, v, 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, step);
            cl.adamw(pd, dev(g), md, vd, 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, step);
        }
        same("adamw p", pd, p, TOL);
        same("adamw m", md, m, TOL);
        same("adamw v", vd, v, TOL);
    }

    @Test
    void chainsOfOpsMoveNothingUntilTheHostReads() {
        Tensor a = dev(rand(6, 5)), w = dev(rand(5, 5));
        Tensor h = a.matmul(w);
        OpenClBackend.Transfers before = cl.transfers();
        for (int i = 0; i < 10; i++) h = h.matmul(w).silu().add(a).scale(0.1f);
        assertThat(cl.transfers()).as("ten rounds of device ops").isEqualTo(before);
        float[] host = h.read();
        assertThat(cl.transfers().downloads()).isEqualTo(before.downloads() + 1);
        h.read();
        h.get(0, 0);
        assertThat(cl.transfers().downloads()).as("a current host copy is not downloaded again").isEqualTo(before.downloads() + 1);
        h.data()[0] = 42f; // a host write makes the device copy stale ...
        Tensor twice = h.scale(2f);
        assertThat(cl.transfers().uploads()).as("... so the next op uploads it").isEqualTo(before.uploads() + 1);
        assertThat(twice.get(0, 0)).isEqualTo(84f);
        assertThat(twice.get(1, 1)).isEqualTo(2 * host[6]);
    }

    @Test
    void writeCopiesOnTheDeviceAndKeepsTheRest() {
        Tensor cache = rand(6, 2, 4), row = rand(1, 2, 4);
        Tensor dc = dev(cache), dr = dev(row).scale(1f); // device-born, so nothing is current on the host
        dc.add(dc);                                        // both now have current device copies
        OpenClBackend.Transfers before = cl.transfers();
        dc.write(3 * 8, dr);
        Tensor after = dc.scale(1f);
        assertThat(cl.transfers()).as("a write between device tensors moves nothing").isEqualTo(before);
        cache.write(3 * 8, row);
        same("cache after write", after, cache, 0);
        same("cache read back", dc, cache, 0);
        dc.write(0, dc.reshape(48));                      // onto itself: nothing changes
        same("cache written onto itself", dc, cache, 0);
    }

    @Test
    void mixingBackendsIsAnError() {
        Tensor onCpu = rand(3, 4), g = rand(4);
        assertThatThrownBy(() -> cl.rmsNorm(onCpu, dev(g), 1e-5f, cl.zeros(Shape.of(3))))
                .hasMessageContaining("rmsNorm").hasMessageContaining("cpu");
        assertThatThrownBy(() -> dev(onCpu).add(onCpu)).hasMessageContaining("backends");
    }

    @Test
    void backendsSelectFindsOpenClAndFallsBackForAMissingDevice() {
        Backend b = Backends.select("opencl");
        assertThat(b.name()).isEqualTo("opencl:0");
        if (b instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
        assertThat(Backends.select("opencl:99")).isSameAs(CPU);
    }
}
