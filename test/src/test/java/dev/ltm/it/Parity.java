package dev.ltm.it;

import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The relative error every parity test measures, and the worst of it per quantity. Copies between
 * our tensors and PyTorch's arrays are {@link dev.ltm.bench.torch.TorchEngine}'s.
 */
final class Parity {
    private Parity() {}

    /** Errors below this are rounding in float32 sums of a few hundred terms, not a disagreement. */
    static final double TOLERANCE = 1e-4;

    /**
     * Relative error of one tensor: max_i |got_i - want_i| / max(max_i |want_i|, 1e-30). Normalising by
     * the largest reference entry (not entry by entry) keeps entries that are near zero by
     * cancellation from dominating, as they would with an elementwise ratio.
     */
    static double relErr(float[] got, float[] want) {
        if (got.length != want.length) throw new IllegalArgumentException("relErr: " + got.length + " values vs " + want.length);
        double diff = 0, scale = 0;
        for (int i = 0; i < got.length; i++) {
            if (!Float.isFinite(got[i]) || !Float.isFinite(want[i])) return Double.POSITIVE_INFINITY;
            diff = Math.max(diff, Math.abs((double) got[i] - want[i]));
            scale = Math.max(scale, Math.abs(want[i]));
        }
        return diff / Math.max(scale, 1e-30);
    }

    /** Where two tensors differ most, for a failure message: index, both values and the reference's scale. */
    static String worstEntry(float[] got, float[] want) {
        int at = 0;
        double diff = -1, scale = 0;
        for (int i = 0; i < got.length; i++) {
            double d = Math.abs((double) got[i] - want[i]);
            if (!(d <= diff)) {
                diff = d;
                at = i;
            }
            scale = Math.max(scale, Math.abs(want[i]));
        }
        return got.length == 0 ? "empty" : String.format("entry %d of %d: ours %.6g, torch %.6g, max |torch| %.6g", at, got.length,
                got[at], want[at], scale);
    }

    /** {@link #relErr(float[], float[])} of a scalar. */
    static double relErr(double got, double want) {
        return Math.abs(got - want) / Math.max(Math.abs(want), 1e-30);
    }

    /** The value {@link #reuseFreedNativeMemory} writes into the native memory it takes back. */
    static final float POISON = 1000f;

    /**
     * Runs the garbage collector, then takes back the small blocks of native memory it freed and fills
     * them with {@link #POISON}, until the returned handle is closed. Call it between a PyTorch forward
     * pass and its backward pass: a tensor that autograd saved in memory the JVM has given back (what
     * DJL's Number overloads such as {@code x.mul(0.5f)} leave behind, issue 13) then reads 1000
     * every time instead of now and then, so the parity tests fail at once rather than once in a
     * hundred runs under load.
     */
    private static Held reuseFreedNativeMemory() {
        for (int i = 0; i < 2; i++) {
            System.gc();
            try {
                Thread.sleep(20); // the JDK's cleaner thread frees a direct buffer after the GC finds it unreachable
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<ByteBuffer> held = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder());
            b.putFloat(0, POISON);
            held.add(b);
        }
        return held::clear;
    }

    /** Native memory held until closed. */
    private interface Held extends AutoCloseable {
        @Override void close();
    }

    /** PyTorch's backward pass of {@code loss}, run while {@link #reuseFreedNativeMemory} holds the freed memory. */
    static void backward(GradientCollector gc, NDArray loss) {
        try (Held _ = reuseFreedNativeMemory()) {
            gc.backward(loss);
        }
    }

    /** The worst relative error seen per quantity in one test class, printed for the report. */
    static final class Worst {
        private final Map<String, Double> worst = new TreeMap<>();

        /** Records {@code err} under {@code quantity} and returns it. */
        synchronized double note(String quantity, double err) {
            worst.merge(quantity, err, Math::max);
            return err;
        }

        synchronized String report(String title) {
            StringBuilder sb = new StringBuilder(title).append(" worst relative errors:\n");
            worst.forEach((k, v) -> sb.append(String.format("  %-28s %.3e%n", k, v)));
            return sb.toString();
        }
    }
}
