package dev.ltm.cli;

import dev.ltm.model.TokenBatch;
import dev.ltm.optim.Checkpoint;
import dev.ltm.optim.LayerSet;
import dev.ltm.optim.Prober;
import dev.ltm.optim.TrainingData;
import dev.ltm.optim.data.DataException;
import dev.ltm.optim.data.Dataset;
import dev.ltm.tensor.Backend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ltm probe}: reconstruction with the fitted thoughts of layers 1..k only (spec section 3). */
@Command(name = "probe", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Probe what each layer's thoughts carry: fit z per document, keep z of layers 1..k (others zero) "
                + "and report accuracy and NLL.")
final class ProbeCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "Checkpoint folder.")
    Path checkpoint;
    @Option(names = "--data",
            description = "A .txt/.md/.jsonl file or folder, or a folder of prepared shards, one window per document; default: the "
                    + "checkpoint's validation documents.")
    String data;
    @Option(names = "--t-fast", defaultValue = "-1", description = "Fast steps per fit; default: the checkpoint's T_fast.")
    int tFast;
    @Option(names = "--layers", description = "Extra layer sets to report, 1-based, repeatable: --layers 1,4 --layers 2-3.")
    List<String> layers = new ArrayList<>();
    @Option(names = "--max-docs", defaultValue = "64", description = "Documents to probe at most (default: ${DEFAULT-VALUE}).")
    int maxDocs;
    @Option(names = "--batch", defaultValue = "8", description = "Documents per fit (default: ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of the fits (default: ${DEFAULT-VALUE}).")
    long seed;
    @Mixin DeviceOption device;

    @Override public Integer call() {
        Backend backend = device.select();
        if (batch < 1 || maxDocs < 1) throw new IllegalArgumentException("--batch " + batch + " and --max-docs " + maxDocs
                + " must be >= 1");
        Checkpoint c = Common.load(checkpoint, backend);
        int layerCount = c.config().model().layers();
        List<LayerSet> sets = new ArrayList<>();
        for (String s : layers) sets.add(LayerSet.parse(s, layerCount));
        Prober prober = new Prober(c.model(), Common.fast(c).withSteps(Common.tFast(c, tFast)), seed);
        List<String> docs = documents(c);
        List<TokenBatch> batches = TrainingData.perDocument(docs, c.tokenizer(), c.config().model().maxSeqLen(), batch);
        Prober.Report report;
        try (Progress progress = new Progress("probe", 0, batches.size())) {
            report = prober.probe(batches, sets, i -> progress.update(i + 1, ""));
        }
        System.out.printf("%d documents, T_fast %d, z of the layers listed kept, the others set to their prior mean 0%n", docs.size(),
                report.tFast());
        System.out.print(report.table());
        return 0;
    }

    private List<String> documents(Checkpoint c) {
        List<String> all;
        if (data != null) {
            all = TrainingData.documents(new Checkpoint.DataSpec(data, 0, 0, 1, 0, "per_document"), c.tokenizer());
        } else {
            Checkpoint.DataSpec spec = c.config().data();
            if (spec == null || spec.source().startsWith("memory:")) {
                throw new DataException("the checkpoint names no corpus of its own: give --data");
            }
            List<String> docs = TrainingData.documents(spec, c.tokenizer());
            if (spec.valFraction() > 0 && docs.size() > 1) {
                List<String> val = new ArrayList<>();
                for (int i : Dataset.split(docs.size(), spec.valFraction(), spec.seed()).validation()) val.add(docs.get(i));
                all = val;
            } else {
                all = docs;
            }
        }
        return all.subList(0, Math.min(maxDocs, all.size()));
    }
}
