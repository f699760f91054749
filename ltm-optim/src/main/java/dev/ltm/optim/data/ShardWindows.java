package dev.ltm.optim.data;

import java.util.Arrays;

/**
 * Windows over documents of a prepared corpus, read from its memory-mapped shards when asked for,
 * by the same rules as {@link Packing}: {@link Dataset.Layout#CONCATENATED} cuts the selected
 * documents, back to back, into consecutive windows of {@code seqLen + 1} tokens (the short tail
 * dropped); {@link Dataset.Layout#PER_DOCUMENT} gives one window per document, truncated or padded
 * with EOS. Only the documents' offsets live in the heap, never their tokens.
 */
final class ShardWindows implements Windows {
    private final TokenShards.Selection docs;
    private final Dataset.Layout layout;
    private final int width;
    private final int count;
    /** CONCATENATED: {@code offsets[j]} is where entry {@code j} starts in the selection's own stream; the last is its length. */
    private final long[] offsets;

    ShardWindows(TokenShards.Selection docs, int seqLen, Dataset.Layout layout) {
        if (seqLen < 1) throw new IllegalArgumentException("packing: seqLen " + seqLen + " must be at least 1");
        this.docs = docs;
        this.layout = layout;
        this.width = seqLen + 1;
        if (layout == Dataset.Layout.PER_DOCUMENT) {
            this.offsets = null;
            this.count = docs.count();
            return;
        }
        offsets = new long[docs.count() + 1];
        for (int j = 0; j < docs.count(); j++) offsets[j + 1] = offsets[j] + (docs.end(j) - docs.start(j));
        long total = offsets[docs.count()];
        long n = total / width;
        if (n == 0) {
            throw new DataException("corpus too small: " + docs.count() + " documents give " + total
                    + " tokens, one window needs seqLen + 1 = " + width);
        }
        if (n > Integer.MAX_VALUE - 8) throw new DataException("corpus too large: " + n + " windows of " + width + " tokens");
        this.count = (int) n;
    }

    @Override public int size() { return count; }

    @Override public int windowLength() { return count == 0 ? 0 : width; }

    @Override public int[] tokens(int i) {
        java.util.Objects.checkIndex(i, count);
        int[] out = new int[width];
        if (layout == Dataset.Layout.PER_DOCUMENT) {
            int n = length(i);
            docs.corpus().read(docs.start(i), n, out, 0);
            Arrays.fill(out, n, width, docs.corpus().eos());
            return out;
        }
        long pos = (long) i * width;
        int j = entryAt(pos), done = 0;
        while (done < width) {
            long inDoc = pos + done - offsets[j];
            int take = (int) Math.min(width - done, offsets[j + 1] - offsets[j] - inDoc);
            docs.corpus().read(docs.start(j) + inDoc, take, out, done);
            done += take;
            j++;
        }
        return out;
    }

    @Override public int length(int i) {
        java.util.Objects.checkIndex(i, count);
        return layout == Dataset.Layout.PER_DOCUMENT ? (int) Math.min(width, docs.end(i) - docs.start(i)) : width;
    }

    @Override public int document(int i) {
        java.util.Objects.checkIndex(i, count);
        if (layout == Dataset.Layout.PER_DOCUMENT) return docs.ids()[i];
        long pos = (long) i * width;
        int j = entryAt(pos);
        return pos + width <= offsets[j + 1] ? docs.ids()[j] : -1;
    }

    /** The entry whose tokens hold stream position {@code pos}. */
    private int entryAt(long pos) {
        int j = Arrays.binarySearch(offsets, pos); // offsets strictly increase: the index check rules out empty documents
        return j >= 0 ? j : -j - 2;
    }
}
