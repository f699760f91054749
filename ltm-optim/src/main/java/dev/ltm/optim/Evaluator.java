package dev.ltm.optim;

import dev.ltm.model.Elbo;
import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.TokenBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Evaluation (spec section 3): fit the posterior of each sequence for T_fast steps, then report
 * the bound per token {@code sum NELBO / sum N} and the perplexity bound {@code exp} of it. With
 * N_z = 0 nothing is fitted and the bound is the plain perplexity.
 */
public final class Evaluator {
    /**
     * One evaluation: T_fast; sum NELBO / sum N and its exp (the perplexity bound); NLL per token;
     * KL per sequence; the authors' mean over sequences of exp(NELBO_i / N_i) (never smaller than the
     * bound); predicted tokens and sequences.
     */
    public record Result(int tFast, double nelboPerToken, double perplexityBound, double nllPerToken, double klPerSequence,
                         double meanSequencePerplexity, long tokens, int sequences) {
        /** One line: {@code T_fast 16: NELBO/token 1.234, PPL bound 3.43, ...}. */
        @Override public String toString() {
            return String.format("T_fast %d: NELBO/token %.4f, PPL bound %.3f, NLL/token %.4f, KL/seq %.3f, mean_i exp(NELBO_i/N_i) "
                    + "%.3f (%d tokens, %d sequences)",
                    tFast, nelboPerToken, perplexityBound, nllPerToken, klPerSequence, meanSequencePerplexity, tokens, sequences);
        }
    }

    private final LatentThoughtModel model;
    private final FastFitter.Settings fast;
    private final long seed;

    /** An evaluator of {@code model} fitting with {@code fast} (its T_fast is replaced per call), seeded by {@code seed}. */
    public Evaluator(LatentThoughtModel model, FastFitter.Settings fast, long seed) {
        this.model = model;
        this.fast = fast;
        this.seed = seed;
    }

    /** Evaluates {@code batches} with T_fast = {@code tFast}. */
    public Result evaluate(List<TokenBatch> batches, int tFast) { return evaluate(batches, tFast, i -> {}); }

    /** Evaluates {@code batches} with T_fast = {@code tFast}, calling {@code afterBatch} with each finished batch's index. */
    public Result evaluate(List<TokenBatch> batches, int tFast, IntConsumer afterBatch) {
        if (batches.isEmpty()) throw new IllegalArgumentException("evaluate: no sequences to evaluate");
        if (tFast < 0) throw new IllegalArgumentException("evaluate: T_fast " + tFast + " must be >= 0");
        FastFitter fitter = new FastFitter(model, fast.withSteps(tFast));
        double nelbo = 0, nll = 0, kl = 0, meanPpl = 0;
        long tokens = 0;
        int sequences = 0;
        for (int i = 0; i < batches.size(); i++) {
            // Each batch's fit has its own generator, so a result does not depend on how many batches came before.
            Elbo e = fitter.fit(batches.get(i), DualRateTrainer.fitRng(seed, i)).elbo();
            // Sums over the rows that predict at least one token: a row of padding alone (a batch
            // filled up at the end) has a KL but no tokens, and would inflate the bound per token.
            for (int s = 0; s < e.tokens().length; s++) {
                if (e.tokens()[s] == 0) continue;
                nelbo += e.nelbo(s);
                nll += e.nll()[s];
                kl += e.kl()[s];
                tokens += e.tokens()[s];
                meanPpl += Math.exp(e.nelbo(s) / e.tokens()[s]);
                sequences++;
            }
            afterBatch.accept(i);
        }
        if (tokens == 0) throw new IllegalArgumentException("evaluate: the sequences hold no predicted tokens");
        double perToken = nelbo / tokens;
        return new Result(tFast, perToken, Math.exp(perToken), nll / tokens, kl / sequences, meanPpl / sequences, tokens, sequences);
    }

    /** The curve "bound vs T_fast": one result per value of {@code tFasts}, in order. */
    public List<Result> sweep(List<TokenBatch> batches, int[] tFasts) {
        List<Result> out = new ArrayList<>();
        for (int t : tFasts) out.add(evaluate(batches, t));
        return out;
    }

    /** The table {@code T_fast | NELBO/token | PPL bound | NLL/token | KL/seq | mean exp(NELBO_i/N_i)} of {@code results}. */
    public static String table(List<Result> results) {
        StringBuilder s = new StringBuilder(String.format("%6s | %11s | %10s | %9s | %8s | %s%n",
                "T_fast", "NELBO/token", "PPL bound", "NLL/token", "KL/seq", "mean_i exp(NELBO_i/N_i) (authors' average)"));
        for (Result r : results) {
            s.append(String.format("%6d | %11.4f | %10.3f | %9.4f | %8.3f | %.3f%n", r.tFast(), r.nelboPerToken(), r.perplexityBound(),
                    r.nllPerToken(), r.klPerSequence(), r.meanSequencePerplexity()));
        }
        return s.toString();
    }
}
