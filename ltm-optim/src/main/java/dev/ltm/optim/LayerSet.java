package dev.ltm.optim;

import dev.ltm.tensor.Tensor;
import java.util.Arrays;
import java.util.BitSet;

/**
 * A set of decoder layers whose thoughts z_l are kept (spec section 3, probing); the others are
 * replaced by their prior mean, zero. Layers are 0-based inside, 1-based in text: {@code "1-3"},
 * {@code "1,4"}, {@code "2"}, {@code "all"} or {@code "none"}.
 */
public record LayerSet(int layerCount, int[] layers) {

    /** Checks that the layers are distinct, sorted and in {@code [0, layerCount)}. */
    public LayerSet {
        layers = layers.clone();
        for (int i = 0; i < layers.length; i++) {
            if (layers[i] < 0 || layers[i] >= layerCount) {
                throw new IllegalArgumentException("layers: layer " + (layers[i] + 1) + " is outside 1.." + layerCount);
            }
            if (i > 0 && layers[i] <= layers[i - 1]) throw new IllegalArgumentException("layers: " + Arrays.toString(layers)
                    + " must be sorted and distinct");
        }
    }

    /** Every layer. */
    public static LayerSet all(int layerCount) { return prefix(layerCount, layerCount); }

    /** Layers 1..k (k = 0: none). */
    public static LayerSet prefix(int layerCount, int k) {
        if (k < 0 || k > layerCount) throw new IllegalArgumentException("layers: prefix 1.." + k + " is outside 0.." + layerCount);
        int[] l = new int[k];
        for (int i = 0; i < k; i++) l[i] = i;
        return new LayerSet(layerCount, l);
    }

    /**
     * Parses 1-based text: comma-separated layers or ranges {@code a-b}, or {@code all} / {@code none};
     * anything else, or a layer outside 1..layerCount, is a one-line error.
     */
    public static LayerSet parse(String text, int layerCount) {
        String t = text == null ? "" : text.strip().toLowerCase(java.util.Locale.ROOT);
        text = text == null ? "" : text.replace("\r", "\\r").replace("\n", "\\n"); // quoted in messages: keep them one line
        if (t.equals("all")) return all(layerCount);
        if (t.equals("none")) return prefix(layerCount, 0);
        if (t.isEmpty()) throw new IllegalArgumentException("layers: empty; expected e.g. 1-3, 1,4, all or none");
        BitSet set = new BitSet();
        for (String part : t.split(",", -1)) {
            String p = part.strip();
            int dash = p.indexOf('-', 1);
            int lo = number(p.substring(0, dash < 0 ? p.length() : dash), text), hi = dash < 0 ? lo : number(p.substring(dash + 1), text);
            if (lo > hi) throw new IllegalArgumentException("layers '" + text + "': range " + lo + "-" + hi + " runs backwards");
            for (int l = lo; l <= hi; l++) {
                if (l < 1 || l > layerCount) {
                    throw new IllegalArgumentException("layers '" + text + "': layer " + l + " is outside 1.." + layerCount
                            + " (the model has " + layerCount + " layers)");
                }
                set.set(l - 1);
            }
        }
        return new LayerSet(layerCount, set.stream().toArray());
    }

    private static int number(String s, String text) {
        try {
            return Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("layers '" + text + "': '" + s.strip().replace("\r", "\\r").replace("\n", "\\n")
                    + "' is not a layer number; expected e.g. 1-3, 1,4, all or none");
        }
    }

    /** Whether layer {@code l} (0-based) is kept. */
    public boolean contains(int l) { return Arrays.binarySearch(layers, l) >= 0; }

    /** Whether every layer is kept. */
    public boolean isAll() { return layers.length == layerCount; }

    /** A copy of thoughts {@code z} [B, L, m, H] whose groups outside this set are zero (their prior mean). */
    public Tensor keep(Tensor z) {
        if (z.rank() != 4 || z.dim(1) != layerCount) {
            throw new IllegalArgumentException("layers: z " + z.shape() + " is not [B, L = " + layerCount + ", m, H]");
        }
        Tensor out = z.copy();
        int b = z.dim(0), group = z.dim(2) * z.dim(3);
        float[] d = out.data();
        for (int i = 0; i < b; i++) {
            for (int l = 0; l < layerCount; l++) {
                if (!contains(l)) Arrays.fill(d, (i * layerCount + l) * group, (i * layerCount + l + 1) * group, 0f);
            }
        }
        return out;
    }

    /** 1-based text: {@code 1-3}, {@code 1,4}, {@code none}. */
    @Override public String toString() {
        if (layers.length == 0) return "none";
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < layers.length; ) {
            int j = i;
            while (j + 1 < layers.length && layers[j + 1] == layers[j] + 1) j++;
            if (!s.isEmpty()) s.append(',');
            s.append(layers[i] + 1);
            if (j > i) s.append('-').append(layers[j] + 1);
            i = j + 1;
        }
        return s.toString();
    }

    @Override public boolean equals(Object o) {
        return o instanceof LayerSet other && other.layerCount == layerCount && Arrays.equals(other.layers, layers);
    }

    @Override public int hashCode() { return 31 * layerCount + Arrays.hashCode(layers); }
}
