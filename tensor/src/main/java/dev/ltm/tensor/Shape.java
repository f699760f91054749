package dev.ltm.tensor;

import java.util.Arrays;

/** An immutable tensor shape: the size of each axis, outermost first, with row-major strides. */
public final class Shape {
    private final int[] dims;
    private final long size;

    private Shape(int[] dims) {
        this.dims = dims;
        long n = 1;
        for (int d : dims) n *= d;
        this.size = n;
    }

    /** A shape with the given axis sizes; every size must be >= 0 and the element count must fit an int. */
    public static Shape of(int... dims) {
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("shape " + Arrays.toString(dims) + ": negative size " + d);
        }
        Shape s = new Shape(dims.clone());
        if (s.size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("shape " + s + ": " + s.size + " elements do not fit one array");
        }
        return s;
    }

    /** Number of axes. */
    public int rank() { return dims.length; }

    /** Size of axis {@code axis}; negative values count from the end ({@code -1} is the last axis). */
    public int dim(int axis) { return dims[axis(axis)]; }

    /** Total number of elements. */
    public int size() { return (int) size; }

    /** A copy of the axis sizes. */
    public int[] dims() { return dims.clone(); }

    /** Normalises a possibly negative axis index, throwing if it is out of range. */
    public int axis(int axis) {
        int a = axis < 0 ? axis + dims.length : axis;
        if (a < 0 || a >= dims.length) {
            throw new IllegalArgumentException("axis " + axis + " out of range for shape " + this);
        }
        return a;
    }

    /** Row-major strides in elements. */
    public int[] strides() {
        int[] s = new int[dims.length];
        int acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= dims[i];
        }
        return s;
    }

    /**
     * Strides of this shape's row-major layout, read in {@code perm}'s order: element i of the
     * result is the stride of axis {@code perm[i]}, so walking the permuted shape with them reads
     * this layout. {@code perm} is assumed to be a permutation of the axes (see {@link Tensor#permute}).
     */
    public int[] permutedStrides(int[] perm) {
        int[] s = strides(), p = new int[perm.length];
        for (int i = 0; i < perm.length; i++) p[i] = s[perm[i]];
        return p;
    }

    /** The shape with its axes in {@code perm}'s order: axis i has the size of axis {@code perm[i]}. */
    public Shape permute(int[] perm) {
        int[] d = new int[perm.length];
        for (int i = 0; i < perm.length; i++) d[i] = dims[perm[i]];
        return of(d);
    }

    /** Product of the sizes of axes {@code [from, to)}. */
    public int sizeOf(int from, int to) {
        int n = 1;
        for (int i = from; i < to; i++) n *= dims[i];
        return n;
    }

    /** This shape with axis {@code axis} replaced by {@code size}. */
    public Shape withDim(int axis, int size) {
        int[] d = dims.clone();
        d[axis(axis)] = size;
        return of(d);
    }

    /**
     * Result shape of a batched matmul of {@code a} [..., M, K] (or [..., K, M] if transA) and
     * {@code b} [..., K, N] (or [..., N, K] if transB): a's batch axes, then [M, N]. Shapes are
     * assumed validated (see {@link Tensor#matmul(Tensor, boolean, boolean)}).
     */
    public static Shape matmulResult(Shape a, Shape b, boolean transA, boolean transB) {
        int r = a.rank();
        int[] od = a.dims();
        od[r - 2] = transA ? a.dim(-1) : a.dim(-2);
        od[r - 1] = transB ? b.dim(-2) : b.dim(-1);
        return of(od);
    }

    @Override public boolean equals(Object o) { return o instanceof Shape s && Arrays.equals(dims, s.dims); }
    @Override public int hashCode() { return Arrays.hashCode(dims); }
    @Override public String toString() { return Arrays.toString(dims); }
}
