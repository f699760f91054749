package dev.ltm.optim;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.TokenBatch;
import dev.ltm.model.tokenizer.Tokenizer;
import dev.ltm.model.tokenizer.Tokenizers;
import dev.ltm.optim.data.Dataset;
import dev.ltm.optim.data.StoryCorpus;
import dev.ltm.tensor.Rng;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * A Latent Thought Model with its tokenizer, for use in a few lines: create or load one, train
 * it on texts, evaluate the bound, generate (conditioned on a prompt or from the prior), probe
 * what each layer's thoughts carry, and save it as a checkpoint folder.
 *
 * <p>Thread safety: {@link #evaluate}, {@link #generate}, {@link #probe} and {@link #save} only read
 * the weights, and any number of threads may call them at once on one {@code Ltm} (on the CPU
 * backend; each call's results are those it gives alone). {@link #train} changes the weights: it
 * refuses to start while another call runs, and the others refuse to start while it runs, each
 * with an {@link IllegalStateException} saying so, rather than read half-updated weights.
 */
public final class Ltm {
    private final LatentThoughtModel model;
    private final Tokenizer tokenizer;
    /** Readers: evaluate, generate, probe, save. Writer: train. Taken with tryLock, so a conflict is an error, never a wait. */
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private Checkpoint.DataSpec data;
    private TrainingRun lastRun;
    private Checkpoint loaded;

    private Ltm(LatentThoughtModel model, Tokenizer tokenizer, Checkpoint.DataSpec data) {
        if (tokenizer.vocabSize() != model.config().vocabSize()) {
            throw new IllegalArgumentException("ltm: tokenizer " + tokenizer.name() + " has " + tokenizer.vocabSize()
                    + " ids, the config's vocabulary is " + model.config().vocabSize());
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.data = data;
    }

    /**
     * A fresh model of {@code config} with weights drawn from {@code seed}, for the tokenizer named
     * {@code tokenizer} ("byte" or "gpt2").
     */
    public static Ltm create(LtmConfig config, String tokenizer, long seed) {
        return new Ltm(new LatentThoughtModel(config, new Rng(seed)), Tokenizers.byName(tokenizer), null);
    }

    /** The model saved in checkpoint folder {@code dir}. */
    public static Ltm load(Path dir) {
        Checkpoint c = Checkpoint.load(dir);
        Ltm ltm = new Ltm(c.model(), c.tokenizer(), c.config().data());
        ltm.loaded = c;
        return ltm;
    }

    /** {@code count} stories of the embedded corpus, drawn with {@code seed}. */
    public static List<String> stories(int count, long seed) { return StoryCorpus.texts(StoryCorpus.generate(seed, count)); }

    /**
     * Trains on {@code texts} (packed back to back into windows of the model's context) for
     * {@code steps} dual-rate steps of {@code batchSize} windows, with the spec's settings at peak
     * lr {@code lr}, 10% warm-up, T_fast {@code tFast}. Starts a fresh optimizer each call.
     */
    public TrainingRun.Summary train(List<String> texts, int steps, int batchSize, float lr, int tFast) {
        DualRateTrainer.Settings s = DualRateTrainer.Settings.defaults(steps / 10, steps, 0).withPeakLr(lr)
                .withFast(FastFitter.Settings.defaults().withSteps(tFast));
        return train(texts, s, batchSize);
    }

    /** Trains on {@code texts} with the given settings (their total steps, seed, fast fit and micro-batch size). */
    public TrainingRun.Summary train(List<String> texts, DualRateTrainer.Settings settings, int batchSize) {
        return train(texts, settings, batchSize, new TrainingRun.Listener() {});
    }

    /** {@link #train(List, DualRateTrainer.Settings, int)} reporting to {@code listener} (tests hold a step there). */
    TrainingRun.Summary train(List<String> texts, DualRateTrainer.Settings settings, int batchSize, TrainingRun.Listener listener) {
        if (!lock.writeLock().tryLock()) {
            throw new IllegalStateException("ltm: train while another thread evaluates, generates, probes, saves or trains this model:"
                    + " training changes the weights those calls read; let them finish first");
        }
        try {
            int seqLen = model.config().maxSeqLen();
            Dataset d = Dataset.build(texts, tokenizer, seqLen, 0, settings.seed(), Dataset.Layout.CONCATENATED);
            data = new Checkpoint.DataSpec("memory: " + texts.size() + " texts", texts.size(), settings.seed(), seqLen, 0, "concatenated");
            lastRun = TrainingRun.start(config(), model, settings, d, batchSize);
            loaded = null;
            return lastRun.run(TrainingRun.Options.none(), listener);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The bound of {@code texts} (one window per text, cut to the context) after T_fast = {@code tFast} fast steps. */
    public Evaluator.Result evaluate(List<String> texts, int tFast) {
        return reading("evaluate", () -> new Evaluator(model, fast(), 0).evaluate(windows(texts), tFast));
    }

    /** Continues {@code prompt} (null or "": unconditioned) as {@code options} say. */
    public Generation.Result generate(String prompt, Generation.Options options) {
        return reading("generate", () -> new Generation(model, tokenizer, fast()).generate(prompt, options));
    }

    /**
     * Fits z on each of {@code texts} with T_fast = {@code tFast} and reports the reconstruction keeping
     * the thoughts of layers 1..k for every k, and of each extra set such as "1,4".
     */
    public Prober.Report probe(List<String> texts, int tFast, String... layerSets) {
        return reading("probe", () -> {
            List<LayerSet> sets = new ArrayList<>();
            for (String s : layerSets) sets.add(LayerSet.parse(s, model.config().layers()));
            return new Prober(model, fast().withSteps(tFast), 0).probe(windows(texts), sets);
        });
    }

    /** Writes the model (and the last training run's optimizer and trainer state, if any) to folder {@code dir}, atomically. */
    public void save(Path dir) {
        reading("save", () -> {
            if (lastRun != null) lastRun.checkpoint().save(dir);
            else if (loaded != null && loaded.model() == model) loaded.save(dir);
            else new Checkpoint(config(), model, null, null).save(dir);
            return null;
        });
    }

    private <T> T reading(String what, Supplier<T> body) {
        if (!lock.readLock().tryLock()) {
            throw new IllegalStateException("ltm: " + what + " while another thread trains this model: the weights are changing;"
                    + " wait for train to return");
        }
        try {
            return body.get();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The model. */
    public LatentThoughtModel model() { return model; }

    /** The tokenizer. */
    public Tokenizer tokenizer() { return tokenizer; }

    /** The model's config. */
    public LtmConfig modelConfig() { return model.config(); }

    private Checkpoint.Config config() { return new Checkpoint.Config(Checkpoint.FORMAT, model.config(), tokenizer.name(), data); }

    /** The fast-fit settings of the last training (or the spec's defaults); T_fast is set per call. */
    private FastFitter.Settings fast() {
        if (lastRun != null) return lastRun.trainer().settings().fast();
        if (loaded != null && loaded.trainer() != null) return loaded.trainer().settings().fast();
        return FastFitter.Settings.defaults();
    }

    private List<TokenBatch> windows(List<String> texts) {
        return TrainingData.perDocument(texts, tokenizer, model.config().maxSeqLen(), 8);
    }
}
