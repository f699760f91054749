package dev.ltm.cli;

import java.io.PrintStream;
import java.time.Duration;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of long work on standard error: a live bar with the extra message (loss, NELBO/token,
 * KL, tokens/s) and its ETA on a terminal; elsewhere (CI logs, pipes) a plain line every few
 * seconds and at the end, so logs stay readable.
 */
final class Progress implements AutoCloseable {
    private static final long PLAIN_EVERY_NANOS = 5_000_000_000L;

    private final String task;
    private final long total, from;
    private final ProgressBar bar;
    private final PrintStream plain;
    private final long started = System.nanoTime();
    private long lastPrinted = Long.MIN_VALUE, done;
    private String message = "";

    /** Progress over units {@code from..total} of {@code task}, drawn as a bar when standard error is a terminal. */
    Progress(String task, long from, long total) {
        this.task = task;
        this.from = from;
        this.total = total;
        this.done = from;
        var console = System.console();
        if (console != null && console.isTerminal()) {
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(250).setConsumer(new ConsoleProgressBarConsumer(System.err))
                    .startsFrom(from, Duration.ZERO).build();
            plain = null;
        } else {
            bar = null;
            plain = System.err;
        }
    }

    /** Moves to {@code done} units with {@code extra} as the message. */
    void update(long done, String extra) {
        this.done = done;
        this.message = extra;
        if (bar != null) {
            bar.setExtraMessage(extra);
            bar.stepTo(done);
            return;
        }
        long now = System.nanoTime();
        if (lastPrinted == Long.MIN_VALUE || now - lastPrinted >= PLAIN_EVERY_NANOS || done == total) {
            lastPrinted = now;
            plain.println(line(now));
        }
    }

    /** {@code task 12/200 (6%) <message> ETA 0:02:31}. */
    private String line(long now) {
        double elapsed = (now - started) / 1e9;
        long n = done - from;
        String eta = n > 0 ? clock(elapsed / n * (total - done)) : "?";
        return String.format("%s %d/%d (%d%%) %s ETA %s", task, done, total, total == 0 ? 100 : 100 * done / total, message, eta);
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }

    @Override public void close() {
        if (bar != null) bar.close();
    }
}
