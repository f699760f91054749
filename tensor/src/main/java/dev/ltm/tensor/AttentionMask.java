package dev.ltm.tensor;

/**
 * Which keys each query of an attention call sees (spec section 1): {@link Causal} with a sliding
 * window for self-attention, {@link None} for cross-attention to the thoughts. A type rather than
 * an int, so that "full causal" can never be mistaken for "no mask".
 */
public sealed interface AttentionMask permits AttentionMask.Causal, AttentionMask.None {

    /**
     * Query i sees keys max(0, i - window + 1) .. i; needs as many keys as queries. A window of at
     * least the sequence length is plain (full) causal attention.
     */
    record Causal(int window) implements AttentionMask {
        /** Refuses a window below 1 (a query always sees itself). */
        public Causal {
            if (window < 1) throw new IllegalArgumentException("attention: a causal window must be >= 1, got " + window);
        }

        /** The first key that query {@code i} sees. */
        public int firstKey(int i) { return Math.max(0, i - window + 1); }

        @Override public String toString() { return "causal(" + window + ")"; }
    }

    /** Every query sees every key (cross-attention, or one query against keys already cut to its window). */
    record None() implements AttentionMask {
        @Override public String toString() { return "none"; }
    }

    /** Causal attention with a sliding window of {@code window} keys. */
    static AttentionMask causal(int window) { return new Causal(window); }

    /** No mask. */
    static AttentionMask none() { return new None(); }
}
