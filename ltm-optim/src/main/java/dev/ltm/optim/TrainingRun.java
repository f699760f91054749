package dev.ltm.optim;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.TokenBatch;
import dev.ltm.optim.data.Batches;
import dev.ltm.optim.data.Dataset;
import java.nio.file.Path;
import java.util.List;

/**
 * The training loop shared by the CLI, the demo and the library: dual-rate steps over a
 * dataset's shuffled training windows until the schedule's last step, with optional periodic
 * validation and checkpoints (every K steps and at the end). A run resumed from one of its
 * checkpoints continues bit for bit as if it had never stopped: the trainer's state is the
 * weights, the moments and the step, and the batch stream is a pure function of its seed and position.
 */
public final class TrainingRun {
    /**
     * Where and how often to save and validate: the checkpoint folder (null: never save), save every
     * {@code checkpointEvery} steps (0: only at the end), validate every {@code validateEvery} steps
     * (0: never) on at most {@code validationBatches} validation batches (0: all).
     */
    public record Options(Path checkpointDir, int checkpointEvery, int validateEvery, int validationBatches) {
        /** Checks the ranges. */
        public Options {
            if (checkpointEvery < 0 || validateEvery < 0 || validationBatches < 0) {
                throw new IllegalArgumentException("training: checkpointEvery " + checkpointEvery + ", validateEvery " + validateEvery
                        + ", validationBatches " + validationBatches + " must all be >= 0");
            }
        }

        /** No checkpoints, no validation. */
        public static Options none() { return new Options(null, 0, 0, 0); }
    }

    /** What a run reports as it goes. Every method has an empty default. */
    public interface Listener {
        /** After each step. */
        default void onStep(DualRateTrainer.Step step) {}

        /** After each validation, with the step count at that point. */
        default void onValidation(int step, Evaluator.Result result) {}

        /** After each checkpoint was written. */
        default void onCheckpoint(int step, Path dir) {}

        /**
         * When a step was refused because it is not finite (nothing was updated): true skips its batch
         * and retries the step on the next one, false (the default) stops the run with {@code e}.
         */
        default boolean onNonFinite(NonFiniteException e) { return false; }
    }

    /** Batches skipped in a row as not finite after which the run stops anyway: the model itself has diverged. */
    public static final int MAX_CONSECUTIVE_SKIPS = 20;

    /**
     * The outcome: steps taken in this call, the last step's report (null if none), the last
     * validation (null if none), tokens, seconds.
     */
    public record Summary(int steps, DualRateTrainer.Step last, Evaluator.Result validation, long tokens, double seconds) {
        /** Predicted tokens per second of wall time. */
        public double tokensPerSecond() { return seconds > 0 ? tokens / seconds : 0; }
    }

    private final Checkpoint.Config config;
    private final DualRateTrainer trainer;
    private final Dataset data;
    private final int batchSize;
    private final Batches batches;

    private TrainingRun(Checkpoint.Config config, DualRateTrainer trainer, Dataset data, int batchSize, long position) {
        if (!data.tokenizer().equals(config.tokenizer())) {
            throw new IllegalArgumentException("training: the data was tokenized with " + data.tokenizer() + ", the model uses "
                    + config.tokenizer());
        }
        if (data.seqLen() > config.model().maxSeqLen()) {
            throw new IllegalArgumentException("training: sequence length " + data.seqLen() + " exceeds the model's context "
                    + config.model().maxSeqLen());
        }
        trainer.settings().microBatchFor(batchSize); // a micro-batch that does not divide the batch fails before any step
        this.config = config;
        this.trainer = trainer;
        this.data = data;
        this.batchSize = batchSize;
        this.batches = new Batches(data.train(), batchSize, trainer.settings().seed());
        batches.skipTo(position);
    }

    /** A fresh run at step 0 training {@code model} (updated in place) with {@code settings}. */
    public static TrainingRun start(Checkpoint.Config config, LatentThoughtModel model, DualRateTrainer.Settings settings, Dataset data,
                                    int batchSize) {
        return new TrainingRun(config, new DualRateTrainer(model, settings), data, batchSize, 0);
    }

    /** Continues the run saved in {@code checkpoint} over the same {@code data} (rebuilt from the checkpoint's data spec). */
    public static TrainingRun resume(Checkpoint checkpoint, Dataset data) {
        Checkpoint.TrainerState s = checkpoint.trainer();
        if (s == null) throw new IllegalArgumentException("training: the checkpoint holds no trainer state, it cannot resume");
        return new TrainingRun(checkpoint.config(), checkpoint.resumeTrainer(), data, s.batchSize(), s.batchesPosition());
    }

    /** Trains until the schedule's last step. */
    public Summary run(Options options, Listener listener) { return runTo(trainer.settings().totalSteps(), options, listener); }

    /** Trains until {@code step} steps are done (at most the schedule's total), then saves if a folder is given. */
    public Summary runTo(int step, Options options, Listener listener) {
        int total = trainer.settings().totalSteps();
        if (step > total) throw new IllegalArgumentException("training: step " + step + " is past the schedule's last step " + total);
        long start = System.nanoTime(), tokens = 0;
        int done = 0;
        DualRateTrainer.Step last = null;
        Evaluator.Result validation = null;
        List<TokenBatch> val = options.validateEvery() > 0 && data.validation().size() > 0
                ? TrainingData.inOrder(data.validation(), batchSize, options.validationBatches()) : List.of();
        int skippedInARow = 0;
        while (trainer.stepCount() < step) {
            try {
                last = trainer.step(TrainingData.tokenBatch(batches.next()));
            } catch (NonFiniteException e) {
                Path dir = options.checkpointDir();
                String saved = dir == null ? "" : Checkpoint.exists(dir) ? "; the checkpoint in " + dir + " is the last one saved"
                        : "; no checkpoint was saved to " + dir;
                if (!listener.onNonFinite(e)) throw new NonFiniteException(e.step(), e.getMessage() + saved);
                if (++skippedInARow >= MAX_CONSECUTIVE_SKIPS) {
                    throw new NonFiniteException(e.step(), "training: " + skippedInARow + " batches in a row were not finite at step "
                            + (e.step() + 1) + ": the model has diverged" + saved);
                }
                continue;
            }
            skippedInARow = 0;
            tokens += last.tokens();
            done++;
            listener.onStep(last);
            int s = trainer.stepCount();
            if (!val.isEmpty() && s % options.validateEvery() == 0) {
                DualRateTrainer.Settings settings = trainer.settings();
                validation = new Evaluator(trainer.model(), settings.fast(), settings.seed()).evaluate(val, settings.fast().steps());
                listener.onValidation(s, validation);
            }
            boolean checkpointDue = options.checkpointEvery() > 0 && s % options.checkpointEvery() == 0 && s < step;
            if (options.checkpointDir() != null && checkpointDue) save(options, listener);
        }
        if (options.checkpointDir() != null) save(options, listener);
        return new Summary(done, last, validation, tokens, (System.nanoTime() - start) / 1e9);
    }

    private void save(Options options, Listener listener) {
        checkpoint().save(options.checkpointDir());
        listener.onCheckpoint(trainer.stepCount(), options.checkpointDir());
    }

    /** The run's state now, as a checkpoint (sharing the live weights and moments: save it before training on). */
    public Checkpoint checkpoint() { return Checkpoint.of(config, trainer, batchSize, batches.position()); }

    /** The trainer. */
    public DualRateTrainer trainer() { return trainer; }

    /** The dataset. */
    public Dataset data() { return data; }

    /** Sequences per batch. */
    public int batchSize() { return batchSize; }

    /** Steps taken so far (including those before a resume). */
    public int stepCount() { return trainer.stepCount(); }
}
