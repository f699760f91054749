package dev.ltm.cli;

import dev.ltm.optim.Checkpoint;
import dev.ltm.optim.TrainingData;
import dev.ltm.tensor.Backend;
import dev.ltm.web.HeldOut;
import dev.ltm.web.LtmServer;
import dev.ltm.web.ServedModel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ltm serve}: the interactive page over a model, with its JSON API (module ltm-web). Without
 * {@code --checkpoint} it serves the demo's two models, training them first (as {@code ltm demo}
 * does) when they are not there yet. Prints {@code serving http://HOST:PORT} once it answers.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Serve the interactive demos (layer groups, thinking time, model card) and a JSON API over a model.")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--checkpoint",
            description = "Checkpoint folder of the LTM; default: the demo's, in --out (trained first when missing).")
    Path checkpoint;
    @Option(names = "--baseline",
            description = "Checkpoint of a baseline, whose perplexity the thinking-time plot shows; default: the demo's, with the demo.")
    Path baseline;
    @Option(names = "--out", defaultValue = "checkpoints",
            description = "Where the demo's checkpoints are, or are trained to (default: ${DEFAULT-VALUE}).")
    Path out;
    @Option(names = "--data",
            description = "A .txt/.md/.jsonl file or folder to probe and evaluate on; default: the checkpoint's held-out documents.")
    String data;
    @Option(names = "--host", defaultValue = "127.0.0.1",
            description = "Address to listen on (default: ${DEFAULT-VALUE}, this machine only).")
    String host;
    @Option(names = "--port", defaultValue = "8080",
            description = "Port, 0 = any free one (default: ${DEFAULT-VALUE}).")
    int port;
    @Option(names = "--max-docs", defaultValue = "48",
            description = "Held-out documents probed and evaluated at most (default: ${DEFAULT-VALUE}).")
    int maxDocs;
    @Option(names = "--queue", defaultValue = "8",
            description = "Requests that may wait per model behind the running one; more get HTTP 503 (default: ${DEFAULT-VALUE}).")
    int queue;
    @Mixin DeviceOption device;

    @Override public Integer call() throws InterruptedException {
        LtmServer server = start();
        if (server == null) return Main.BAD_INPUT;
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }

    /** Loads (or first trains) the models and starts the server; null when training the demo failed (it said why). */
    LtmServer start() {
        long started = System.nanoTime();
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port " + port + " must be in 0..65535");
        if (maxDocs < 1 || queue < 0) {
            throw new IllegalArgumentException("--max-docs " + maxDocs + " must be >= 1 and --queue " + queue + " >= 0");
        }
        Path ltmDir = checkpoint, baselineDir = baseline;
        if (checkpoint == null) {
            ltmDir = out.resolve(DemoCommand.LTM_FOLDER);
            if (baselineDir == null) baselineDir = out.resolve(DemoCommand.BASELINE_FOLDER);
            if (!Checkpoint.exists(ltmDir) || !Checkpoint.exists(baselineDir)) {
                System.err.println("ltm serve: the demo's checkpoints are not in " + out
                        + ": training them first (ltm demo --out " + out + ")");
                int code = Main.run("demo", "--out", out.toString(), "--device", device.device);
                if (code != 0) return null;
            }
        }
        Backend backend = device.select();
        Checkpoint ltm = Common.load(ltmDir, backend);
        ServedModel base = baselineDir == null ? null : new ServedModel(baselineDir.toString(), Common.load(baselineDir, backend));
        List<String> heldOut = data != null ? TrainingData.documents(new Checkpoint.DataSpec(data, 0, 0, 1, 0, "per_document"))
                : HeldOut.documents(ltm);
        if (heldOut.isEmpty()) System.err.println("ltm serve: " + ltmDir + " names no corpus of its own: probes and bounds need --data");
        LtmServer.Options options = LtmServer.Options.defaults().at(host, port).withQueue(queue).withMaxDocuments(maxDocs)
                .withLog(System.err);
        LtmServer server = LtmServer.start(new ServedModel(ltmDir.toString(), ltm), base, heldOut, options);
        System.out.println("serving " + server.uri().toString().replaceAll("/$", ""));
        System.err.printf("ltm serve: ready in %.1f s; Ctrl-C stops it%n", (System.nanoTime() - started) / 1e9);
        return server;
    }
}
