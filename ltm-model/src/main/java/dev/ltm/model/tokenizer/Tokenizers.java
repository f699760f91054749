package dev.ltm.model.tokenizer;

import java.util.List;

/** Looks tokenizers up by the name stored in configs and checkpoints. */
public final class Tokenizers {
    private Tokenizers() {}

    /** The names {@link #byName} accepts. */
    public static List<String> names() { return List.of("byte", "gpt2"); }

    /** A new tokenizer for {@code name} ("byte" or "gpt2"); any other name is an error naming the choices. */
    public static Tokenizer byName(String name) {
        return switch (name) {
            case "byte" -> new ByteTokenizer();
            case "gpt2" -> new Gpt2Tokenizer();
            case null -> throw new IllegalArgumentException("tokenizer: name is missing, expected one of " + names());
            default -> throw new IllegalArgumentException("tokenizer: unknown name '" + name + "', expected one of " + names());
        };
    }
}
