package dev.ltm.tensor;

import java.util.Arrays;

/**
 * A dense float32 tensor: a {@link Shape} over contiguous row-major storage. Reshapes are views
 * (they share storage); transposes, slices and concatenations copy. Ops go through the tensor's
 * {@link Backend}.
 */
public final class Tensor {
    private final Shape shape;
    private final float[] data;
    private final Backend backend;

    private Tensor(Shape shape, float[] data, Backend backend) {
        this.shape = shape;
        this.data = data;
        this.backend = backend;
    }

    // ---- creation -------------------------------------------------------------------------

    /** Wraps {@code data} (not copied) as a tensor of the given shape on the CPU backend. */
    public static Tensor of(float[] data, int... dims) {
        return of(data, Shape.of(dims));
    }

    /** Wraps {@code data} (not copied) as a tensor of the given shape on the CPU backend. */
    public static Tensor of(float[] data, Shape shape) {
        if (data.length != shape.size()) {
            throw new IllegalArgumentException("tensor: " + data.length + " values do not fill shape " + shape
                    + " (" + shape.size() + " elements)");
        }
        return new Tensor(shape, data, CpuBackend.INSTANCE);
    }

    /** A tensor of zeros. */
    public static Tensor zeros(int... dims) { return zeros(Shape.of(dims)); }

    /** A tensor of zeros. */
    public static Tensor zeros(Shape shape) { return new Tensor(shape, new float[shape.size()], CpuBackend.INSTANCE); }

    /** A tensor filled with {@code value}. */
    public static Tensor full(float value, int... dims) {
        Tensor t = zeros(dims);
        Arrays.fill(t.data, value);
        return t;
    }

    /** A rank-0 tensor holding one value. */
    public static Tensor scalar(float value) { return of(new float[] {value}); }

    /** {@code mean + std * N(0,1)} entries drawn from {@code rng}. */
    public static Tensor randn(Rng rng, double mean, double std, int... dims) {
        checkFinite("randn", mean, std);
        Tensor t = zeros(dims);
        rng.fillNormal(t.data, mean, std);
        return t;
    }

    /** Uniform entries in [lo, hi) drawn from {@code rng}. */
    public static Tensor rand(Rng rng, double lo, double hi, int... dims) {
        checkFinite("rand", lo, hi);
        Tensor t = zeros(dims);
        rng.fillUniform(t.data, lo, hi);
        return t;
    }

    private static void checkFinite(String op, double a, double b) {
        if (!Double.isFinite(a) || !Double.isFinite(b)) {
            throw new IllegalArgumentException(op + ": parameters must be finite, got " + a + " and " + b);
        }
    }

    // ---- access ---------------------------------------------------------------------------

    /** The shape. */
    public Shape shape() { return shape; }

    /** Size of axis {@code axis} (negative counts from the end). */
    public int dim(int axis) { return shape.dim(axis); }

    /** Number of axes. */
    public int rank() { return shape.rank(); }

    /** Number of elements. */
    public int size() { return shape.size(); }

    /** The backend that runs this tensor's ops. */
    public Backend backend() { return backend; }

    /**
     * The storage, row-major, shared with this tensor and its views: writes are visible to both.
     * Kernels and serialisers use it; ordinary code should prefer the ops.
     */
    public float[] data() { return data; }

    /** A copy of the values. */
    public float[] toArray() { return data.clone(); }

    /** The only value of a one-element tensor. */
    public float item() {
        if (data.length != 1) throw new IllegalStateException("item: tensor of shape " + shape + " has " + data.length + " values");
        return data[0];
    }

    /** The value at a multi-index. */
    public float get(int... index) { return data[offset(index)]; }

    /** Sets the value at a multi-index. */
    public void set(float value, int... index) { data[offset(index)] = value; }

    private int offset(int[] index) {
        if (index.length != shape.rank()) {
            throw new IllegalArgumentException("index " + Arrays.toString(index) + " has rank " + index.length + ", tensor " + shape);
        }
        int off = 0;
        for (int i = 0; i < index.length; i++) {
            int d = shape.dim(i);
            if (index[i] < 0 || index[i] >= d) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " out of bounds for " + shape);
            }
            off = off * d + index[i];
        }
        return off;
    }

    /** A deep copy. */
    public Tensor copy() { return new Tensor(shape, data.clone(), backend); }

    /** A view with another shape of the same element count; {@code -1} in one place is inferred. */
    public Tensor reshape(int... dims) {
        int[] d = dims.clone();
        int infer = -1, known = 1;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("reshape " + shape + " to " + Arrays.toString(dims) + ": more than one -1");
                infer = i;
            } else known *= d[i];
        }
        if (infer >= 0 && known != 0) d[infer] = size() / known;
        Shape target = Shape.of(d);
        if (target.size() != size()) {
            throw new IllegalArgumentException("reshape " + shape + " to " + Arrays.toString(dims) + ": element counts "
                    + size() + " and " + target.size() + " differ");
        }
        return new Tensor(target, data, backend);
    }

    /** A new tensor of this shape and backend holding {@code values} (not copied). */
    public Tensor like(float[] values, Shape shape) { return new Tensor(shape, values, backend); }

    @Override public String toString() {
        int n = Math.min(8, data.length);
        StringBuilder sb = new StringBuilder("Tensor").append(shape).append(" [");
        for (int i = 0; i < n; i++) sb.append(i == 0 ? "" : ", ").append(data[i]);
        return sb.append(data.length > n ? ", ...]" : "]").toString();
    }
}
