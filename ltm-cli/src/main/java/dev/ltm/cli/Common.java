package dev.ltm.cli;

import dev.ltm.optim.Checkpoint;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.optim.FastFitter;
import dev.ltm.optim.TrainingData;
import dev.ltm.optim.data.DataException;
import dev.ltm.optim.data.Windows;
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

    /**
     * The windows {@code eval} and {@code encode} read: the corpus {@code data} packed at the checkpoint's length in
     * {@code layout} ("concatenated" or "per_document"), or, without {@code data}, the checkpoint's own validation split.
     */
    static Windows windows(Checkpoint c, String data, String layout) {
        int seqLen = c.config().data() != null ? c.config().data().seqLen() : c.config().model().maxSeqLen();
        if (data != null) return TrainingData.windows(new Checkpoint.DataSpec(data, 0, 0, seqLen, 0, layout), c.tokenizer());
        Checkpoint.DataSpec spec = c.config().data();
        if (spec == null || spec.source().startsWith("memory:")) {
            throw new DataException("the checkpoint names no corpus of its own: give --data");
        }
        Windows val = TrainingData.dataset(spec, c.tokenizer()).validation();
        if (val.size() == 0) throw new DataException("the checkpoint's data has no validation split (--val-fraction 0): give --data");
        return val;
    }
}
