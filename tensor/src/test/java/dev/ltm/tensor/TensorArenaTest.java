package dev.ltm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class TensorArenaTest {
    private static final int BIG = TensorArena.MIN_LENGTH; // one row of this many floats is recycled in mode ON

    private static Tensor rand(Rng rng, int... dims) { return Tensor.randn(rng, 0, 1, dims); }

    @Test
    void aResultMadeInAScopeThrowsOnceTheScopeCloses() {
        Tensor a = rand(new Rng(1), 2, BIG);
        Tensor sum, view;
        try (TensorArena arena = TensorArena.open(TensorArena.Mode.ON); TensorArena.Scope _ = arena.scope()) {
            sum = a.add(a);
            view = sum.reshape(BIG, 2);
            assertThat(view.data()[3]).isEqualTo(2 * a.data()[3]);
        }
        assertThatThrownBy(sum::data).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("[2, " + BIG + "]").hasMessageContaining("TensorArena scope");
        assertThatThrownBy(view::read).isInstanceOf(IllegalStateException.class).hasMessageContaining("TensorArena scope");
        assertThatThrownBy(view::copy).isInstanceOf(IllegalStateException.class);
        assertThat(a.data()).hasSize(2 * BIG); // the inputs were made outside: untouched
    }

    @Test
    void theNextScopeReusesTheReleasedArraysOfItsLength() {
        Tensor a = rand(new Rng(2), BIG), b = rand(new Rng(3), 3, BIG);
        try (TensorArena arena = TensorArena.open(TensorArena.Mode.ON)) {
            float[] first, second;
            try (TensorArena.Scope _ = arena.scope()) {
                first = a.exp().data();
                second = a.affine(2f, 1f).data();
                b.add(b); // another length: not handed out for a's shape
            }
            try (TensorArena.Scope _ = arena.scope()) {
                Tensor r = a.mul(a);
                assertThat(r.data()).isSameAs(second); // the last released first: the likeliest to be in a cache
                assertThat(a.sub(a).data()).isSameAs(first);
                assertThat(a.add(a).data()).isNotSameAs(first).isNotSameAs(second); // none left: a new array
                for (int i = 0; i < BIG; i++) assertThat(r.data()[i]).isEqualTo(a.data()[i] * a.data()[i]);
            }
        }
    }

    @Test
    void smallResultsComeFromTheJvmAndOutliveTheScope() {
        Tensor a = rand(new Rng(4), 3, 5);
        Tensor r;
        try (TensorArena arena = TensorArena.open(TensorArena.Mode.ON); TensorArena.Scope _ = arena.scope()) {
            r = a.add(a);
        }
        assertThat(r.data()[7]).isEqualTo(2 * a.data()[7]);
    }

    @Test
    void offRecyclesNothingAndCheckRecyclesEverySize() {
        Tensor a = rand(new Rng(5), 3, 5);
        Tensor off, check;
        try (TensorArena arena = TensorArena.open(TensorArena.Mode.OFF); TensorArena.Scope _ = arena.scope()) {
            off = rand(new Rng(6), 2, BIG).exp();
        }
        assertThat(off.data()).hasSize(2 * BIG);
        try (TensorArena arena = TensorArena.open(TensorArena.Mode.CHECK); TensorArena.Scope _ = arena.scope()) {
            check = a.add(a);
        }
        assertThatThrownBy(check::data).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void copiesAndTensorsMadeOutsideAScopeSurviveIt() {
        Tensor a = rand(new Rng(7), 2, BIG);
        Tensor kept, outside;
        try (TensorArena arena = TensorArena.open(TensorArena.Mode.CHECK)) {
            try (TensorArena.Scope _ = arena.scope()) {
                kept = a.mul(a).copy();
            }
            outside = a.add(a); // the arena is open but no scope is
            try (TensorArena.Scope _ = arena.scope()) {
                a.mul(a); // takes the released (poisoned) array back and writes over it
            }
        }
        for (int i = 0; i < a.size(); i++) {
            assertThat(kept.data()[i]).isEqualTo(a.data()[i] * a.data()[i]);
            assertThat(outside.data()[i]).isEqualTo(a.data()[i] + a.data()[i]);
        }
    }

    @Test
    void zeroedResultsAreZeroOnARecycledArray() {
        CpuBackend be = CpuBackend.INSTANCE;
        try (TensorArena arena = TensorArena.open(TensorArena.Mode.CHECK)) {
            try (TensorArena.Scope _ = arena.scope()) {
                be.zeros(Shape.of(7, 9)).data()[5] = 3f; // released poisoned
            }
            try (TensorArena.Scope _ = arena.scope()) {
                assertThat(be.zeros(Shape.of(7, 9)).data()).containsOnly(0f);
            }
        }
    }

    @Test
    void scopesNestAndTheInnerReleasesOnlyItsOwn() {
        Tensor a = rand(new Rng(8), BIG);
        try (TensorArena outer = TensorArena.open(TensorArena.Mode.ON); TensorArena.Scope _ = outer.scope()) {
            Tensor before = a.exp(), inner;
            try (TensorArena inside = TensorArena.open(TensorArena.Mode.ON); TensorArena.Scope _ = inside.scope()) {
                inner = a.map(UnaryOp.NEG);
            }
            Tensor after = a.map(UnaryOp.ABS);
            assertThatThrownBy(inner::data).isInstanceOf(IllegalStateException.class);
            assertThat(before.data()[0]).isEqualTo((float) Math.exp(a.data()[0]), org.assertj.core.api.Assertions.within(1e-5f));
            assertThat(after.data()[1]).isEqualTo(Math.abs(a.data()[1]));
        }
    }

    @Test
    void anArenaServesOneThreadAtATime() throws Exception {
        Tensor a = rand(new Rng(11), BIG);
        AtomicReference<Throwable> error = new AtomicReference<>();
        AtomicReference<float[]> otherThreads = new AtomicReference<>();
        try (TensorArena arena = TensorArena.open(TensorArena.Mode.ON)) {
            float[] first;
            try (TensorArena.Scope _ = arena.scope()) {
                first = a.exp().data();
                Thread t = new Thread(() -> {
                    try (TensorArena.Scope _ = arena.scope()) {
                        error.set(null);
                    } catch (Throwable e) {
                        error.set(e);
                    }
                });
                t.start();
                t.join();
                assertThatThrownBy(() -> {
                    Thread c = new Thread(arena::close);
                    AtomicReference<Throwable> closing = new AtomicReference<>();
                    c.setUncaughtExceptionHandler((th, e) -> closing.set(e));
                    c.start();
                    c.join();
                    if (closing.get() != null) throw closing.get();
                }).isInstanceOf(IllegalStateException.class).hasMessageContaining("has a scope open");
            }
            // every scope of this thread closed: another thread takes the arena over and gets its arrays
            Thread t = new Thread(() -> {
                try (TensorArena.Scope _ = arena.scope()) {
                    otherThreads.set(a.map(UnaryOp.NEG).data());
                }
            });
            t.start();
            t.join();
            assertThat(otherThreads.get()).isSameAs(first);
        }
        assertThat(error.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("one thread at a time");
        TensorArena closed = TensorArena.open(TensorArena.Mode.ON);
        closed.close();
        assertThatThrownBy(closed::scope).isInstanceOf(IllegalStateException.class).hasMessageContaining("after close");
    }

    @Test
    void theModeComesFromTheSystemProperty() {
        String old = System.getProperty("ltm.arena");
        try {
            System.setProperty("ltm.arena", "sometimes");
            assertThatThrownBy(TensorArena::open).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("ltm.arena=sometimes: expected true, false or check");
        } finally {
            if (old == null) System.clearProperty("ltm.arena");
            else System.setProperty("ltm.arena", old);
        }
    }

    /**
     * Every CPU op the fast fit runs gives the same bits on recycled arrays that were poisoned with NaN as on new
     * ones: none reads an element of its result before writing it, and those that add into it take it zeroed.
     */
    @Test
    void everyOpGivesTheSameBitsOnPoisonedRecycledArrays() {
        Rng rng = new Rng(9);
        CpuBackend be = CpuBackend.INSTANCE;
        Tensor x = rand(rng, 3, 37, 64), w = rand(rng, 48, 64), y = rand(rng, 3, 37, 64), g = rand(rng, 64), row = rand(rng, 1, 37, 1);
        Tensor q = rand(rng, 2, 37, 4, 16), k = rand(rng, 2, 37, 2, 16), v = rand(rng, 2, 37, 2, 16), dOut = rand(rng, 2, 37, 4, 16);
        Tensor logits = rand(rng, 37, 11);
        int[] targets = new int[37], ids = new int[20], positions = new int[37];
        for (int i = 0; i < 37; i++) { targets[i] = i % 5 == 0 ? -1 : rng.nextInt(11); positions[i] = 3 + i; }
        for (int i = 0; i < ids.length; i++) ids[i] = rng.nextInt(48);
        AttentionMask causal = AttentionMask.causal(9);
        List<Supplier<Tensor>> ops = new ArrayList<>();
        ops.add(() -> x.matmul(w, false, true));
        ops.add(() -> x.matmul(x, true, false));
        ops.add(() -> x.add(y));
        ops.add(() -> x.mul(row));
        ops.add(() -> x.div(g.map(UnaryOp.ABS).affine(1f, 1f)));
        ops.add(() -> x.exp());
        ops.add(() -> x.map(UnaryOp.SQUARE));
        ops.add(() -> x.affine(0.5f, 2f));
        ops.add(() -> be.swiglu(x, y));
        ops.add(() -> be.siluBackward(x, y));
        ops.add(() -> {
            Tensor[] d = be.swigluBackward(x, y, x.affine(-1f, 0.25f));
            return Tensor.concat(0, d[0], d[1]);
        });
        ops.add(() -> x.sumTo(Shape.of(37, 64)));
        ops.add(() -> x.sumTo(Shape.of(3, 1, 64)));
        ops.add(() -> x.transpose(0, 2));
        ops.add(() -> x.slice(1, 5, 30));
        ops.add(() -> Tensor.concat(1, x, y));
        ops.add(() -> be.rmsNorm(x, g, 1e-5f, be.zeros(Shape.of(3 * 37))));
        ops.add(() -> {
            Tensor rstd = be.zeros(Shape.of(3 * 37));
            be.rmsNorm(x, g, 1e-5f, rstd);
            Tensor dg = be.zeros(g.shape());
            return Tensor.concat(0, be.rmsNormBackward(x, g, rstd, y, dg).reshape(-1), dg);
        });
        ops.add(() -> be.embedding(w, ids));
        ops.add(() -> be.rope(q, positions, 10000f, false));
        ops.add(() -> be.rope(q, positions, 10000f, true));
        ops.add(() -> {
            Tensor lse = be.zeros(Shape.of(2, 4, 37));
            return Tensor.concat(0, be.attention(q, k, v, causal, lse).reshape(-1), lse.reshape(-1));
        });
        ops.add(() -> {
            Tensor lse = be.zeros(Shape.of(2, 4, 37));
            Tensor out = be.attention(q, k, v, causal, lse);
            Tensor dq = be.zeros(q.shape()), dk = be.zeros(k.shape()), dv = be.zeros(v.shape());
            be.attentionBackward(q, k, v, out, lse, dOut, dq, dk, dv, causal);
            return Tensor.concat(0, dq.reshape(-1), dk.reshape(-1), dv.reshape(-1));
        });
        ops.add(() -> be.crossEntropy(logits, targets));
        ops.add(() -> be.crossEntropyBackward(logits, targets, rand(new Rng(10), 37), Tensor.scalar(0.5f)));
        for (int i = 0; i < ops.size(); i++) {
            float[] fresh = ops.get(i).get().toArray();
            try (TensorArena arena = TensorArena.open(TensorArena.Mode.CHECK)) {
                for (int round = 0; round < 2; round++) { // the second round runs on the first's released, poisoned arrays
                    try (TensorArena.Scope _ = arena.scope()) {
                        assertThat(ops.get(i).get().toArray()).as("op %d, round %d", i, round).containsExactly(fresh);
                    }
                }
            }
        }
    }
}
