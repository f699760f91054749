package dev.ltm.optim.data;

import dev.ltm.tensor.Rng;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * An endless stream of training batches over packed windows (in memory or on disk): each epoch visits the windows in a
 * fresh seeded order, {@code batchSize} at a time, dropping the remainder that would make a
 * short batch. The order of epoch {@code e} depends only on the seed and {@code e}, so a resumed
 * run continues where it stopped ({@link #skipTo}).
 */
public final class Batches implements Iterator<Batches.Batch> {

    /**
     * A batch: {@code tokens} is {@code [batch][seqLen + 1]} (copies), {@code lengths} the real
     * token count of each row, {@code windows} the row's index in the packed data.
     */
    public record Batch(int[][] tokens, int[] lengths, int[] windows, int epoch) {
        /** Rows in this batch. */
        public int size() { return tokens.length; }
    }

    private final Windows data;
    private final int batchSize;
    private final long seed;
    private final int perEpoch;
    private long served;
    private int[] order;
    private int orderEpoch = -1;

    /** Batches of {@code batchSize} windows of {@code data}, shuffled per epoch with {@code seed}. */
    public Batches(Windows data, int batchSize, long seed) {
        if (batchSize < 1) throw new IllegalArgumentException("batches: batch size " + batchSize + " must be at least 1");
        if (data.size() < batchSize) {
            throw new DataException("batches: " + data.size() + " windows cannot fill one batch of " + batchSize);
        }
        this.data = data;
        this.batchSize = batchSize;
        this.seed = seed;
        this.perEpoch = data.size() / batchSize;
    }

    /** Full batches per epoch. */
    public int batchesPerEpoch() { return perEpoch; }

    /** Batches served so far (the index of the next one). */
    public long position() { return served; }

    /** The epoch of the next batch, from 0. */
    public int epoch() { return (int) (served / perEpoch); }

    /** Moves to batch {@code position}, as if that many had been served; for resuming a run. */
    public void skipTo(long position) {
        if (position < 0) throw new IllegalArgumentException("batches: position " + position + " is negative");
        served = position;
    }

    /** Always true: the stream cycles over epochs. */
    @Override public boolean hasNext() { return true; }

    @Override public Batch next() {
        int epoch = epoch();
        if (epoch != orderEpoch) {
            order = permutation(data.size(), seed, epoch);
            orderEpoch = epoch;
        }
        int start = (int) (served % perEpoch) * batchSize;
        served++;
        int[] rows = new int[batchSize];
        System.arraycopy(order, start, rows, 0, batchSize);
        return batch(data, rows, epoch);
    }

    /** The windows in stored order, {@code batchSize} at a time, the last batch possibly shorter; for evaluation. */
    public static List<Batch> inOrder(Windows data, int batchSize) { return inOrder(data, batchSize, 0); }

    /** {@link #inOrder(Windows, int)}, stopping after {@code maxBatches} batches (0 = all), so that only those windows are read. */
    public static List<Batch> inOrder(Windows data, int batchSize, int maxBatches) {
        if (batchSize < 1) throw new IllegalArgumentException("batches: batch size " + batchSize + " must be at least 1");
        if (maxBatches < 0) throw new IllegalArgumentException("batches: maxBatches " + maxBatches + " must be >= 0");
        List<Batch> out = new ArrayList<>();
        for (long start = 0; start < data.size() && (maxBatches == 0 || out.size() < maxBatches); start += batchSize) {
            int n = (int) Math.min(batchSize, data.size() - start);
            int[] rows = new int[n];
            for (int i = 0; i < n; i++) rows[i] = (int) start + i;
            out.add(batch(data, rows, 0));
        }
        return out;
    }

    private static Batch batch(Windows data, int[] rows, int epoch) {
        int[][] tokens = new int[rows.length][];
        int[] lengths = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            tokens[i] = data.tokens(rows[i]);
            lengths[i] = data.length(rows[i]);
        }
        return new Batch(tokens, lengths, rows, epoch);
    }

    /** A Fisher-Yates shuffle of {@code 0..n-1} from a generator seeded by {@code seed} and {@code epoch}. */
    static int[] permutation(int n, long seed, int epoch) {
        Rng rng = new Rng(seed + 0x9E3779B97F4A7C15L * (epoch + 1));
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i]; p[i] = p[j]; p[j] = t;
        }
        return p;
    }
}
