package dev.ltm.model;

import java.util.Arrays;

/**
 * A batch of B sequences of T positions: {@code inputs[b][t]} is the token read at position t and
 * {@code targets[b][t]} the next token to predict there, or a negative value (padding) that is
 * not predicted. Pad at the end of a sequence: causal attention then keeps padding out of the real
 * predictions.
 */
public record TokenBatch(int[][] inputs, int[][] targets) {

    /** Checks that both arrays are [B][T] with B, T > 0 and that inputs are non-negative. */
    public TokenBatch {
        if (inputs.length == 0 || inputs.length != targets.length) {
            throw new IllegalArgumentException("TokenBatch: " + inputs.length + " input rows and " + targets.length
                    + " target rows: expected the same B > 0");
        }
        int t = inputs[0].length;
        if (t == 0) throw new IllegalArgumentException("TokenBatch: sequences are empty");
        for (int b = 0; b < inputs.length; b++) {
            if (inputs[b].length != t || targets[b].length != t) {
                throw new IllegalArgumentException("TokenBatch: row " + b + " has " + inputs[b].length + " inputs and "
                        + targets[b].length + " targets, expected " + t + " of each");
            }
            for (int x : inputs[b]) {
                if (x < 0) throw new IllegalArgumentException("TokenBatch: negative input token " + x + " in row " + b);
            }
        }
    }

    /**
     * Next-token pairs from sequences of T+1 tokens: inputs = seq[0..T), targets = seq[1..T].
     * Negative tokens are padding: never predicted, and read as token 0 where they are inputs.
     */
    public static TokenBatch shifted(int[][] sequences) {
        int[][] in = new int[sequences.length][], out = new int[sequences.length][];
        for (int b = 0; b < sequences.length; b++) {
            int[] s = sequences[b];
            if (s.length < 2) throw new IllegalArgumentException("TokenBatch.shifted: row " + b + " has " + s.length
                    + " tokens, needs >= 2");
            in[b] = Arrays.copyOf(s, s.length - 1);
            for (int t = 0; t < in[b].length; t++) in[b][t] = Math.max(0, in[b][t]);
            out[b] = Arrays.copyOfRange(s, 1, s.length);
            for (int t = 0; t < out[b].length; t++) out[b][t] = Math.max(-1, out[b][t]);
        }
        return new TokenBatch(in, out);
    }

    /** B, the number of sequences. */
    public int batchSize() { return inputs.length; }

    /** T, the positions per sequence. */
    public int length() { return inputs[0].length; }

    /** Predicted tokens (non-negative targets) of each sequence. */
    public int[] tokenCounts() {
        int[] n = new int[inputs.length];
        for (int b = 0; b < n.length; b++) for (int x : targets[b]) if (x >= 0) n[b]++;
        return n;
    }

    /** Predicted tokens in the whole batch. */
    public long tokenCount() {
        long n = 0;
        for (int c : tokenCounts()) n += c;
        return n;
    }

    /** The targets flattened row-major to [B*T]. */
    public int[] flatTargets() {
        int t = length();
        int[] flat = new int[inputs.length * t];
        for (int b = 0; b < inputs.length; b++) System.arraycopy(targets[b], 0, flat, b * t, t);
        return flat;
    }
}
