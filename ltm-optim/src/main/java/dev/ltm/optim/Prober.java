package dev.ltm.optim;

import dev.ltm.autograd.NoGrad;
import dev.ltm.autograd.Var;
import dev.ltm.model.Elbo;
import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.Params;
import dev.ltm.model.TokenBatch;
import dev.ltm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Probing the layers (spec section 3): fit z on each sequence, then keep the fitted z_l of a set
 * of layers, replace the others by their prior mean (zero), and measure how well the sequence is
 * reconstructed: token accuracy (argmax of the logits equals the target) and NLL per token.
 * Sweeping the prefixes 1..k shows where the meaning is stored.
 */
public final class Prober {
    /** The reconstruction with {@code layers} kept: token accuracy in [0, 1], NLL per token, predicted tokens. */
    public record Row(LayerSet layers, double accuracy, double nllPerToken, long tokens) {
        @Override public String toString() {
            return String.format("layers %-8s accuracy %.4f  NLL/token %.4f", layers, accuracy, nllPerToken);
        }
    }

    /** The fit's T_fast, then one row per prefix k = 0 (no thoughts) .. L, then one per extra set asked for. */
    public record Report(int tFast, List<Row> prefixes, List<Row> sets) {
        /** The row with every layer kept: the full fitted z. */
        public Row full() { return prefixes.getLast(); }

        /** A table {@code layers | accuracy | NLL/token}. */
        public String table() {
            StringBuilder s = new StringBuilder(String.format("%-10s | %8s | %9s%n", "z layers", "accuracy", "NLL/token"));
            for (List<Row> rows : List.of(prefixes, sets)) {
                for (Row r : rows) s.append(String.format("%-10s | %8.4f | %9.4f%n", r.layers(), r.accuracy(), r.nllPerToken()));
            }
            return s.toString();
        }
    }

    private final LatentThoughtModel model;
    private final FastFitter fitter;
    private final long seed;

    /** A prober of {@code model} fitting with {@code fast}, seeded by {@code seed}. */
    public Prober(LatentThoughtModel model, FastFitter.Settings fast, long seed) {
        if (model.config().latentCount() == 0) {
            throw new IllegalArgumentException("probe: the model has no thoughts (N_z = 0), nothing to probe");
        }
        this.model = model;
        this.fitter = new FastFitter(model, fast);
        this.seed = seed;
    }

    /** Probes the prefixes 0..L and each of {@code extraSets} over {@code batches}. */
    public Report probe(List<TokenBatch> batches, List<LayerSet> extraSets) { return probe(batches, extraSets, i -> {}); }

    /** {@link #probe} calling {@code afterBatch} with each finished batch's index. */
    public Report probe(List<TokenBatch> batches, List<LayerSet> extraSets, IntConsumer afterBatch) {
        if (batches.isEmpty()) throw new IllegalArgumentException("probe: no sequences to probe");
        int layers = model.config().layers();
        List<LayerSet> sets = new ArrayList<>();
        for (int k = 0; k <= layers; k++) sets.add(LayerSet.prefix(layers, k));
        for (LayerSet s : extraSets) {
            if (s.layerCount() != layers) throw new IllegalArgumentException("probe: layer set for " + s.layerCount()
                    + " layers, the model has " + layers);
            sets.add(s);
        }
        long[] correct = new long[sets.size()];
        double[] nll = new double[sets.size()];
        long tokens = 0;
        Params frozen = Params.frozen(model);
        for (int i = 0; i < batches.size(); i++) {
            TokenBatch batch = batches.get(i);
            Tensor z = fitter.fit(batch, DualRateTrainer.fitRng(seed, i)).z();
            tokens += batch.tokenCount();
            try (NoGrad _ = NoGrad.enter()) {
                LatentThoughtModel.Prefix prefix = model.prefix(frozen, batch.inputs());
                for (int s = 0; s < sets.size(); s++) {
                    Var logits = model.logitsFromPrefix(prefix, frozen, Var.constant(sets.get(s).keep(z)));
                    nll[s] += Elbo.measure(logits, batch, null).totalNll();
                    correct[s] += correctTokens(logits.value(), batch);
                }
            }
            afterBatch.accept(i);
        }
        if (tokens == 0) throw new IllegalArgumentException("probe: the sequences hold no predicted tokens");
        List<Row> rows = new ArrayList<>();
        for (int s = 0; s < sets.size(); s++) rows.add(new Row(sets.get(s), (double) correct[s] / tokens, nll[s] / tokens, tokens));
        return new Report(fitter.settings().steps(), List.copyOf(rows.subList(0, layers + 1)),
                List.copyOf(rows.subList(layers + 1, rows.size())));
    }

    /** Predicted positions of {@code batch} where the argmax of logits [B, T, V] is the target. */
    static long correctTokens(Tensor logits, TokenBatch batch) {
        int b = batch.batchSize(), t = batch.length(), v = logits.dim(-1);
        float[] d = logits.data();
        long n = 0;
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                int target = batch.targets()[i][j];
                if (target < 0) continue;
                int row = (i * t + j) * v, best = 0;
                for (int k = 1; k < v; k++) if (d[row + k] > d[row + best]) best = k;
                if (best == target) n++;
            }
        }
        return n;
    }
}
