package dev.ltm.model;

import dev.ltm.autograd.NoGrad;
import dev.ltm.autograd.Ops;
import dev.ltm.autograd.Var;
import dev.ltm.tensor.AttentionMask;
import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;
import java.util.Arrays;

/**
 * Token-by-token decoding with a key/value cache (spec section 3): each layer keeps the keys and
 * values of the tokens seen so far, and the keys and values of its thought group z_l are computed
 * once, so a new token costs O(W*H + N_z*H + H^2) per layer instead of a full forward pass.
 * Thoughts are fixed during decoding: pass the posterior sample, mu, or a prior draw.
 */
public final class Generator {
    private final LatentThoughtModel model;
    private final LtmConfig c;
    private final Params p;

    /** A generator over {@code model}'s current weights. */
    public Generator(LatentThoughtModel model) {
        this.model = model;
        this.c = model.config();
        this.p = Params.frozen(model);
    }

    /**
     * Continues {@code prompt} (at least one token, fewer than maxSeqLen) by up to {@code maxNewTokens}
     * tokens given thoughts {@code z} [1, L, m, H] (null when N_z = 0), stopping early after
     * {@code stopToken} (or never when it is negative) or at maxSeqLen. Returns only the new tokens.
     */
    public int[] generate(int[] prompt, Tensor z, int maxNewTokens, Sampling sampling, Rng rng, int stopToken) {
        checkPrompt(prompt, maxNewTokens);
        try (NoGrad _ = NoGrad.enter()) {
            Cache cache = new Cache(z);
            float[] logits = null;
            for (int i = 0; i < prompt.length; i++) logits = cache.step(prompt[i]);
            return decode(prompt.length, logits, maxNewTokens, sampling, rng, stopToken, cache::step);
        }
    }

    /**
     * The same decoding without a cache: every new token reruns the full forward pass over the whole
     * sequence. The reference that {@link #generate} must equal token for token.
     */
    public int[] generateUncached(int[] prompt, Tensor z, int maxNewTokens, Sampling sampling, Rng rng, int stopToken) {
        checkPrompt(prompt, maxNewTokens);
        try (NoGrad _ = NoGrad.enter()) {
            Var zv = z == null ? null : Var.constant(z);
            int[] seq = Arrays.copyOf(prompt, prompt.length + maxNewTokens);
            int[] len = {prompt.length};
            Step full = token -> {
                seq[len[0]++] = token;
                return lastLogits(Arrays.copyOf(seq, len[0]), zv);
            };
            return decode(prompt.length, lastLogits(prompt, zv), maxNewTokens, sampling, rng, stopToken, full);
        }
    }

    /** Logits [V] of the last position of {@code tokens} by the full forward pass. */
    float[] lastLogits(int[] tokens, Var z) {
        Tensor all = model.logits(p, new int[][] {tokens}, z).value();
        int v = c.vocabSize();
        return Arrays.copyOfRange(all.data(), (tokens.length - 1) * v, tokens.length * v);
    }

    private interface Step { float[] next(int token); }

    private int[] decode(int length, float[] logits, int maxNew, Sampling sampling, Rng rng, int stop, Step step) {
        int[] out = new int[Math.min(maxNew, c.maxSeqLen() - length)]; // decoding stops at the context's end anyway
        int n = 0;
        while (n < out.length) {
            int token = sampling.next(logits, rng);
            out[n++] = token;
            if (token == stop || length + n >= c.maxSeqLen()) break;
            logits = step.next(token);
        }
        return Arrays.copyOf(out, n);
    }

    private void checkPrompt(int[] prompt, int maxNewTokens) {
        if (prompt.length == 0) throw new IllegalArgumentException("generate: the prompt is empty (give at least one token, e.g. BOS)");
        if (prompt.length >= c.maxSeqLen()) {
            throw new IllegalArgumentException("generate: prompt of " + prompt.length + " tokens leaves no room in the context of "
                    + c.maxSeqLen() + " tokens");
        }
        if (maxNewTokens < 0) throw new IllegalArgumentException("generate: maxNewTokens " + maxNewTokens + " is negative");
    }

    /** Per-layer caches of one sequence: self-attention keys/values by position, and z's keys/values. */
    private final class Cache {
        private final Tensor[] keys, values;
        private final DecoderLayer.ThoughtKeys[] thoughts;
        private int length;

        Cache(Tensor z) {
            int layers = c.layers();
            keys = new Tensor[layers];
            values = new Tensor[layers];
            thoughts = new DecoderLayer.ThoughtKeys[layers];
            Shape kv = Shape.of(1, c.maxSeqLen(), c.kvHeads(), c.headDim());
            Var zv = null;
            if (c.latentCount() > 0) {
                Shape want = Shape.of(1, c.layers(), c.latentsPerLayer(), c.width());
                if (z == null || !z.shape().equals(want)) {
                    throw new IllegalArgumentException("generate: z " + (z == null ? "null" : z.shape()) + ", expected " + want);
                }
                zv = Var.constant(z);
            }
            for (int l = 0; l < layers; l++) {
                keys[l] = model.backend().zeros(kv);
                values[l] = model.backend().zeros(kv);
                thoughts[l] = model.thoughtKeys(p, zv, l); // computed once per generation; null when N_z = 0
            }
        }

        /** Feeds one token at the next position and returns the logits [V] for the position after it. */
        float[] step(int token) {
            int pos = length++;
            int[] at = {pos};
            Var x = model.embed(p, new int[][] {{token}});
            for (int l = 0; l < c.layers(); l++) x = model.layer(l).forward(p, x, at, cached(l, pos), thoughts[l]);
            return model.head(p, x).value().read();
        }

        /**
         * Layer l's self-attention at position pos: adds this token's k and v to the cache and attends to the
         * cached keys the causal window shows (spec 1: token i sees max(0, i-W+1)..i), so no further mask.
         */
        private DecoderLayer.SelfKeys cached(int l, int pos) {
            int lo = c.selfAttentionMask().firstKey(pos);
            int row = c.kvHeads() * c.headDim();
            return (q, k, v) -> {
                keys[l].write((long) pos * row, k.value());       // stays on the model's device
                values[l].write((long) pos * row, v.value());
                Var kw = Var.constant(keys[l].slice(1, lo, pos + 1)), vw = Var.constant(values[l].slice(1, lo, pos + 1));
                return Ops.attention(q, kw, vw, AttentionMask.none());
            };
        }
    }
}
