package dev.ltm.tensor;

import java.util.Arrays;

/**
 * A dense float32 tensor: a {@link Shape} over contiguous row-major storage. Reshapes are views
 * (they share storage); transposes, slices and concatenations copy. Ops go through the tensor's
 * {@link Backend}. A device backend may keep a device copy of the storage: {@link #data()} and
 * {@link #read()} bring the host copy up to date first, and {@link #data()} (writable) marks the
 * device copy stale; a CPU tensor never has one and pays one null check.
 */
public final class Tensor {
    /**
     * The values behind a tensor and its reshaped views: a host array and, on a device backend, the
     * backend's device copy. At least one copy is current; a CPU tensor never has a device copy.
     */
    private static final class Storage {
        float[] host;           // null until needed for a device-born tensor
        Object device;          // owned by the backend; null for host-only tensors
        boolean hostCurrent;
        boolean deviceCurrent;

        Storage(float[] host) {
            this.host = host;
            this.hostCurrent = true;
        }

        Storage(Object device) {
            this.device = device;
            this.deviceCurrent = true;
        }
    }

    private final Shape shape;
    private final Storage storage;
    private final Backend backend;

    private Tensor(Shape shape, Storage storage, Backend backend) {
        this.shape = shape;
        this.storage = storage;
        this.backend = backend;
    }

    private Tensor(Shape shape, float[] data, Backend backend) {
        this(shape, new Storage(data), backend);
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

    /**
     * For the CPU backend: a result of {@code shape} whose every element the op is about to write. Its array may be
     * an uninitialised one of the calling thread's {@link TensorArena} scope, else it is a new (zeroed) JVM array.
     */
    static Tensor output(Shape shape) {
        TensorArena.Scope scope = TensorArena.scopeFor(shape.size());
        return scope == null ? zeros(shape) : scope.make(shape, false);
    }

    /** For the CPU backend: a tensor of zeros of {@code shape}, on an array of the calling thread's {@link TensorArena} scope when there is one. */
    static Tensor zeroed(Shape shape) {
        TensorArena.Scope scope = TensorArena.scopeFor(shape.size());
        return scope == null ? zeros(shape) : scope.make(shape, true);
    }

    /** A tensor filled with {@code value}. */
    public static Tensor full(float value, int... dims) {
        Tensor t = zeros(dims);
        Arrays.fill(t.storage.host, value);
        return t;
    }

    /** A rank-0 tensor holding one value. */
    public static Tensor scalar(float value) { return of(new float[] {value}); }

    /** {@code mean + std * N(0,1)} entries drawn from {@code rng}. */
    public static Tensor randn(Rng rng, double mean, double std, int... dims) {
        checkFinite("randn", mean, std);
        Tensor t = zeros(dims);
        rng.fillNormal(t.storage.host, mean, std);
        return t;
    }

    /** Uniform entries in [lo, hi) drawn from {@code rng}. */
    public static Tensor rand(Rng rng, double lo, double hi, int... dims) {
        checkFinite("rand", lo, hi);
        Tensor t = zeros(dims);
        rng.fillUniform(t.storage.host, lo, hi);
        return t;
    }

    // ---- device residency (the SPI for backends whose tensors live in device memory) --------

    /**
     * For backends: wraps host {@code values} (not copied) as a tensor of {@code backend}; the backend
     * makes its device copy when an op first needs it.
     */
    public static Tensor onBackend(Backend backend, float[] values, Shape shape) {
        if (values.length != shape.size()) {
            throw new IllegalArgumentException("tensor: " + values.length + " values do not fill shape " + shape);
        }
        return new Tensor(shape, new Storage(values), backend);
    }

    /**
     * For backends: a tensor of {@code backend} whose only copy is the device storage {@code device}
     * (the host array is made, and filled through {@link Backend#readDevice}, when host code asks for it).
     */
    public static Tensor onDevice(Backend backend, Shape shape, Object device) {
        if (device == null) throw new IllegalArgumentException("onDevice: null device storage for shape " + shape);
        return new Tensor(shape, new Storage(device), backend);
    }

    /** For backends: the device storage shared by this tensor and its views, or null when there is none. */
    public Object deviceStorage() { return storage.device; }

    /** For backends: whether the device storage holds the current values. */
    public boolean deviceCurrent() { return storage.device != null && storage.deviceCurrent; }

    /**
     * For backends: sets the device storage (after an upload, {@code hostStale} false) or records that
     * a device kernel wrote it ({@code hostStale} true, so that host reads download it again).
     */
    public void attachDevice(Object device, boolean hostStale) {
        if (device == null) throw new IllegalArgumentException("attachDevice: null device storage");
        Storage s = storage;
        s.device = device;
        s.deviceCurrent = true;
        s.hostCurrent = !hostStale && s.host != null && s.hostCurrent;
    }

    /**
     * For {@link TensorArena}: takes the host array away from this tensor and its views, which throw on any later
     * use, and returns it.
     */
    float[] release() {
        float[] a = storage.host;
        storage.host = null;
        storage.hostCurrent = false;
        return a;
    }

    /** The error of a tensor used after its {@link TensorArena} scope closed. */
    private IllegalStateException released() {
        return new IllegalStateException("tensor " + shape + " was used after the TensorArena scope that made it closed"
                + " (its storage now serves other tensors; keep a copy() of what must outlive the scope)");
    }

    /** Brings the host copy up to date (one download when only the device copy is current). */
    private float[] hostCurrent() {
        Storage s = storage;
        if (s.device == null) throw released();
        if (!s.hostCurrent) {
            if (s.host == null) s.host = new float[shape.size()];
            backend.readDevice(s.device, s.host);
            s.hostCurrent = true;
        }
        return s.host;
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
     * The host storage, row-major, shared with this tensor and its views: writes are visible to both.
     * Kernels and serialisers use it; ordinary code should prefer the ops. On a device backend this
     * downloads when the host copy is stale and, since the caller may write, marks the device copy stale.
     */
    public float[] data() {
        Storage s = storage;
        if (s.host != null && s.device == null) return s.host;
        float[] h = hostCurrent();
        s.deviceCurrent = false;
        return h;
    }

    /**
     * The host storage for reading only (do not write to it): like {@link #data()} but the device
     * copy stays current, so reading a device tensor costs at most one download.
     */
    public float[] read() {
        Storage s = storage;
        return s.host != null && s.device == null ? s.host : hostCurrent();
    }

    /** A copy of the values. */
    public float[] toArray() { return read().clone(); }

    /** The only value of a one-element tensor. */
    public float item() {
        if (size() != 1) throw new IllegalStateException("item: tensor of shape " + shape + " has " + size() + " values");
        return read()[0];
    }

    /** The value at a multi-index. */
    public float get(int... index) { return read()[offset(index)]; }

    /** Sets the value at a multi-index. */
    public void set(float value, int... index) { data()[offset(index)] = value; }

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

    /** A deep copy, on the same backend (a device tensor is copied on the device). */
    public Tensor copy() {
        Storage s = storage;
        return s.device == null ? new Tensor(shape, read().clone(), backend) : backend.copy(this);
    }

    /** This tensor on {@code target}: itself when it is already there, else a copy of its values. */
    public Tensor to(Backend target) { return target == backend ? this : target.fromArray(read(), shape); }

    /** A view with another shape of the same element count; {@code -1} in one place is inferred. */
    public Tensor reshape(int... dims) {
        int[] d = dims.clone();
        int infer = -1, known = 1;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("reshape " + shape + " to " + Arrays.toString(dims)
                        + ": more than one -1");
                infer = i;
            } else known *= d[i];
        }
        if (infer >= 0 && known != 0) d[infer] = size() / known;
        Shape target = Shape.of(d);
        if (target.size() != size()) {
            throw new IllegalArgumentException("reshape " + shape + " to " + Arrays.toString(dims) + ": element counts "
                    + size() + " and " + target.size() + " differ");
        }
        return new Tensor(target, storage, backend);
    }


    // ---- ops (validated here, run by the backend) -------------------------------------------

    /** The broadcast shape of two shapes (NumPy rules), or an error naming {@code op} and both shapes. */
    public static Shape broadcastShape(String op, Shape a, Shape b) {
        int r = Math.max(a.rank(), b.rank());
        int[] d = new int[r];
        for (int i = 0; i < r; i++) {
            int x = i - (r - a.rank()) >= 0 ? a.dim(i - (r - a.rank())) : 1;
            int y = i - (r - b.rank()) >= 0 ? b.dim(i - (r - b.rank())) : 1;
            if (x != y && x != 1 && y != 1) {
                throw new IllegalArgumentException(op + ": shapes " + a + " and " + b + " do not broadcast (axis " + i + ": " + x + " vs "
                        + y + ")");
            }
            d[i] = x == 1 ? y : x;
        }
        return Shape.of(d);
    }

    private Tensor binary(BinaryOp op, Tensor other) {
        sameBackend(op.name().toLowerCase(), other);
        return backend.binary(op, this, other, broadcastShape(op.name().toLowerCase(), shape, other.shape));
    }

    private void sameBackend(String op, Tensor other) {
        if (other.backend != backend) {
            throw new IllegalArgumentException(op + ": tensors on backends " + backend.name() + " and " + other.backend.name());
        }
    }

    /** Elementwise sum with broadcasting. */
    public Tensor add(Tensor other) { return binary(BinaryOp.ADD, other); }

    /** Elementwise difference with broadcasting. */
    public Tensor sub(Tensor other) { return binary(BinaryOp.SUB, other); }

    /** Elementwise product with broadcasting. */
    public Tensor mul(Tensor other) { return binary(BinaryOp.MUL, other); }

    /** Elementwise quotient with broadcasting. */
    public Tensor div(Tensor other) { return binary(BinaryOp.DIV, other); }

    /** {@code this * s}. */
    public Tensor scale(float s) { return backend.affine(this, s, 0f); }

    /** {@code this * mul + add}. */
    public Tensor affine(float mul, float add) { return backend.affine(this, mul, add); }

    /** Elementwise unary op. */
    public Tensor map(UnaryOp op) { return backend.unary(op, this); }

    /** Elementwise e^x. */
    public Tensor exp() { return map(UnaryOp.EXP); }

    /** Elementwise natural log. */
    public Tensor log() { return map(UnaryOp.LOG); }

    /** Elementwise x / (1 + e^-x). */
    public Tensor silu() { return map(UnaryOp.SILU); }

    /** Sum of all elements, accumulated in double. */
    public double sumAll() {
        double s = 0;
        for (float x : read()) s += x;
        return s;
    }

    /** Sums this tensor down to {@code target}, the shape it was broadcast from. */
    public Tensor sumTo(Shape target) {
        Shape check = broadcastShape("sumTo", target, shape);
        if (!check.equals(shape)) throw new IllegalArgumentException("sumTo: " + shape + " is not a broadcast of " + target);
        return backend.sumTo(this, target);
    }

    /**
     * Matrix product over the last two axes, batched over the leading ones: [..., M, K] x [..., K, N]
     * (or a rank-2 right side shared by every batch). The flags transpose each side's last two axes.
     */
    public Tensor matmul(Tensor b, boolean transA, boolean transB) {
        sameBackend("matmul", b);
        Shape bs = b.shape;
        if (shape.rank() < 2 || bs.rank() < 2) {
            throw new IllegalArgumentException("matmul: " + shape + " x " + bs + ": both sides need rank >= 2");
        }
        int k1 = transA ? shape.dim(-2) : shape.dim(-1), k2 = transB ? bs.dim(-1) : bs.dim(-2);
        if (k1 != k2) {
            throw new IllegalArgumentException("matmul: " + shape + (transA ? "^T" : "") + " x " + bs + (transB ? "^T" : "")
                    + ": inner dimensions " + k1 + " and " + k2 + " differ");
        }
        if (bs.rank() != 2) {
            boolean same = bs.rank() == shape.rank();
            for (int i = 0; same && i < shape.rank() - 2; i++) same = shape.dim(i) == bs.dim(i);
            if (!same) throw new IllegalArgumentException("matmul: " + shape + " x " + bs + ": batch axes differ");
        }
        return backend.matmul(this, b, transA, transB);
    }

    /** Matrix product {@code this x b}. */
    public Tensor matmul(Tensor b) { return matmul(b, false, false); }

    /** Swaps two axes (a copy). */
    public Tensor transpose(int a, int b) {
        int[] perm = new int[shape.rank()];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        int x = shape.axis(a), y = shape.axis(b);
        perm[x] = y;
        perm[y] = x;
        return backend.permute(this, perm);
    }

    /** Reorders the axes (a copy): result axis i is this tensor's axis {@code perm[i]}. */
    public Tensor permute(int... perm) {
        boolean[] seen = new boolean[shape.rank()];
        boolean ok = perm.length == shape.rank();
        for (int i = 0; ok && i < perm.length; i++) {
            ok = perm[i] >= 0 && perm[i] < perm.length && !seen[perm[i]];
            if (ok) seen[perm[i]] = true;
        }
        if (!ok) throw new IllegalArgumentException("permute: " + Arrays.toString(perm) + " is not a permutation of the axes of " + shape);
        return backend.permute(this, perm.clone());
    }

    /** Copy of {@code [start, end)} along {@code axis}. */
    public Tensor slice(int axis, int start, int end) {
        int ax = shape.axis(axis);
        if (start < 0 || end > shape.dim(ax) || start > end) {
            throw new IllegalArgumentException("slice: [" + start + ", " + end + ") out of range for axis " + axis + " of " + shape);
        }
        return backend.slice(this, ax, start, end);
    }

    /**
     * Writes all of {@code src}, in row-major order, into this tensor's elements {@code offset ..
     * offset + src.size() - 1}, in place; the other elements are kept, and on a device backend the
     * values stay on the device (a KV cache grows this way without a round trip through the host).
     */
    public void write(long offset, Tensor src) {
        sameBackend("write", src);
        if (offset < 0 || offset + src.size() > size()) {
            throw new IllegalArgumentException("write: " + src.shape + " at offset " + offset + " does not fit in " + shape);
        }
        backend.write(this, offset, src);
    }

    /** Concatenates tensors along {@code axis}; all other axes must agree. */
    public static Tensor concat(int axis, Tensor... parts) {
        if (parts.length == 0) throw new IllegalArgumentException("concat: no tensors");
        Shape s0 = parts[0].shape;
        int ax = s0.axis(axis);
        for (Tensor t : parts) {
            boolean ok = t.shape.rank() == s0.rank();
            for (int i = 0; ok && i < s0.rank(); i++) ok = i == ax || t.shape.dim(i) == s0.dim(i);
            if (!ok) throw new IllegalArgumentException("concat: shapes " + s0 + " and " + t.shape + " differ off axis " + axis);
            parts[0].sameBackend("concat", t);
        }
        return parts[0].backend.concat(ax, parts);
    }

    /** Splits along {@code axis} into pieces of the given sizes, which must add up to the axis size. */
    public Tensor[] split(int axis, int... sizes) {
        int ax = shape.axis(axis), total = 0;
        for (int s : sizes) {
            if (s < 0) throw new IllegalArgumentException("split: negative size in " + Arrays.toString(sizes));
            total += s;
        }
        if (total != shape.dim(ax)) {
            throw new IllegalArgumentException("split: sizes " + Arrays.toString(sizes) + " add to " + total + ", axis " + axis + " of "
                    + shape + " has " + shape.dim(ax));
        }
        Tensor[] out = new Tensor[sizes.length];
        for (int i = 0, at = 0; i < sizes.length; at += sizes[i], i++) out[i] = backend.slice(this, ax, at, at + sizes[i]);
        return out;
    }

    /** A new tensor of this shape and backend holding {@code values} (not copied). */
    public Tensor like(float[] values, Shape shape) { return new Tensor(shape, values, backend); }

    @Override public String toString() {
        float[] data = read();
        int n = Math.min(8, data.length);
        StringBuilder sb = new StringBuilder("Tensor").append(shape).append(" [");
        for (int i = 0; i < n; i++) sb.append(i == 0 ? "" : ", ").append(data[i]);
        return sb.append(data.length > n ? ", ...]" : "]").toString();
    }
}
