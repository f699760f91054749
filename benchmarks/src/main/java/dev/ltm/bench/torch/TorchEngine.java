package dev.ltm.bench.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import dev.ltm.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Starts PyTorch (through DJL) for a side-by-side timing: offline (no download, the native library
 * comes from the class path) and with the given number of intra-op threads, both set as system
 * properties before the engine loads, as DJL reads them only then.
 */
public final class TorchEngine {
    private TorchEngine() {}

    /**
     * A base manager of a PyTorch engine running {@code threads} intra-op threads (and 1 inter-op
     * thread). Unless the environment already sets it, OMP_WAIT_POLICY is set to PASSIVE first.
     */
    public static NDManager start(int threads) {
        // libgomp reads this when libtorch loads. Its default (spin after each parallel region) steals
        // the cores from our engine's threads between PyTorch calls and, on a loaded machine, makes
        // PyTorch itself wait for descheduled spinners: both would distort an alternating comparison.
        if (System.getenv("OMP_WAIT_POLICY") == null) setenv("OMP_WAIT_POLICY", "PASSIVE");
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        NDManager manager = NDManager.newBaseManager("PyTorch");
        int got = JniUtils.getNumThreads();
        if (got != threads) {
            manager.close();
            throw new IllegalStateException("TorchEngine: PyTorch runs " + got + " threads, asked for " + threads
                    + " (the engine was started before the property was set)");
        }
        return manager;
    }

    /** The OpenMP wait policy PyTorch's threads run under, as the process environment says. */
    @SuppressWarnings("restricted")
    public static String ompWaitPolicy() {
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle getenv = LINKER.downcallHandle(LINKER.defaultLookup().find("getenv").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            MemorySegment v = (MemorySegment) getenv.invokeExact(arena.allocateFrom("OMP_WAIT_POLICY"));
            return v.equals(MemorySegment.NULL) ? "default" : v.reinterpret(256).getString(0);
        } catch (Throwable e) {
            throw new IllegalStateException("TorchEngine: getenv failed: " + e, e);
        }
    }

    /** setenv(3) in this process, so that native libraries loaded later see the variable. */
    @SuppressWarnings("restricted")
    private static void setenv(String name, String value) {
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle setenv = LINKER.downcallHandle(LINKER.defaultLookup().find("setenv").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            int rc = (int) setenv.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), 1);
            if (rc != 0) throw new IllegalStateException("TorchEngine: setenv " + name + " failed with " + rc);
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("TorchEngine: setenv " + name + " failed: " + e, e);
        }
    }

    private static final Linker LINKER = Linker.nativeLinker();

    /** PyTorch's intra-op thread count, as the library reports it. */
    public static int threads() { return JniUtils.getNumThreads(); }

    /** An NDArray with the shape and a copy of the values of {@code t}, in memory PyTorch owns. */
    public static NDArray nd(NDManager m, Tensor t) {
        int[] d = t.shape().dims();
        long[] s = new long[d.length];
        for (int i = 0; i < d.length; i++) s[i] = d[i];
        return owned(m.create(t.data(), new ai.djl.ndarray.types.Shape(s)));
    }

    /**
     * A copy of {@code a} in memory that PyTorch allocated and owns. DJL's create() wraps a Java
     * direct buffer; through this copy the Torch side depends on nothing but PyTorch.
     */
    public static NDArray owned(NDArray a) { return a.duplicate(); }

    /**
     * A float32 scalar in memory PyTorch owns, for every op autograd may record: never DJL's Number
     * overloads there ({@code x.mul(0.5f)}, {@code div}, {@code add}, {@code pow}...). Such an overload
     * wraps the number in a Java direct buffer and closes it as soon as the op returns, but autograd
     * keeps the tensor for the backward pass (mul and div save their other operand); once the GC frees
     * the buffer, the next allocation that reuses the memory changes the saved factor, and the
     * gradient with it. That was issue 13's rare parity failure, PyTorch's side off under load.
     */
    public static NDArray scalar(NDManager m, float value) { return owned(m.create(value)); }

    /** x times s, s through {@link #scalar}. */
    public static NDArray mul(NDArray x, float s) { return x.mul(scalar(x.getManager(), s)); }

    /** x divided by s, s through {@link #scalar}. */
    public static NDArray div(NDArray x, float s) { return x.div(scalar(x.getManager(), s)); }

    /** x plus s, s through {@link #scalar}. */
    public static NDArray add(NDArray x, float s) { return x.add(scalar(x.getManager(), s)); }
}
