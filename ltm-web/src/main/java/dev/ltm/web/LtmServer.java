package dev.ltm.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.ltm.model.Sampling;
import dev.ltm.optim.Evaluator;
import dev.ltm.optim.Generation;
import dev.ltm.optim.LayerSet;
import dev.ltm.optim.Prober;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The {@code ltm serve} server: one page (static HTML, CSS and JS from this jar) and a JSON API
 * over a Latent Thought Model and, optionally, its N_z = 0 baseline. Each model computes one
 * request at a time behind a bounded queue; probe and bound results are cached per model.
 * Routes: {@code GET /api/model}, {@code POST /api/generate}, {@code POST /api/probe},
 * {@code GET /api/bound?tFast=0,4,16}; errors are {@code {"error": "one line"}}.
 */
public final class LtmServer implements AutoCloseable {
    /** The T_fast values of the thinking-time table: the slider's stops. */
    static final int[] T_FAST_STOPS = {0, 1, 2, 4, 8, 16, 32, 64};
    /** Request bodies are small JSON objects; anything longer is refused before it is read whole. */
    static final int MAX_BODY_BYTES = 64 * 1024;
    /** Layer counts above this are shown as this many contiguous groups of layers. */
    static final int MAX_LAYER_BOXES = 8;

    private static final Map<String, String> STATIC = Map.of("/", "index.html", "/index.html", "index.html",
            "/app.js", "app.js", "/style.css", "style.css");
    private static final Set<String> GENERATE_FIELDS = orderedSet("prompt", "layers", "maxTokens", "temperature", "topP", "seed", "tFast");

    /**
     * Where to listen and the limits: host and port (0: any free port), requests waiting per model
     * behind the running one, the most tokens one generation may ask for, the largest T_fast, the
     * held-out documents probed and evaluated at most, and where to log one line per API request (null: nowhere).
     */
    public record Options(String host, int port, int queue, int maxTokens, int maxTFast, int maxDocuments, PrintStream log) {
        /** Checks the ranges. */
        public Options {
            if (host == null || host.isBlank()) throw new IllegalArgumentException("serve: the host is empty");
            if (port < 0 || port > 65535) throw new IllegalArgumentException("serve: port " + port + " must be in 0..65535");
            if (queue < 0 || maxTokens < 1 || maxTFast < 0 || maxDocuments < 1) {
                throw new IllegalArgumentException("serve: queue " + queue + ", maxTokens " + maxTokens + ", maxTFast " + maxTFast
                        + ", maxDocuments " + maxDocuments + ": expected queue >= 0, maxTokens >= 1, maxTFast >= 0, maxDocuments >= 1");
            }
        }

        /** 127.0.0.1:8080, 8 waiting requests per model, at most 512 tokens and T_fast 64, 48 held-out documents, no log. */
        public static Options defaults() { return new Options("127.0.0.1", 8080, 8, 512, 64, 48, null); }

        /** These options on another host and port. */
        public Options at(String h, int p) { return new Options(h, p, queue, maxTokens, maxTFast, maxDocuments, log); }

        /** These options with another queue length per model. */
        public Options withQueue(int q) { return new Options(host, port, q, maxTokens, maxTFast, maxDocuments, log); }

        /** These options probing and evaluating at most {@code n} held-out documents. */
        public Options withMaxDocuments(int n) { return new Options(host, port, queue, maxTokens, maxTFast, n, log); }

        /** These options logging one line per API request to {@code out}. */
        public Options withLog(PrintStream out) { return new Options(host, port, queue, maxTokens, maxTFast, maxDocuments, out); }
    }

    private final ObjectMapper mapper = new ObjectMapper();
    private final Options options;
    private final ModelService ltm;
    private final ModelService baseline;
    private final List<String> heldOut;
    private final Map<String, byte[]> files = new LinkedHashMap<>();
    private final ExecutorService handlers = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpServer http;

    private LtmServer(ServedModel ltm, ServedModel baseline, List<String> heldOut, Options options) throws IOException {
        this.options = options;
        this.heldOut = List.copyOf(heldOut.subList(0, Math.min(heldOut.size(), options.maxDocuments())));
        this.ltm = new ModelService("LTM", ltm, this.heldOut, options.queue());
        this.baseline = baseline == null ? null : new ModelService("baseline", baseline, this.heldOut, options.queue());
        for (String name : STATIC.values()) files.putIfAbsent(name, resource(name));
        this.http = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 0);
        http.createContext("/", this::handle);
        http.setExecutor(handlers);
    }

    /**
     * Starts serving {@code ltm} (and {@code baseline}, which may be null) with probes and bounds measured
     * on {@code heldOut} (at most {@code options.maxDocuments()} of them; none: those two routes answer 400).
     */
    public static LtmServer start(ServedModel ltm, ServedModel baseline, List<String> heldOut, Options options) {
        try {
            LtmServer s = new LtmServer(ltm, baseline, heldOut, options);
            s.http.start();
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException("serve: cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage(), e);
        }
    }

    /** The page's address, {@code http://host:port/}, with the port actually bound. */
    public URI uri() { return URI.create("http://" + hostForUri() + ":" + port() + "/"); }

    /** The port listened on (the free one chosen when asked for 0). */
    public int port() { return http.getAddress().getPort(); }

    ModelService ltm() { return ltm; }

    ModelService baseline() { return baseline; }

    private String hostForUri() { return options.host().contains(":") ? "[" + options.host() + "]" : options.host(); }

    private void handle(HttpExchange ex) {
        long start = System.nanoTime();
        String method = ex.getRequestMethod(), path = ex.getRequestURI().getPath();
        int status;
        try {
            status = route(ex, method, path);
        } catch (ApiException e) {
            status = error(ex, e.status(), e.getMessage());
        } catch (IOException e) {
            status = 0; // the client went away while the request or the reply was on the wire: nobody to answer
        } catch (IllegalArgumentException e) {
            // The library validates what it is given (layers, sampling, prompt length) with one-line messages.
            status = error(ex, 400, oneLine(e));
        } catch (RuntimeException | Error e) {
            if (e.getClass().getPackageName().startsWith("dev.ltm") && e.getClass().getSimpleName().endsWith("Exception")) {
                status = error(ex, 400, oneLine(e));
            } else {
                if (options.log() != null) e.printStackTrace(options.log());
                status = error(ex, 500, "internal error: " + e.getClass().getSimpleName() + ": " + oneLine(e));
            }
        } finally {
            ex.close();
        }
        if (options.log() != null && path.startsWith("/api/")) {
            options.log().printf("%s %s %d in %.0f ms%n", method, path, status, (System.nanoTime() - start) / 1e6);
        }
    }

    private int route(HttpExchange ex, String method, String path) throws IOException {
        String file = STATIC.get(path);
        if (file != null) {
            allow(method, "GET");
            return send(ex, 200, contentType(file), files.get(file));
        }
        return switch (path) {
            case "/api/model" -> { allow(method, "GET"); yield json(ex, 200, ModelCard.of(mapper, ltm, baseline, heldOut, options)); }
            case "/api/generate" -> { allow(method, "POST"); yield json(ex, 200, generate(body(ex))); }
            case "/api/probe" -> { allow(method, "POST"); yield json(ex, 200, probe(body(ex))); }
            case "/api/bound" -> { allow(method, "GET"); yield json(ex, 200, bound(ex.getRequestURI().getRawQuery())); }
            default -> throw new ApiException(404, "no such page or API route: " + path
                    + " (the API is GET /api/model, POST /api/generate, POST /api/probe, GET /api/bound)");
        };
    }

    /** {@code POST /api/generate}: the continuation with only the given layers' thoughts kept. */
    record GenerateReply(String text, String prompt, String layers, Double nelboPerToken, boolean conditioned, int tFast, int tokens) {}

    private GenerateReply generate(String body) {
        GenerateRequest req = parseGenerate(mapper, body, ltm.config().layers(), maxTokens(), options.maxTFast(),
                Math.min(ltm.trainedTFast(), options.maxTFast()));
        Generation.Result r = ltm.generate(req.prompt(), req.options());
        Double nelbo = Double.isNaN(r.promptNelboPerToken()) ? null : r.promptNelboPerToken();
        return new GenerateReply(r.text(), req.prompt() == null ? "" : req.prompt(), r.zLayers().toString(), nelbo, r.conditioned(),
                req.options().tFast(), r.tokens().length);
    }

    /** A {@code POST /api/generate} body read: the prompt (null: unconditioned) and the generation's options. */
    record GenerateRequest(String prompt, Generation.Options options) {}

    /**
     * Reads a {@code POST /api/generate} body for a model of {@code layers} layers: every field checked, a
     * bad one an {@link ApiException} (400) or, from the layer-set parser, a one-line IllegalArgumentException.
     */
    static GenerateRequest parseGenerate(ObjectMapper mapper, String body, int layers, int maxTokens, int maxTFast, int defaultTFast) {
        String example = "{\"prompt\": \"Once upon a time\", \"layers\": \"all\", \"maxTokens\": 100}";
        ObjectNode o = Requests.object(mapper, body, example, GENERATE_FIELDS);
        String prompt = Requests.string(o, "prompt", null, "a string or null (null or \"\": unconditioned)");
        String layerText = Requests.string(o, "layers", "all", "a string such as \"1-2\", \"1,3\", \"all\" or \"none\"");
        LayerSet kept = LayerSet.parse(layerText, layers);
        int tokens = (int) Requests.integer(o, "maxTokens", Math.min(100, maxTokens), 0, maxTokens);
        double temperature = Requests.number(o, "temperature", 1.0, 0, false, 100);
        double topP = Requests.number(o, "topP", 1.0, 0, true, 1);
        long seed = Requests.integer(o, "seed", 0, Long.MIN_VALUE, Long.MAX_VALUE);
        int tFast = (int) Requests.integer(o, "tFast", defaultTFast, 0, maxTFast);
        return new GenerateRequest(prompt, new Generation.Options(tokens, new Sampling(temperature, 0, topP), false, 1.0,
                kept.toString(), seed, tFast, true));
    }

    /** The most tokens one generation may ask for: the cap, and never more than the context holds. */
    int maxTokens() { return Math.min(options.maxTokens(), ltm.config().maxSeqLen()); }

    /** {@code POST /api/probe}: reconstruction of the held-out documents with one layer set kept, and the table of sets. */
    record ProbeRow(String layers, double accuracy, double nllPerToken) {
        static ProbeRow of(Prober.Row r) { return new ProbeRow(r.layers().toString(), r.accuracy(), r.nllPerToken()); }
    }

    record ProbeReply(String layers, double accuracy, double nllPerToken, int tFast, int documents, long tokens, String table,
                      List<ProbeRow> rows) {}

    private ProbeReply probe(String body) {
        ModelService.Probe p = ltm.probe(parseProbe(mapper, body, ltm.config().layers()));
        boolean all = ltm.config().layers() <= ModelService.MAX_LAYERS_FOR_ALL_COMBINATIONS;
        return new ProbeReply(p.row().layers().toString(), p.row().accuracy(), p.row().nllPerToken(), p.tFast(), p.documents(), p.tokens(),
                all ? "every combination" : "layers 1..k", p.table().stream().map(ProbeRow::of).toList());
    }

    /** Reads a {@code POST /api/probe} body: the layer set kept, for a model of {@code layers} layers. */
    static LayerSet parseProbe(ObjectMapper mapper, String body, int layers) {
        ObjectNode o = Requests.object(mapper, body, "{\"layers\": \"1,3\"}", orderedSet("layers"));
        String text = Requests.string(o, "layers", "all", "a string such as \"1-2\", \"1,3\", \"all\" or \"none\"");
        return LayerSet.parse(text, layers);
    }

    /** {@code GET /api/bound}: one row per T_fast asked for, and the baseline's perplexity on the same documents. */
    record BoundRow(int tFast, double nelboPerToken, double perplexityBound, double nllPerToken, double klPerSequence) {
        static BoundRow of(Evaluator.Result r) {
            return new BoundRow(r.tFast(), r.nelboPerToken(), r.perplexityBound(), r.nllPerToken(), r.klPerSequence());
        }
    }

    record Baseline(double perplexity, double nllPerToken) {}

    record BoundReply(List<BoundRow> rows, Baseline baseline, int documents, long tokens) {}

    private BoundReply bound(String rawQuery) {
        int[] tFasts = parseBound(rawQuery, options.maxTFast());
        List<Evaluator.Result> results = ltm.bounds(tFasts);
        Baseline base = null;
        if (baseline != null) {
            // N_z = 0: nothing to fit, the bound is the plain perplexity.
            Evaluator.Result b = baseline.bounds(new int[] {baseline.config().latentCount() == 0 ? 0 : baseline.trainedTFast()}).getFirst();
            base = new Baseline(b.perplexityBound(), b.nllPerToken());
        }
        return new BoundReply(results.stream().map(BoundRow::of).toList(), base, heldOut.size(), results.getFirst().tokens());
    }

    /** Reads a {@code GET /api/bound} query: the T_fast values asked for (the default stops up to {@code maxTFast} when none). */
    static int[] parseBound(String rawQuery, int maxTFast) {
        Map<String, String> q = Requests.query(rawQuery, orderedSet("tFast"));
        return q.containsKey("tFast") ? Requests.intList("tFast", q.get("tFast"), maxTFast, T_FAST_STOPS.length * 2)
                : java.util.Arrays.stream(T_FAST_STOPS).filter(t -> t <= maxTFast).toArray();
    }

    private static void allow(String method, String expected) {
        if (!method.equals(expected)) throw new ApiException(405, method + " is not allowed here; use " + expected);
    }

    private static String body(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] b = in.readNBytes(MAX_BODY_BYTES + 1);
            if (b.length > MAX_BODY_BYTES) throw ApiException.badRequest("the request body is over " + MAX_BODY_BYTES + " bytes");
            return new String(b, StandardCharsets.UTF_8);
        }
    }

    private int json(HttpExchange ex, int status, Object value) throws IOException {
        return send(ex, status, "application/json; charset=utf-8", mapper.writeValueAsBytes(value));
    }

    private int error(HttpExchange ex, int status, String message) {
        try {
            ObjectNode o = mapper.createObjectNode().put("error", message.replace('\n', ' '));
            return send(ex, status, "application/json; charset=utf-8", mapper.writeValueAsBytes(o));
        } catch (IOException e) {
            return status; // the client went away: nothing left to tell it
        }
    }

    private static int send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        var h = ex.getResponseHeaders();
        h.set("Content-Type", type);
        h.set("Cache-Control", "no-store");
        h.set("X-Content-Type-Options", "nosniff");
        // Only this server's own script and styles: nothing that reached the page as text can run.
        h.set("Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
        ex.sendResponseHeaders(status, body.length);
        ex.getResponseBody().write(body);
        return status;
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = LtmServer.class.getResourceAsStream("static/" + name)) {
            if (in == null) throw new IOException("serve: the page's resource static/" + name + " is missing from the jar");
            return in.readAllBytes();
        }
    }

    private static String contentType(String file) {
        if (file.endsWith(".html")) return "text/html; charset=utf-8";
        if (file.endsWith(".js")) return "text/javascript; charset=utf-8";
        return "text/css; charset=utf-8";
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replace('\n', ' ');
    }

    private static Set<String> orderedSet(String... names) { return new java.util.LinkedHashSet<>(List.of(names)); }

    /** Stops listening and ends the models' workers; requests in flight are cut off. */
    @Override public void close() {
        http.stop(0);
        ltm.close();
        if (baseline != null) baseline.close();
        handlers.shutdownNow();
    }

    /** The layer boxes of the page: one per layer, or {@value #MAX_LAYER_BOXES} contiguous groups when L is larger. */
    static List<String> layerGroups(int layers) {
        List<String> groups = new ArrayList<>();
        int size = (layers + MAX_LAYER_BOXES - 1) / MAX_LAYER_BOXES;
        for (int lo = 1; lo <= layers; lo += size) {
            int hi = Math.min(layers, lo + size - 1);
            groups.add(lo == hi ? Integer.toString(lo) : lo + "-" + hi);
        }
        return groups;
    }
}
