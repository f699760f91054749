package dev.ltm.cli;

import dev.ltm.model.Sampling;
import dev.ltm.optim.Checkpoint;
import dev.ltm.optim.Generation;
import dev.ltm.tensor.Backend;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ltm generate}: text conditioned on a prompt (posterior fitted on it) or from the prior, with a key/value cache. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate text: with --prompt, z is fitted on the prompt; without, z = z-scale * N(0, I).")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "Checkpoint folder.")
    Path checkpoint;
    @Option(names = "--prompt", description = "Text to continue; none = unconditioned.")
    String prompt;
    @Option(names = "--max-tokens", defaultValue = "200", description = "New tokens at most (default: ${DEFAULT-VALUE}).")
    int maxTokens;
    @Option(names = "--temperature", defaultValue = "1.0", description = "0 = greedy (default: ${DEFAULT-VALUE}).")
    double temperature;
    @Option(names = "--top-k", defaultValue = "0", description = "Keep the k most likely tokens, 0 = all (default: ${DEFAULT-VALUE}).")
    int topK;
    @Option(names = "--top-p", defaultValue = "1.0",
            description = "Nucleus: the smallest set reaching this probability (default: ${DEFAULT-VALUE}).")
    double topP;
    @Option(names = "--z-mean", description = "Use z = mu of the prompt's posterior instead of a sample.")
    boolean zMean;
    @Option(names = "--z-scale", defaultValue = "1.0",
            description = "Scale of the prior draw when unconditioned (default: ${DEFAULT-VALUE}).")
    double zScale;
    @Option(names = "--z-layers", defaultValue = "all",
            description = "Layers whose thoughts are kept (others zero), 1-based: 1-3, 1,4, all, none (default: ${DEFAULT-VALUE}).")
    String zLayers;
    @Option(names = "--t-fast", defaultValue = "-1", description = "Fast steps on the prompt; default: the checkpoint's T_fast.")
    int tFast;
    @Option(names = "--no-stop", description = "Keep going after an end-of-text token.")
    boolean noStop;
    @Option(names = "--seed", defaultValue = "0",
            description = "Seed of the fit, the prior draw and the sampling (default: ${DEFAULT-VALUE}).")
    long seed;
    @Mixin DeviceOption device;

    @Override public Integer call() {
        Backend backend = device.select();
        Sampling sampling = new Sampling(temperature, topK, topP);
        Checkpoint c = Common.load(checkpoint, backend);
        Generation.Options options =
                new Generation.Options(maxTokens, sampling, zMean, zScale, zLayers, seed, Common.tFast(c, tFast), !noStop);
        Generation.Result r = new Generation(c.model(), c.tokenizer(), Common.fast(c)).generate(prompt, options);
        if (r.conditioned()) {
            System.err.printf("ltm: z fitted on the prompt (%d tokens, T_fast %d, NELBO/token %.4f), %s, layers %s%n",
                    r.promptTokens().length, options.tFast(), r.promptNelboPerToken(),
                    zMean ? "z = mu" : "z = mu + eps * sigma", r.zLayers());
        } else if (c.config().model().latentCount() > 0) {
            System.err.printf("ltm: z = %.2f * N(0, I) (unconditioned), layers %s%n", zScale, r.zLayers());
        }
        System.out.println((prompt == null ? "" : prompt) + r.text());
        return 0;
    }
}
