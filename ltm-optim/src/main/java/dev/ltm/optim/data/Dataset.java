package dev.ltm.optim.data;

import dev.ltm.model.tokenizer.Tokenizer;
import dev.ltm.tensor.Rng;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Packed training and validation windows for one tokenizer and sequence length. The split is
 * by document, so no document has windows on both sides; {@code documents} in each
 * {@link Packing.Packed} index the original document list.
 */
public record Dataset(String tokenizer, int seqLen, Packing.Packed train, Packing.Packed validation) {

    /** How documents become windows. */
    public enum Layout {
        /** Documents back to back, cut into full windows ({@link Packing#packConcatenated}). */
        CONCATENATED,
        /** One window per document, padded with EOS or truncated ({@link Packing#packPerDocument}). */
        PER_DOCUMENT
    }

    /** Document indices of each side of a split, each in increasing order. */
    public record Split(int[] train, int[] validation) {}

    /**
     * Chooses the validation documents: a seeded shuffle of the indices {@code 0..n-1}, whose last
     * {@code round(valFraction * n)} (at least 1 when {@code valFraction > 0}, at most {@code n - 1})
     * go to validation.
     */
    public static Split split(int n, double valFraction, long seed) {
        if (!(valFraction >= 0 && valFraction < 1)) {
            throw new IllegalArgumentException("split: valFraction " + valFraction + " must be in [0, 1)");
        }
        int nVal = valFraction == 0 ? 0 : (int) Math.max(1, Math.min(n - 1, Math.round(valFraction * n)));
        if (nVal > 0 && n < 2) throw new DataException("split: " + n + " document(s) cannot give both a training and a validation part");
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Rng rng = new Rng(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i]; order[i] = order[j]; order[j] = t;
        }
        int[] train = Arrays.copyOfRange(order, 0, n - nVal);
        int[] val = Arrays.copyOfRange(order, n - nVal, n);
        Arrays.sort(train);
        Arrays.sort(val);
        return new Split(train, val);
    }

    /**
     * Splits {@code docs} by document ({@link #split}), then packs each side with {@code layout}.
     * A corpus of a single document (one big text file) is first cut in two just after the last line
     * break before {@code 1 - valFraction} of its length (or the first after, or there): the head is document 0, the tail document 1.
     */
    public static Dataset build(List<String> docs, Tokenizer tokenizer, int seqLen, double valFraction, long seed, Layout layout) {
        if (docs.isEmpty()) throw new DataException("dataset: no documents");
        List<String> all = docs.size() == 1 && valFraction > 0 ? cutInTwo(docs.getFirst(), valFraction) : docs;
        Split split = split(all.size(), valFraction, seed);
        Packing.Packed train = pack(all, split.train(), tokenizer, seqLen, layout, "training");
        Packing.Packed val = split.validation().length == 0
                ? new Packing.Packed(new int[0][], new int[0], new int[0])
                : pack(all, split.validation(), tokenizer, seqLen, layout, "validation");
        return new Dataset(tokenizer.name(), seqLen, train, val);
    }

    private static Packing.Packed pack(List<String> all, int[] indices, Tokenizer tokenizer, int seqLen, Layout layout, String side) {
        List<String> docs = new ArrayList<>(indices.length);
        for (int i : indices) docs.add(all.get(i));
        Packing.Packed p;
        try {
            p = switch (layout) {
                case CONCATENATED -> Packing.packConcatenated(docs, tokenizer, seqLen);
                case PER_DOCUMENT -> Packing.packPerDocument(docs, tokenizer, seqLen, tokenizer.eos());
            };
        } catch (DataException e) {
            throw new DataException(side + " split: " + e.getMessage(), e);
        }
        // Map positions in the sub-list back to indices in the original list.
        int[] documents = p.documents().clone();
        for (int w = 0; w < documents.length; w++) if (documents[w] >= 0) documents[w] = indices[documents[w]];
        return new Packing.Packed(p.windows(), p.lengths(), documents);
    }

    private static List<String> cutInTwo(String text, double valFraction) {
        int target = (int) Math.round(text.length() * (1 - valFraction));
        int cut = text.lastIndexOf('\n', target - 1) + 1; // just after the last line break before the target
        if (cut <= 0) cut = text.indexOf('\n', target) + 1;
        if (cut <= 0 || cut >= text.length()) cut = target;
        if (cut > 0 && cut < text.length() && Character.isLowSurrogate(text.charAt(cut))) cut--; // never split a code point
        if (cut <= 0 || cut >= text.length()) {
            throw new DataException("split: a single document of " + text.length() + " characters is too short to split");
        }
        return List.of(text.substring(0, cut), text.substring(cut));
    }
}
