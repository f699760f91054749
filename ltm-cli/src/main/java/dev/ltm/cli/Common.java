package dev.ltm.cli;

import dev.ltm.optim.Checkpoint;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.FastFitter;
import dev.ltm.tensor.Backend;
import java.util.Arrays;

/** Option parsing and small helpers the commands share. */
final class Common {
    private Common() {}

    /** A checkpoint loaded from {@code dir} with its model moved to {@code backend}. */
    static Checkpoint load(java.nio.file.Path dir, Backend backend) {
        Checkpoint c = Checkpoint.load(dir);
        if (c.model().backend() == backend) return c;
        return new Checkpoint(c.config(), c.model().to(backend), c.trainer(), c.optimizer());
    }

    /** A comma-separated list of non-negative integers ({@code 0,1,2,4,8,16}), with a one-line error naming the option. */
    static int[] intList(String option, String text) {
        try {
            int[] v = Arrays.stream(text.split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
            for (int x : v) if (x < 0) throw new NumberFormatException("negative");
            if (v.length == 0) throw new NumberFormatException("empty");
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " '" + text
                    + "': expected a comma-separated list of integers >= 0, e.g. 0,1,2,4,8,16");
        }
    }

    /** The fast-fit settings a checkpoint was trained with, or the spec's defaults for a model-only checkpoint. */
    static FastFitter.Settings fast(Checkpoint c) {
        return c.trainer() != null ? c.trainer().settings().fast() : FastFitter.Settings.defaults();
    }

    /**
     * The trainer settings of {@code demo} and {@code train}: the spec's defaults with the given warmup,
     * steps, seed and peak slow learning rate, and T_fast fast steps at peak rate {@code fastLr}.
     */
    static DualRateTrainer.Settings trainerSettings(int warmup, int steps, long seed, float lr, int tFast, float fastLr) {
        return DualRateTrainer.Settings.defaults(warmup, steps, seed)
                .withPeakLr(lr).withFast(FastFitter.Settings.defaults().withSteps(tFast).withLr(fastLr));
    }

    /** {@code --t-fast} or, when not given (-1), the checkpoint's T_fast. */
    static int tFast(Checkpoint c, int option) { return option >= 0 ? option : fast(c).steps(); }
}
