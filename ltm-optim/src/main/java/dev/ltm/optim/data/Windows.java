package dev.ltm.optim.data;

/**
 * Packed training windows of {@code windowLength() = seqLen + 1} tokens each, wherever they live:
 * in memory ({@link Packing.Packed}) or read from token shards on disk ({@link ShardWindows}).
 * The model reads {@code tokens(i)[0..seqLen)} and predicts {@code tokens(i)[1..seqLen]}; only
 * targets at positions {@code 1..length(i)-1} count in the loss (the rest is padding).
 */
public interface Windows {
    /** Number of windows. */
    int size();

    /** Tokens per window, {@code seqLen + 1}; 0 when there are no windows. */
    int windowLength();

    /** A fresh copy of window {@code i}'s {@link #windowLength()} tokens, padding included. */
    int[] tokens(int i);

    /** The number of real (non-padding) tokens of window {@code i}. */
    int length(int i);

    /** The index of the document window {@code i} lies in, or -1 when it spans several. */
    int document(int i);

    /** The number of predicted (non-padding) target tokens over all windows. */
    default long targetTokens() {
        long n = 0;
        for (int i = 0; i < size(); i++) n += length(i) - 1;
        return n;
    }

    /** No windows at all (a split without validation documents). */
    static Windows empty() { return new Packing.Packed(new int[0][], new int[0], new int[0]); }
}
