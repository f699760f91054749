package dev.ltm.optim;

import dev.ltm.model.TokenBatch;
import dev.ltm.model.tokenizer.Tokenizer;
import dev.ltm.optim.data.Batches;
import dev.ltm.optim.data.DataException;
import dev.ltm.optim.data.Dataset;
import dev.ltm.optim.data.Packing;
import dev.ltm.optim.data.StoryCorpus;
import dev.ltm.optim.data.TextSource;
import dev.ltm.optim.data.TokenShards;
import dev.ltm.optim.data.Windows;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** From a {@link Checkpoint.DataSpec} to documents, windows and model batches. */
public final class TrainingData {
    private TrainingData() {}

    /** The source name of the embedded story corpus. */
    public static final String STORIES = "stories";

    /**
     * The spec's documents: {@code count} seeded stories for {@code stories}, else the texts under the
     * path; for a folder of prepared shards, each document decoded only when asked for.
     */
    public static List<String> documents(Checkpoint.DataSpec spec) {
        if (spec.source().equals(STORIES)) {
            if (spec.stories() < 1) throw new DataException("corpus is empty: --stories " + spec.stories() + " must be >= 1");
            return StoryCorpus.texts(StoryCorpus.generate(spec.seed(), spec.stories()));
        }
        Path p = path(spec.source());
        return TokenShards.isPrepared(p) ? TokenShards.open(p).texts() : TextSource.load(p);
    }

    /** {@link #documents(Checkpoint.DataSpec)}, where prepared shards must have been tokenized by {@code tokenizer}. */
    public static List<String> documents(Checkpoint.DataSpec spec, Tokenizer tokenizer) {
        TokenShards shards = shards(spec);
        return shards != null ? shards.requireTokenizer(tokenizer).texts() : documents(spec);
    }

    /**
     * The spec's documents split by document and packed in the spec's layout; a folder of prepared
     * shards (one with a {@link TokenShards#MANIFEST}) is read memory-mapped, by the same rules.
     */
    public static Dataset dataset(Checkpoint.DataSpec spec, Tokenizer tokenizer) {
        TokenShards shards = shards(spec);
        if (shards != null) {
            return Dataset.fromShards(shards.requireTokenizer(tokenizer), spec.seqLen(), spec.valFraction(), spec.seed(),
                    layout(spec.layout()));
        }
        return Dataset.build(documents(spec), tokenizer, spec.seqLen(), spec.valFraction(), spec.seed(), layout(spec.layout()));
    }

    /** Every document of the spec, without a split, packed in the spec's layout (evaluating on a corpus of its own). */
    public static Windows windows(Checkpoint.DataSpec spec, Tokenizer tokenizer) {
        Dataset.Layout layout = layout(spec.layout());
        TokenShards shards = shards(spec);
        if (shards != null) return Dataset.pack(shards.requireTokenizer(tokenizer), spec.seqLen(), layout);
        List<String> docs = documents(spec);
        return layout == Dataset.Layout.CONCATENATED ? Packing.packConcatenated(docs, tokenizer, spec.seqLen())
                : Packing.packPerDocument(docs, tokenizer, spec.seqLen(), tokenizer.eos());
    }

    /** The prepared corpus the spec names, or null when its source is not a folder of shards. */
    private static TokenShards shards(Checkpoint.DataSpec spec) {
        if (spec.source().equals(STORIES)) return null;
        Path p = path(spec.source());
        return TokenShards.isPrepared(p) ? TokenShards.open(p) : null;
    }

    /** The layout named {@code name} ("concatenated" or "per_document", any case). */
    public static Dataset.Layout layout(String name) {
        for (Dataset.Layout l : Dataset.Layout.values()) if (l.name().equalsIgnoreCase(name)) return l;
        throw new IllegalArgumentException("data: unknown layout '" + name + "', expected concatenated or per_document");
    }

    /** A path from user text, with a one-line error when the text cannot be a path. */
    public static Path path(String text) {
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            throw new DataException("not a valid path: '" + text + "' (" + e.getReason() + ")");
        }
    }

    /** The model batch of packed rows: inputs row[0..T), targets row[1..T], positions past each row's length not predicted. */
    public static TokenBatch tokenBatch(Batches.Batch batch) {
        int[][] rows = new int[batch.size()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = batch.tokens()[i].clone();
            for (int t = batch.lengths()[i]; t < rows[i].length; t++) rows[i][t] = -1;
        }
        return TokenBatch.shifted(rows);
    }

    /**
     * The windows of {@code data} in stored order as model batches of up to {@code batchSize} rows,
     * at most {@code maxBatches} (0 = all).
     */
    public static List<TokenBatch> inOrder(Windows data, int batchSize, int maxBatches) {
        List<TokenBatch> out = new ArrayList<>();
        for (Batches.Batch b : Batches.inOrder(data, batchSize, maxBatches)) out.add(tokenBatch(b));
        return out;
    }

    /** The documents framed and padded one per window of {@code seqLen + 1} tokens (probing: one window per text). */
    public static List<TokenBatch> perDocument(List<String> docs, Tokenizer tokenizer, int seqLen, int batchSize) {
        if (docs.isEmpty()) throw new DataException("corpus is empty: no documents to read");
        return inOrder(Packing.packPerDocument(docs, tokenizer, seqLen, tokenizer.eos()), batchSize, 0);
    }
}
