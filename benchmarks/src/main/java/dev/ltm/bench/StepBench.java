package dev.ltm.bench;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.TokenBatch;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.FastFitter;
import dev.ltm.tensor.Parallel;
import dev.ltm.tensor.Rng;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Arrays;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bench step}: one dual-rate training step of a scaled-down reference config (spec section 5)
 * on a batch of B sequences, once per micro-batch size: tokens per second and the peak heap of the
 * measured step, so that memory can be seen to follow the micro-batch, not the batch.
 */
@Command(name = "step", mixinStandardHelpOptions = true,
        description = "A reference-config training step with micro-batches: tokens/s and peak heap per micro-batch size.")
final class StepBench implements Runnable {
    @Spec CommandSpec spec;

    @Option(names = "--layers", defaultValue = "2", description = "L (default ${DEFAULT-VALUE}).") int layers;
    @Option(names = "--width", defaultValue = "128", description = "H (default ${DEFAULT-VALUE}).") int width;
    @Option(names = "--heads", defaultValue = "4", description = "attention heads (default ${DEFAULT-VALUE}).") int heads;
    @Option(names = "--seq-len", defaultValue = "256", description = "N (default ${DEFAULT-VALUE}).") int seqLen;
    @Option(names = "--window", defaultValue = "64",
            description = "sliding window, N/4 like the paper's 256 of 1024 (default ${DEFAULT-VALUE}).")
    int window;
    @Option(names = "--latents", defaultValue = "8", description = "N_z (default ${DEFAULT-VALUE}).") int latents;
    @Option(names = "--t-fast", defaultValue = "16", description = "T_fast (default ${DEFAULT-VALUE}).") int tFast;
    @Option(names = "--vocab", defaultValue = "258", description = "vocabulary, 258 = byte-level (default ${DEFAULT-VALUE}).") int vocab;
    @Option(names = "--batch", defaultValue = "64", description = "B, sequences per slow step (default ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--micro-batch", defaultValue = "8,64", split = ",",
            description = "micro-batch sizes M to measure, each dividing B (default ${DEFAULT-VALUE}).")
    int[] micro;
    @Option(names = "--warmup", defaultValue = "1",
            description = "untimed steps on one smallest micro-batch before the measurements, for the JIT (default ${DEFAULT-VALUE}).")
    int warmup;

    @Override public void run() {
        for (int m : micro) {
            if (m < 1 || batch % m != 0) {
                throw new ParameterException(spec.commandLine(), "step: micro-batch " + m + " does not divide --batch " + batch);
            }
        }
        if (warmup < 0) throw new ParameterException(spec.commandLine(), "step: --warmup must be >= 0");
        LtmConfig config;
        try {
            config = LtmConfig.builder().vocabSize(vocab).width(width).layers(layers).heads(heads).latentCount(latents)
                    .maxSeqLen(seqLen).window(window).build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "step: " + e.getMessage());
        }
        Rng rng = new Rng(7);
        int[][] seqs = new int[batch][seqLen + 1];
        for (int[] row : seqs) for (int t = 0; t < row.length; t++) row[t] = rng.nextInt(vocab);
        TokenBatch tokens = TokenBatch.shifted(seqs);
        System.out.printf(Locale.ROOT, "bench step: V=%d H=%d L=%d heads=%d N_z=%d N=%d window=%d T_fast=%d, B=%d; %d threads;"
                + " max heap %d MiB%n", vocab, width, layers, heads, latents, seqLen, window, tFast, batch, Parallel.threads(),
                Runtime.getRuntime().maxMemory() >> 20);
        int smallest = Arrays.stream(micro).min().orElseThrow();
        warmUp(config, new TokenBatch(Arrays.copyOf(tokens.inputs(), smallest), Arrays.copyOf(tokens.targets(), smallest)));
        for (int m : micro) {
            DualRateTrainer trainer = trainer(config, m, 1);
            System.gc();
            resetPeaks();
            long t0 = System.nanoTime();
            DualRateTrainer.Step step = trainer.step(tokens);
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "step B=%d M=%d: %.1f s, %.0f tokens/s, peak heap %d MiB (sum of the heap pools' peaks),"
                    + " loss %.3f%n", batch, m, seconds, step.tokens() / seconds, peakHeap() >> 20, step.loss());
        }
    }

    /**
     * The untimed steps, on a trainer of their own that is unreachable once they are done: a trainer keeps its steps'
     * tensors' storage (its TensorArena) for its life, which would count against the timed steps' heap.
     */
    private void warmUp(LtmConfig config, TokenBatch few) {
        DualRateTrainer warm = trainer(config, 0, warmup + 1);
        for (int i = 0; i < warmup; i++) warm.step(few);
    }

    private DualRateTrainer trainer(LtmConfig config, int m, int steps) {
        return new DualRateTrainer(new LatentThoughtModel(config, new Rng(1)), DualRateTrainer.Settings.defaults(0, steps, 3)
                .withFast(FastFitter.Settings.defaults().withSteps(tFast)).withMicroBatch(m));
    }

    private static void resetPeaks() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) if (p.getType() == MemoryType.HEAP) p.resetPeakUsage();
    }

    /** The heap pools' peak use since the reset, added up: an upper bound on what was alive at once. */
    private static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) sum += p.getPeakUsage().getUsed();
        }
        return sum;
    }
}
