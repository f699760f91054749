package dev.ltm.cli;

import dev.ltm.model.tokenizer.Tokenizers;
import dev.ltm.optim.TrainingData;
import dev.ltm.optim.data.CorpusPreparer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ltm prepare}: tokenizes a corpus once into memory-mapped token shards that train, eval and probe read with {@code --data DIR}. */
@Command(name = "prepare", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Tokenize a .txt/.md/.jsonl file or folder once, streaming, into token shards plus a document index and a manifest.")
final class PrepareCommand implements Callable<Integer> {
    @Option(names = "--data", required = true,
            description = "A .txt/.md/.jsonl file or a folder of them (a .txt file is one document, a JSONL line one).")
    String data;
    @Option(names = "--tokenizer", defaultValue = "byte", description = "byte or gpt2 (default: ${DEFAULT-VALUE}).")
    String tokenizer;
    @Option(names = "--out", required = true, description = "Folder to write; it must not exist yet unless --overwrite.")
    Path out;
    @Option(names = "--field", defaultValue = "text", description = "The JSONL field holding each document (default: ${DEFAULT-VALUE}).")
    String field;
    @Option(names = "--shard-tokens", defaultValue = "1073741824",
            description = "Tokens per shard file at most (default: ${DEFAULT-VALUE}).")
    long shardTokens;
    @Option(names = "--overwrite", description = "Replace a folder already in --out (atomically: a failed run leaves it as it was).")
    boolean overwrite;

    @Override public Integer call() throws IOException {
        var tok = Tokenizers.byName(tokenizer);
        CorpusPreparer.Options options = new CorpusPreparer.Options(field, shardTokens);
        Path source = TrainingData.path(data);
        Path src = source.toAbsolutePath().normalize(), dst = out.toAbsolutePath().normalize();
        if (src.startsWith(dst) || dst.startsWith(src) && Files.isDirectory(src)) {
            throw new IllegalArgumentException("--out " + out + " and --data " + data + " overlap: write the shards outside the corpus");
        }
        if (!overwrite && Files.exists(out) && !isEmptyFolder(out)) {
            throw new IllegalArgumentException(out + " already exists: pass --overwrite to replace it, or another --out");
        }
        CorpusPreparer.Summary s;
        Progress[] progress = {null}; // made at the first report, which brings the total
        long t0 = System.nanoTime();
        try {
            s = CorpusPreparer.prepare(source, tok, out, options, (bytesRead, totalBytes, documents, tokens) -> {
                if (progress[0] == null) progress[0] = new Progress("prepare (MB)", 0, Math.max(1, (totalBytes + 999_999) / 1_000_000));
                double seconds = Math.max(1e-9, (System.nanoTime() - t0) / 1e9);
                progress[0].update((bytesRead + 999_999) / 1_000_000,
                        String.format("%,d documents, %,d tokens, %.1f MB/s", documents, tokens, bytesRead / 1e6 / seconds));
            });
        } finally {
            if (progress[0] != null) progress[0].close();
        }
        System.out.printf("prepare: %,d documents, %,d tokens (%d bytes each) in %d shard%s, %.1f MB of text in %.1f s (%.1f MB/s) -> %s%n",
                s.documents(), s.tokens(), s.tokenBytes(), s.shards(), s.shards() == 1 ? "" : "s", s.bytesRead() / 1e6, s.seconds(),
                s.megabytesPerSecond(), out);
        return 0;
    }

    private static boolean isEmptyFolder(Path p) throws IOException {
        if (!Files.isDirectory(p)) return false;
        try (var files = Files.list(p)) {
            return files.findAny().isEmpty();
        }
    }
}
