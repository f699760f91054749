package dev.ltm.model;

import static dev.ltm.autograd.Ops.add;
import static dev.ltm.autograd.Ops.crossEntropy;
import static dev.ltm.autograd.Ops.reshape;

import dev.ltm.autograd.Var;
import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;

/**
 * The negative evidence lower bound of each sequence of a batch (spec section 2):
 * NELBO_i = nll[i] + kl[i], where nll is the sum (not the mean) of the next-token negative
 * log-likelihoods over the sequence's {@code tokens[i]} predicted tokens.
 */
public record Elbo(double[] nll, double[] kl, int[] tokens) {

    /** Checks that the three arrays have one entry per sequence. */
    public Elbo {
        if (nll.length != kl.length || nll.length != tokens.length) {
            throw new IllegalArgumentException("Elbo: " + nll.length + " NLLs, " + kl.length + " KLs, " + tokens.length
                    + " token counts differ");
        }
    }

    /** Sum over the batch of the token NLL: logits [B, T, V] against the batch's targets (padding ignored). */
    public static Var nllSum(Var logits, TokenBatch batch) {
        int rows = batch.batchSize() * batch.length();
        Var flat = reshape(logits, rows, logits.shape().dim(-1));
        return crossEntropy(flat, batch.flatTargets(), flat.value().backend().full(Shape.of(rows), 1f));
    }

    /** The fast fit's loss: sum over the batch of (token NLL sum + KL) (spec section 2). */
    public static Var negativeBound(Var logits, TokenBatch batch, Posterior q) {
        return add(nllSum(logits, batch), q.kl());
    }

    /** The per-sequence values at logits [B, T, V] and the posterior q (null: KL 0, for N_z = 0). */
    public static Elbo measure(Var logits, TokenBatch batch, Posterior q) {
        int b = batch.batchSize(), t = batch.length();
        Tensor flat = logits.value().reshape(b * t, logits.shape().dim(-1));
        float[] rows = flat.backend().crossEntropy(flat, batch.flatTargets()).read();
        double[] nll = new double[b];
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) nll[i] += rows[i * t + j];
        double[] kl = q == null ? new double[b] : q.klPerSequence();
        return new Elbo(nll, kl, batch.tokenCounts());
    }

    /** NELBO of sequence i. */
    public double nelbo(int i) { return nll[i] + kl[i]; }

    /** Sum of NELBO over the batch. */
    public double totalNelbo() {
        double s = 0;
        for (int i = 0; i < nll.length; i++) s += nelbo(i);
        return s;
    }

    /** Sum of the token NLL over the batch. */
    public double totalNll() {
        double s = 0;
        for (double x : nll) s += x;
        return s;
    }

    /** Sum of the KL over the batch. */
    public double totalKl() {
        double s = 0;
        for (double x : kl) s += x;
        return s;
    }

    /** Predicted tokens in the batch. */
    public long totalTokens() {
        long n = 0;
        for (int x : tokens) n += x;
        return n;
    }

    /** sum NELBO / sum N (spec section 3). */
    public double nelboPerToken() { return totalNelbo() / Math.max(1, totalTokens()); }

    /** The perplexity bound exp(sum NELBO / sum N). */
    public double perplexityBound() { return Math.exp(nelboPerToken()); }
}
