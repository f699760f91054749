package dev.ltm.optim.data;

import dev.ltm.model.tokenizer.Tokenizer;
import dev.ltm.tensor.Rng;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Packed training and validation windows for one tokenizer and sequence length, in memory
 * ({@link #build}) or read from token shards on disk ({@link #fromShards}). The split is by
 * document, so no document has windows on both sides; {@link Windows#document} on each side
 * indexes the original document list.
 */
public record Dataset(String tokenizer, int seqLen, Windows train, Windows validation) {

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
        Windows val = split.validation().length == 0
                ? Windows.empty()
                : pack(all, split.validation(), tokenizer, seqLen, layout, "validation");
        return new Dataset(tokenizer.name(), seqLen, train, val);
    }

    /**
     * The same split and packing as {@link #build}, over the documents of a prepared corpus, read from
     * its memory-mapped shards. A corpus of a single document is cut in two at the token
     * {@code round((1 - valFraction) * tokens)} (in memory the cut is at a line break of the text).
     */
    public static Dataset fromShards(TokenShards corpus, int seqLen, double valFraction, long seed, Layout layout) {
        TokenShards.Selection all = corpus.documents();
        if (all.count() == 1 && valFraction > 0) all = all.cutInTwo(valFraction);
        Split split = split(all.count(), valFraction, seed);
        Windows train = shardWindows(all.select(split.train()), seqLen, layout, "training");
        Windows val = split.validation().length == 0 ? Windows.empty() : shardWindows(all.select(split.validation()), seqLen,
                layout, "validation");
        return new Dataset(corpus.tokenizer(), seqLen, train, val);
    }

    /** Every document of a prepared corpus, in stored order, packed in {@code layout} (no split). */
    public static Windows pack(TokenShards corpus, int seqLen, Layout layout) {
        return new ShardWindows(corpus.documents(), seqLen, layout);
    }

    private static Windows shardWindows(TokenShards.Selection docs, int seqLen, Layout layout, String side) {
        try {
            return new ShardWindows(docs, seqLen, layout);
        } catch (DataException e) {
            throw new DataException(side + " split: " + e.getMessage(), e);
        }
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
