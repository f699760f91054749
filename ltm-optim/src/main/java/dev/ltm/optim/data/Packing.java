package dev.ltm.optim.data;

import dev.ltm.model.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.List;

/**
 * Turns documents into fixed-length training windows of {@code seqLen + 1} tokens: the model
 * reads {@code window[0..seqLen)} and predicts {@code window[1..seqLen]}. Each document becomes
 * {@code BOS, tokens..., EOS} (spec section 5).
 */
public final class Packing {
    private Packing() {}

    private static final int UNSET = -2;

    /**
     * Packed windows, {@code [count][seqLen + 1]}. {@code lengths[i]} counts the real tokens of
     * window {@code i} (the rest is padding: only targets at positions {@code 1..lengths[i]-1}
     * count in the loss). {@code documents[i]} is the index of the document window {@code i}
     * lies in, or -1 when it spans several.
     */
    public record Packed(int[][] windows, int[] lengths, int[] documents) implements Windows {
        public Packed {
            if (windows.length != lengths.length || windows.length != documents.length) {
                throw new IllegalArgumentException("packed: " + windows.length + " windows but " + lengths.length
                        + " lengths and " + documents.length + " document indices");
            }
        }

        /** Number of windows. */
        @Override public int size() { return windows.length; }

        /** Tokens per window, {@code seqLen + 1}; 0 when there are no windows. */
        @Override public int windowLength() { return windows.length == 0 ? 0 : windows[0].length; }

        @Override public int[] tokens(int i) { return windows[i].clone(); }

        @Override public int length(int i) { return lengths[i]; }

        @Override public int document(int i) { return documents[i]; }

        /** The number of predicted (non-padding) target tokens over all windows. */
        @Override public long targetTokens() {
            long n = 0;
            for (int len : lengths) n += len - 1;
            return n;
        }
    }

    /** {@code BOS, tokenizer.encode(doc)..., EOS}. */
    public static int[] frame(String doc, Tokenizer tokenizer) {
        int[] ids = tokenizer.encode(doc);
        int[] framed = new int[ids.length + 2];
        framed[0] = tokenizer.bos();
        System.arraycopy(ids, 0, framed, 1, ids.length);
        framed[framed.length - 1] = tokenizer.eos();
        return framed;
    }

    /**
     * Frames every document, concatenates them and cuts the stream into consecutive windows of
     * {@code seqLen + 1} tokens; the tail too short for a window is dropped. Throws a
     * {@link DataException} if not even one window fits.
     */
    public static Packed packConcatenated(List<String> docs, Tokenizer tokenizer, int seqLen) {
        checkSeqLen(seqLen);
        int[][] framed = new int[docs.size()][];
        long total = 0;
        for (int d = 0; d < docs.size(); d++) {
            framed[d] = frame(docs.get(d), tokenizer);
            total += framed[d].length;
        }
        int width = seqLen + 1;
        long count = total / width;
        if (count == 0) {
            throw new DataException("corpus too small: " + docs.size() + " documents give " + total
                    + " tokens, one window needs seqLen + 1 = " + width);
        }
        if (count > Integer.MAX_VALUE - 8) throw new DataException("corpus too large: " + count + " windows of " + width + " tokens");
        int[][] windows = new int[(int) count][width];
        int[] lengths = new int[(int) count];
        int[] documents = new int[(int) count];
        Arrays.fill(lengths, width);
        Arrays.fill(documents, UNSET);
        // Walk the documents once, copying each into the windows it overlaps.
        int w = 0, col = 0;
        for (int d = 0; d < framed.length && w < count; d++) {
            int[] doc = framed[d];
            int pos = 0;
            while (pos < doc.length && w < count) {
                int n = Math.min(doc.length - pos, width - col);
                System.arraycopy(doc, pos, windows[w], col, n);
                documents[w] = documents[w] == UNSET || documents[w] == d ? d : -1;
                pos += n;
                col += n;
                if (col == width) { w++; col = 0; }
            }
        }
        return new Packed(windows, lengths, documents);
    }

    /**
     * One window per document: the framed document, truncated to {@code seqLen + 1} tokens or
     * padded with {@code padId}; {@code lengths} gives the real token count of each. For
     * probing, where every window must belong to one story.
     */
    public static Packed packPerDocument(List<String> docs, Tokenizer tokenizer, int seqLen, int padId) {
        checkSeqLen(seqLen);
        if (padId < 0 || padId >= tokenizer.vocabSize()) {
            throw new IllegalArgumentException("packPerDocument: pad id " + padId + " out of range [0, " + tokenizer.vocabSize() + ")");
        }
        int width = seqLen + 1;
        int[][] windows = new int[docs.size()][width];
        int[] lengths = new int[docs.size()];
        int[] documents = new int[docs.size()];
        for (int d = 0; d < docs.size(); d++) {
            int[] doc = frame(docs.get(d), tokenizer);
            int n = Math.min(doc.length, width);
            System.arraycopy(doc, 0, windows[d], 0, n);
            Arrays.fill(windows[d], n, width, padId);
            lengths[d] = n;
            documents[d] = d;
        }
        return new Packed(windows, lengths, documents);
    }

    private static void checkSeqLen(int seqLen) {
        if (seqLen < 1) throw new IllegalArgumentException("packing: seqLen " + seqLen + " must be at least 1");
    }
}
