package dev.ltm.cli;

import dev.ltm.model.TokenBatch;
import dev.ltm.optim.Checkpoint;
import dev.ltm.optim.Evaluator;
import dev.ltm.optim.TrainingData;
import dev.ltm.tensor.Backend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ltm eval}: the bound per token and the perplexity bound for a list of T_fast values (spec section 3). */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluate a checkpoint: fit the posterior of each sequence for T_fast steps and report NELBO/token "
                + "and the perplexity bound.")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "Checkpoint folder.")
    Path checkpoint;
    @Option(names = "--data",
            description = "A .txt/.md/.jsonl file or folder, or a folder of prepared shards; default: the validation split of the "
                    + "checkpoint's own training data.")
    String data;
    @Option(names = "--t-fast", description = "Comma-separated T_fast values, e.g. 0,1,2,4,8,16,32; default: the checkpoint's T_fast.")
    String tFast;
    @Option(names = "--batch", defaultValue = "8", description = "Sequences per fit (default: ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--max-batches", defaultValue = "0",
            description = "Evaluate at most this many batches, 0 = all (default: ${DEFAULT-VALUE}).")
    int maxBatches;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of the fits (default: ${DEFAULT-VALUE}).")
    long seed;
    @Mixin DeviceOption device;

    @Override public Integer call() {
        Backend backend = device.select();
        int[] tFasts = tFast == null ? null : Common.intList("--t-fast", tFast);
        if (batch < 1) throw new IllegalArgumentException("--batch " + batch + " must be >= 1");
        Checkpoint c = Common.load(checkpoint, backend);
        if (tFasts == null) tFasts = new int[] {Common.fast(c).steps()};
        List<TokenBatch> batches = TrainingData.inOrder(Common.windows(c, data, "concatenated"), batch, maxBatches);
        Evaluator evaluator = new Evaluator(c.model(), Common.fast(c), seed);
        List<Evaluator.Result> results = new ArrayList<>();
        try (Progress progress = new Progress("eval", 0, (long) tFasts.length * batches.size())) {
            for (int t : tFasts) {
                int done = results.size() * batches.size();
                results.add(evaluator.evaluate(batches, t, i -> progress.update(done + i + 1, "T_fast " + t)));
            }
        }
        Evaluator.Result first = results.getFirst();
        System.out.printf("%d sequences, %d predicted tokens%n", first.sequences(), first.tokens());
        System.out.print(Evaluator.table(results));
        return 0;
    }
}
