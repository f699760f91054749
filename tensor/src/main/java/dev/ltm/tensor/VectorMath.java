package dev.ltm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Row kernels shared by softmax, cross-entropy and the elementwise transcendental ops: each has
 * a Vector API path and the scalar loop that {@code -Dltm.vector=0} selects.
 */
final class VectorMath {
    private VectorMath() {}

    /** Largest of x[off .. off+n). */
    static float max(float[] x, int off, int n) {
        int i = 0;
        float m = Float.NEGATIVE_INFINITY;
        if (Simd.ENABLED && n >= Simd.F.length()) {
            FloatVector acc = FloatVector.broadcast(Simd.F, Float.NEGATIVE_INFINITY);
            for (int bound = Simd.F.loopBound(n); i < bound; i += Simd.F.length()) {
                acc = acc.max(FloatVector.fromArray(Simd.F, x, off + i));
            }
            m = acc.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) m = Math.max(m, x[off + i]);
        return m;
    }

    /** out[outOff + i] = exp(x[off + i] - shift) for i < n; returns the sum of the results. */
    static double expShifted(float[] x, int off, float shift, float[] out, int outOff, int n) {
        int i = 0;
        double sum = 0;
        if (Simd.ENABLED) {
            FloatVector acc = FloatVector.zero(Simd.F);
            for (int bound = Simd.F.loopBound(n); i < bound; i += Simd.F.length()) {
                FloatVector e = FloatVector.fromArray(Simd.F, x, off + i).sub(shift).lanewise(VectorOperators.EXP);
                e.intoArray(out, outOff + i);
                acc = acc.add(e);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - shift);
            out[outOff + i] = e;
            sum += e;
        }
        return sum;
    }

    /** Sum of exp(x[off + i] - shift) for i < n, without storing the terms. */
    static double sumExpShifted(float[] x, int off, float shift, int n) {
        int i = 0;
        double sum = 0;
        if (Simd.ENABLED) {
            FloatVector acc = FloatVector.zero(Simd.F);
            for (int bound = Simd.F.loopBound(n); i < bound; i += Simd.F.length()) {
                acc = acc.add(FloatVector.fromArray(Simd.F, x, off + i).sub(shift).lanewise(VectorOperators.EXP));
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) sum += Math.exp(x[off + i] - shift);
        return sum;
    }

    /** x[off + i] *= s for i < n. */
    static void scale(float[] x, int off, float s, int n) {
        int i = 0;
        if (Simd.ENABLED) {
            for (int bound = Simd.F.loopBound(n); i < bound; i += Simd.F.length()) {
                FloatVector.fromArray(Simd.F, x, off + i).mul(s).intoArray(x, off + i);
            }
        }
        for (; i < n; i++) x[off + i] *= s;
    }

    /** out[i] = op(x[i]) over [lo, hi) for the transcendental ops EXP, SIGMOID, SILU, TANH, LOG. */
    static boolean transcendental(UnaryOp op, float[] x, float[] out, int lo, int hi) {
        if (!Simd.ENABLED || !(op == UnaryOp.EXP || op == UnaryOp.SIGMOID || op == UnaryOp.SILU
                || op == UnaryOp.TANH || op == UnaryOp.LOG)) {
            return false;
        }
        int i = lo, len = Simd.F.length();
        for (; i + len <= hi; i += len) {
            FloatVector v = FloatVector.fromArray(Simd.F, x, i);
            FloatVector r = switch (op) {
                case EXP -> v.lanewise(VectorOperators.EXP);
                case LOG -> v.lanewise(VectorOperators.LOG);
                case TANH -> v.lanewise(VectorOperators.TANH);
                case SIGMOID -> FloatVector.broadcast(Simd.F, 1f).div(v.neg().lanewise(VectorOperators.EXP).add(1f));
                default -> v.div(v.neg().lanewise(VectorOperators.EXP).add(1f)); // SILU: x / (1 + e^-x)
            };
            r.intoArray(out, i);
        }
        for (; i < hi; i++) out[i] = op.apply(x[i]);
        return true;
    }
}
