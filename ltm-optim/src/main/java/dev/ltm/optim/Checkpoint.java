package dev.ltm.optim;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.io.AtomicFiles;
import dev.ltm.model.io.CheckpointException;
import dev.ltm.model.io.Json;
import dev.ltm.model.io.Safetensors;
import dev.ltm.model.tokenizer.Tokenizer;
import dev.ltm.model.tokenizer.Tokenizers;
import dev.ltm.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A checkpoint folder: {@code config.json} (the model's config, the tokenizer's name and how the
 * training data was made), {@code model.safetensors} (the weights) and, for a run that can
 * resume, {@code optimizer.safetensors} (the AdamW moments) and {@code trainer.json} (step,
 * settings, batch position). The folder is written all or nothing, so a failed save never
 * damages the previous checkpoint.
 */
public record Checkpoint(Config config, LatentThoughtModel model, TrainerState trainer, Map<String, Tensor> optimizer) {

    /** The version of the folder layout written by this code. */
    public static final int FORMAT = 1;

    /**
     * How the training data was made, so that a resumed run rebuilds the same batches: the source
     * ({@code stories} for the embedded corpus, else a file or folder path), the number of stories,
     * the seed of the corpus and of the split, the sequence length, the validation fraction and
     * the layout of the windows.
     */
    public record DataSpec(String source, int stories, long seed, int seqLen, double valFraction, String layout) {
        /** Checks the ranges. */
        public DataSpec {
            if (source == null || source.isBlank()) throw new IllegalArgumentException("data: the source is empty");
            if (seqLen < 1) throw new IllegalArgumentException("data: seqLen " + seqLen + " must be >= 1");
            if (!(valFraction >= 0 && valFraction < 1)) {
                throw new IllegalArgumentException("data: valFraction " + valFraction + " must be in [0, 1)");
            }
        }
    }

    /** {@code config.json}: layout version, model config, tokenizer name, and the data (null when none was used). */
    public record Config(int format, LtmConfig model, String tokenizer, DataSpec data) {}

    /** {@code trainer.json}: steps taken, the trainer's settings, the batch size and the next batch's position. */
    public record TrainerState(int step, DualRateTrainer.Settings settings, int batchSize, long batchesPosition) {}

    /**
     * Checks that everything fits together: weights for the config, a tokenizer of the right
     * vocabulary, trainer and moments both or neither.
     */
    public Checkpoint {
        if (!model.config().equals(config.model())) {
            throw new IllegalArgumentException("checkpoint: the model's config differs from config.json's");
        }
        if ((trainer == null) != (optimizer == null)) {
            throw new IllegalArgumentException("checkpoint: trainer state and optimizer moments go together");
        }
        optimizer = optimizer == null ? null : new LinkedHashMap<>(optimizer);
    }

    /** A checkpoint of a trainer's model and state. */
    public static Checkpoint of(Config config, DualRateTrainer trainer, int batchSize, long batchesPosition) {
        return new Checkpoint(config, trainer.model(),
                new TrainerState(trainer.stepCount(), trainer.settings(), batchSize, batchesPosition), trainer.optimizerState());
    }

    /** Whether this checkpoint can resume training (it holds trainer state and moments). */
    public boolean resumable() { return trainer != null; }

    /** The tokenizer named in the config. */
    public Tokenizer tokenizer() { return Tokenizers.byName(config.tokenizer()); }

    /** Writes the folder {@code dir} atomically: the previous checkpoint there stays intact unless the whole new one is in place. */
    public void save(Path dir) { save(dir, d -> {}); }

    /** {@link #save} with a hook run after the new files are written and before the swap (tests make it throw). */
    void save(Path dir, AtomicFiles.DirectoryBody beforeSwap) {
        AtomicFiles.writeDirectory(dir, tmp -> {
            Files.writeString(tmp.resolve("config.json"), Json.toJson(config) + "\n");
            Safetensors.write(tmp.resolve("model.safetensors"), model.parameters(), Map.of("format", "ltm-" + FORMAT));
            if (trainer != null) {
                Safetensors.write(tmp.resolve("optimizer.safetensors"), optimizer, Map.of("step", Integer.toString(trainer.step())));
                Files.writeString(tmp.resolve("trainer.json"), Json.toJson(trainer) + "\n");
            }
            beforeSwap.write(tmp);
        });
    }

    /**
     * Reads the folder {@code dir} (after finishing an interrupted save), validating everything:
     * a missing file, malformed JSON, an invalid config, a truncated file, a wrong header, a
     * weight of the wrong shape or a NaN or infinite weight or moment is a {@link CheckpointException}
     * with a one-line message naming the file (and the tensor).
     */
    public static Checkpoint load(Path dir) {
        if (!Files.exists(dir)) AtomicFiles.recoverDirectory(dir);
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException("checkpoint " + dir + ": not found (expected a folder with config.json and model.safetensors)");
        }
        AtomicFiles.recoverDirectory(dir);
        Config config = Json.read(dir.resolve("config.json"), Config.class);
        if (config.format() != FORMAT) {
            throw new CheckpointException("checkpoint " + dir + ": format " + config.format() + " is not the supported " + FORMAT);
        }
        if (config.model() == null) throw new CheckpointException("checkpoint " + dir + ": config.json has no model config");
        Tokenizer tokenizer;
        try {
            tokenizer = Tokenizers.byName(config.tokenizer());
        } catch (IllegalArgumentException e) {
            throw new CheckpointException("checkpoint " + dir + ": " + e.getMessage());
        }
        if (tokenizer.vocabSize() != config.model().vocabSize()) {
            throw new CheckpointException("checkpoint " + dir + ": tokenizer " + tokenizer.name() + " has " + tokenizer.vocabSize()
                    + " ids but the model's vocabulary is " + config.model().vocabSize());
        }
        // Shapes from the config, storage from the file: a config claiming a huge model allocates nothing.
        LinkedHashMap<String, Tensor> weights =
                Safetensors.load(dir.resolve("model.safetensors"), LatentThoughtModel.parameterShapes(config.model()));
        LatentThoughtModel model = new LatentThoughtModel(config.model(), weights);

        Path trainerFile = dir.resolve("trainer.json"), optimizerFile = dir.resolve("optimizer.safetensors");
        if (!Files.exists(trainerFile) && !Files.exists(optimizerFile)) return new Checkpoint(config, model, null, null);
        TrainerState state = Json.read(trainerFile, TrainerState.class);
        if (state.settings() == null || state.step() < 0 || state.batchSize() < 1 || state.batchesPosition() < 0) {
            throw new CheckpointException("checkpoint " + trainerFile + ": step " + state.step() + ", batch size " + state.batchSize()
                    + ", position " + state.batchesPosition() + ": expected settings, step >= 0, batch size >= 1, position >= 0");
        }
        // The moments have the shapes of the trainer's own: read them through a fresh trainer's state.
        LinkedHashMap<String, Tensor> moments = new LinkedHashMap<>();
        new DualRateTrainer(model, state.settings()).optimizerState().forEach((name, t) -> moments.put(name, Tensor.zeros(t.shape())));
        Safetensors.loadInto(optimizerFile, moments);
        return new Checkpoint(config, model, state, moments);
    }

    /** A trainer over this checkpoint's model, at its step with its moments. */
    public DualRateTrainer resumeTrainer() {
        if (trainer == null) {
            throw new CheckpointException("checkpoint: holds no trainer state (a model-only checkpoint cannot resume training)");
        }
        DualRateTrainer t = new DualRateTrainer(model, trainer.settings());
        t.restore(trainer.step(), optimizer);
        return t;
    }

    /** Whether {@code dir} (or the {@code .old} copy an interrupted save left) holds a checkpoint's config.json. */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve("config.json")) || Files.isRegularFile(siblingOld(dir).resolve("config.json"));
    }

    private static Path siblingOld(Path dir) {
        Path abs = dir.toAbsolutePath();
        return abs.resolveSibling(abs.getFileName() + ".old");
    }
}
