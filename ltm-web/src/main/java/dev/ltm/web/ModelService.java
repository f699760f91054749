package dev.ltm.web;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.TokenBatch;
import dev.ltm.model.tokenizer.Tokenizer;
import dev.ltm.optim.Checkpoint;
import dev.ltm.optim.Evaluator;
import dev.ltm.optim.FastFitter;
import dev.ltm.optim.Generation;
import dev.ltm.optim.LayerSet;
import dev.ltm.optim.Prober;
import dev.ltm.optim.TrainingData;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One served model: its computations go through a {@link ModelWorker} (one at a time, bounded
 * queue), and the results that do not depend on the request's seed (probe rows per layer set, the
 * bound per T_fast on the held-out documents) are cached, since every fit there is seeded the same.
 */
final class ModelService implements AutoCloseable {
    /** Layer counts up to this get a probe row for every combination of layers (2^L rows). */
    static final int MAX_LAYERS_FOR_ALL_COMBINATIONS = 4;

    /** The probe of one layer set, with the table beside it: every combination when L <= 4, else the prefixes 1..k. */
    record Probe(int tFast, int documents, long tokens, Prober.Row row, List<Prober.Row> table) {}

    private final String name;
    private final ServedModel served;
    private final LatentThoughtModel model;
    private final Tokenizer tokenizer;
    private final FastFitter.Settings fast;
    private final ModelWorker worker;
    private final List<TokenBatch> heldOut;
    private final int documents;
    private final Map<LayerSet, Prober.Row> probeRows = new ConcurrentHashMap<>();
    private final Map<Integer, Evaluator.Result> bounds = new ConcurrentHashMap<>();
    private final AtomicInteger fits = new AtomicInteger();

    ModelService(String name, ServedModel served, List<String> heldOutDocuments, int queue) {
        this.name = name;
        this.served = served;
        Checkpoint c = served.checkpoint();
        this.model = c.model();
        this.tokenizer = c.tokenizer();
        this.fast = c.trainer() != null ? c.trainer().settings().fast() : FastFitter.Settings.defaults();
        this.documents = heldOutDocuments.size();
        this.heldOut = heldOutDocuments.isEmpty() ? List.of()
                : TrainingData.perDocument(heldOutDocuments, tokenizer, model.config().maxSeqLen(), 8);
        this.worker = new ModelWorker(name, queue);
    }

    ServedModel served() { return served; }

    LtmConfig config() { return model.config(); }

    Tokenizer tokenizer() { return tokenizer; }

    /** T_fast the model was trained with: the default of generation, probing and the card. */
    int trainedTFast() { return fast.steps(); }

    int documents() { return documents; }

    ModelWorker worker() { return worker; }

    /** Probe and bound computations actually run (cache misses), for the tests of the caches. */
    int fits() { return fits.get(); }

    /** Generates as {@code options} say, after the computations already queued. */
    Generation.Result generate(String prompt, Generation.Options options) {
        return worker.call(() -> new Generation(model, tokenizer, fast).generate(prompt, options));
    }

    /** The reconstruction of the held-out documents with {@code set} kept (spec section 3, probing), from the cache when there. */
    Probe probe(LayerSet set) {
        if (config().latentCount() == 0) {
            throw ApiException.badRequest("probe: the " + name + " model has no thoughts (N_z = 0), nothing to probe");
        }
        requireHeldOut("probe");
        int layers = config().layers();
        List<LayerSet> table = layers <= MAX_LAYERS_FOR_ALL_COMBINATIONS ? allCombinations(layers) : prefixes(layers);
        if (!probeRows.containsKey(set) || !table.stream().allMatch(probeRows::containsKey)) {
            worker.call(() -> {
                List<LayerSet> missing = new ArrayList<>();
                for (LayerSet s : table) if (!probeRows.containsKey(s)) missing.add(s);
                if (!probeRows.containsKey(set) && !missing.contains(set)) missing.add(set);
                if (missing.isEmpty()) return null;
                fits.incrementAndGet();
                Prober.Report r = new Prober(model, fast, 0).probe(heldOut, missing);
                for (List<Prober.Row> rows : List.of(r.prefixes(), r.sets())) {
                    for (Prober.Row row : rows) probeRows.putIfAbsent(row.layers(), row);
                }
                return null;
            });
        }
        Prober.Row row = probeRows.get(set);
        return new Probe(fast.steps(), documents, row.tokens(), row, table.stream().map(probeRows::get).toList());
    }

    /** The bound of the held-out documents after each of {@code tFasts} fast steps (spec section 3), from the cache when there. */
    List<Evaluator.Result> bounds(int[] tFasts) {
        requireHeldOut("bound");
        boolean cached = true;
        for (int t : tFasts) cached &= bounds.containsKey(t);
        if (!cached) {
            worker.call(() -> {
                Evaluator evaluator = new Evaluator(model, fast, 0);
                for (int t : tFasts) {
                    if (bounds.containsKey(t)) continue;
                    fits.incrementAndGet();
                    bounds.put(t, evaluator.evaluate(heldOut, t));
                }
                return null;
            });
        }
        List<Evaluator.Result> out = new ArrayList<>();
        for (int t : tFasts) out.add(bounds.get(t));
        return out;
    }

    private void requireHeldOut(String what) {
        if (heldOut.isEmpty()) {
            throw ApiException.badRequest(what + ": no held-out documents to measure on"
                    + " (the checkpoint names no corpus of its own: start serve with --data)");
        }
    }

    /** Every subset of the layers, the smaller first, then in order of their layers: none, 1, 2, 1,2, ... */
    static List<LayerSet> allCombinations(int layers) {
        List<LayerSet> sets = new ArrayList<>();
        for (int mask = 0; mask < 1 << layers; mask++) {
            int[] kept = new int[Integer.bitCount(mask)];
            for (int l = 0, i = 0; l < layers; l++) if ((mask & 1 << l) != 0) kept[i++] = l;
            sets.add(new LayerSet(layers, kept));
        }
        sets.sort(Comparator.<LayerSet>comparingInt(s -> s.layers().length).thenComparing(s -> s.layers(), java.util.Arrays::compare));
        return sets;
    }

    private static List<LayerSet> prefixes(int layers) {
        List<LayerSet> sets = new ArrayList<>();
        for (int k = 0; k <= layers; k++) sets.add(LayerSet.prefix(layers, k));
        return sets;
    }

    @Override public void close() { worker.close(); }
}
