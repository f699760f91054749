package dev.ltm.cli;

import dev.ltm.model.LtmConfig;
import picocli.CommandLine.Option;

/** The decoder's shape options that {@code train} and {@code experiment} share (a picocli mixin): H, L, heads. */
final class ModelShapeOptions {
    @Option(names = "--width", defaultValue = "64", description = "Model width H (default: ${DEFAULT-VALUE}).")
    int width;
    @Option(names = "--layers", defaultValue = "2", description = "Decoder layers L (default: ${DEFAULT-VALUE}).")
    int layers;
    @Option(names = "--heads", defaultValue = "4", description = "Attention heads (default: ${DEFAULT-VALUE}).")
    int heads;

    /** A configuration builder for {@code vocabSize} tokens with this width, layer count and head count. */
    LtmConfig.Builder builder(int vocabSize) {
        return LtmConfig.builder().vocabSize(vocabSize).width(width).layers(layers).heads(heads);
    }
}
