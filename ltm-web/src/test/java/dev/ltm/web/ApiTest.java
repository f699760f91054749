package dev.ltm.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ltm.model.Sampling;
import dev.ltm.model.TokenBatch;
import dev.ltm.optim.Checkpoint;
import dev.ltm.optim.Evaluator;
import dev.ltm.optim.Generation;
import dev.ltm.optim.LayerSet;
import dev.ltm.optim.Prober;
import dev.ltm.optim.TrainingData;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The JSON API over HTTP, against a server on a free 127.0.0.1 port serving a tiny LTM and its baseline. */
class ApiTest {
    @TempDir static Path tmp;
    static Checkpoint ltm, baseline;
    static LtmServer server;
    static List<String> heldOut;
    static final HttpClient CLIENT = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();
    /** Threads of their own for requests in flight at once (the common pool may have a single thread on two cores). */
    static final ExecutorService THREADS = Executors.newVirtualThreadPerTaskExecutor();

    record Reply(int status, JsonNode json, HttpResponse<String> raw) {}

    @BeforeAll
    static void serveTinyModels() {
        ltm = TinyCheckpoints.train(tmp.resolve("ltm"), 3);
        baseline = TinyCheckpoints.train(tmp.resolve("baseline"), 0);
        heldOut = HeldOut.documents(ltm);
        server = LtmServer.start(new ServedModel("tiny-ltm", ltm), new ServedModel("tiny-baseline", baseline), heldOut,
                LtmServer.Options.defaults().at("127.0.0.1", 0).withMaxDocuments(6).withQueue(8));
    }

    @AfterAll
    static void stop() { server.close(); }

    static Reply send(LtmServer s, String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(s.uri().resolve(path));
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try {
            HttpResponse<String> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.body().isEmpty() ? null : JSON.readTree(r.body()), r);
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(method + " " + path + ": " + e, e);
        }
    }

    static Reply get(String path) { return send(server, "GET", path, null); }

    static Reply post(String path, String body) { return send(server, "POST", path, body); }

    static List<TokenBatch> heldOutBatches(Checkpoint c) {
        return TrainingData.perDocument(heldOut.subList(0, 6), c.tokenizer(), c.config().model().maxSeqLen(), 8);
    }

    @Test
    void theServerListensOnLoopbackOnly() {
        assertThat(LtmServer.Options.defaults().host()).isEqualTo("127.0.0.1");
        assertThat(server.uri().getHost()).isEqualTo("127.0.0.1");
        assertThat(server.port()).isPositive();
    }

    @Test
    void modelCardDescribesBothCheckpoints() {
        Reply r = get("/api/model");
        assertThat(r.status()).isEqualTo(200);
        JsonNode card = r.json().get("ltm");
        assertThat(card.get("source").asText()).isEqualTo("tiny-ltm");
        assertThat(card.get("parameters").asLong()).isEqualTo(ltm.model().parameterCount());
        assertThat(card.at("/config/layers").asInt()).isEqualTo(3);
        assertThat(card.at("/config/latentCount").asInt()).isEqualTo(3);
        assertThat(card.at("/training/step").asInt()).isEqualTo(6);
        assertThat(card.at("/training/tokensSeen").asLong()).isEqualTo(6L * 4 * 64);
        assertThat(card.at("/training/settings/fast/steps").asInt()).isEqualTo(2);
        assertThat(card.at("/data/source").asText()).isEqualTo("stories");
        assertThat(r.json().at("/baseline/config/latentCount").asInt()).isZero();
        assertThat(r.json().get("layerGroups")).extracting(JsonNode::asText).containsExactly("1", "2", "3");
        assertThat(r.json().get("heldOutDocuments").asInt()).isEqualTo(6);
        assertThat(r.json().at("/limits/maxTokens").asInt()).isEqualTo(64);
        assertThat(heldOut.getFirst()).startsWith(r.json().get("examplePrompt").asText());
    }

    @Test
    void generateKeepsOnlyTheAskedLayersAndEqualsTheLibrary() {
        Reply r = post("/api/generate", "{\"prompt\": \"Once upon a time\", \"layers\": \"1,3\", \"maxTokens\": 20, "
                + "\"temperature\": 0.8, \"topP\": 0.9, \"seed\": 5, \"tFast\": 3}");
        assertThat(r.status()).as(r.raw().body()).isEqualTo(200);
        Generation.Options o = new Generation.Options(20, new Sampling(0.8, 0, 0.9), false, 1.0, "1,3", 5, 3, true);
        Generation.Result expected = new Generation(ltm.model(), ltm.tokenizer(), ltm.trainer().settings().fast())
                .generate("Once upon a time", o);
        assertThat(r.json().get("text").asText()).isEqualTo(expected.text());
        assertThat(r.json().get("layers").asText()).isEqualTo("1,3");
        assertThat(r.json().get("conditioned").asBoolean()).isTrue();
        assertThat(r.json().get("tFast").asInt()).isEqualTo(3);
        assertThat(r.json().get("tokens").asInt()).isEqualTo(expected.tokens().length);
        assertThat(r.json().get("nelboPerToken").asDouble()).isEqualTo(expected.promptNelboPerToken());
    }

    @Test
    void generateWithoutAPromptDrawsTheThoughtsFromThePrior() {
        Reply r = post("/api/generate", "{\"prompt\": null, \"layers\": \"none\", \"maxTokens\": 12, \"seed\": 2}");
        assertThat(r.status()).as(r.raw().body()).isEqualTo(200);
        assertThat(r.json().get("conditioned").asBoolean()).isFalse();
        assertThat(r.json().get("nelboPerToken").isNull()).isTrue();
        assertThat(r.json().get("layers").asText()).isEqualTo("none");
        assertThat(r.json().get("tokens").asInt()).isBetween(1, 12);
        assertThat(r.json().get("prompt").asText()).isEmpty();
    }

    @Test
    void probeReportsEveryCombinationOfLayersAsTheProberDoes() {
        Reply r = post("/api/probe", "{\"layers\": \"1,3\"}");
        assertThat(r.status()).as(r.raw().body()).isEqualTo(200);
        Prober.Report expected = new Prober(ltm.model(), ltm.trainer().settings().fast(), 0)
                .probe(heldOutBatches(ltm), List.of(LayerSet.parse("1,3", 3)));
        Prober.Row row = expected.sets().getFirst();
        assertThat(r.json().get("layers").asText()).isEqualTo("1,3");
        assertThat(r.json().get("nllPerToken").asDouble()).isEqualTo(row.nllPerToken());
        assertThat(r.json().get("accuracy").asDouble()).isEqualTo(row.accuracy());
        assertThat(r.json().get("tokens").asLong()).isEqualTo(row.tokens());
        assertThat(r.json().get("table").asText()).isEqualTo("every combination");
        List<String> sets = new ArrayList<>();
        r.json().get("rows").forEach(x -> sets.add(x.get("layers").asText()));
        assertThat(sets).containsExactly("none", "1", "2", "3", "1-2", "1,3", "2-3", "1-3");
        JsonNode all = r.json().get("rows").get(7);
        assertThat(all.get("nllPerToken").asDouble()).isEqualTo(expected.full().nllPerToken());
    }

    @Test
    void probeResultsAreCachedPerModel() {
        post("/api/probe", "{\"layers\": \"2\"}");
        int fits = server.ltm().fits();
        for (String set : new String[] {"1", "2-3", "all", "none"}) {
            Reply r = post("/api/probe", "{\"layers\": \"" + set + "\"}");
            assertThat(r.status()).isEqualTo(200);
        }
        assertThat(server.ltm().fits()).as("fits after the first probe").isEqualTo(fits);
    }

    @Test
    void boundEqualsTheEvaluatorAndTheBaselineIsItsPerplexity() {
        Reply r = get("/api/bound?tFast=0,4,16");
        assertThat(r.status()).as(r.raw().body()).isEqualTo(200);
        Evaluator ev = new Evaluator(ltm.model(), ltm.trainer().settings().fast(), 0);
        int[] ts = {0, 4, 16};
        for (int i = 0; i < ts.length; i++) {
            Evaluator.Result e = ev.evaluate(heldOutBatches(ltm), ts[i]);
            JsonNode row = r.json().get("rows").get(i);
            assertThat(row.get("tFast").asInt()).isEqualTo(ts[i]);
            assertThat(row.get("perplexityBound").asDouble()).isEqualTo(e.perplexityBound());
            assertThat(row.get("nllPerToken").asDouble()).isEqualTo(e.nllPerToken());
            assertThat(row.get("klPerSequence").asDouble()).isEqualTo(e.klPerSequence());
        }
        Evaluator.Result base = new Evaluator(baseline.model(), baseline.trainer().settings().fast(), 0)
                .evaluate(heldOutBatches(baseline), 0);
        assertThat(r.json().at("/baseline/perplexity").asDouble()).isEqualTo(base.perplexityBound());
        assertThat(r.json().get("documents").asInt()).isEqualTo(6);
    }

    @Test
    void boundResultsAreCachedPerModel() {
        get("/api/bound?tFast=0,1,2");
        int ltmFits = server.ltm().fits(), baseFits = server.baseline().fits();
        Reply again = get("/api/bound?tFast=2,1,0");
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().get("rows")).extracting(x -> x.get("tFast").asInt()).containsExactly(2, 1, 0);
        assertThat(server.ltm().fits()).isEqualTo(ltmFits);
        assertThat(server.baseline().fits()).isEqualTo(baseFits);
        get("/api/bound?tFast=0,8");
        assertThat(server.ltm().fits()).as("one new T_fast, one new fit").isEqualTo(ltmFits + 1);
    }

    @ParameterizedTest(name = "{0} {1} -> 400 naming {3}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "POST | /api/generate | {\"layers\": \"4\"}                  | layer 4 is outside 1..3",
        "POST | /api/generate | {\"layers\": \"two\"}                | 'two' is not a layer number",
        "POST | /api/generate | {\"layers\": 2}                      | 'layers' is an integer",
        "POST | /api/generate | {\"maxTokens\": -1}                  | 'maxTokens' is -1; expected an integer in 0..64",
        "POST | /api/generate | {\"maxTokens\": 100000}              | 'maxTokens' is 100000; expected an integer in 0..64",
        "POST | /api/generate | {\"maxTokens\": 1e40}                | 'maxTokens' is 1.0E40, a number",
        "POST | /api/generate | {\"maxTokens\": \"12\"}             | 'maxTokens' is \"12\", a string",
        "POST | /api/generate | {\"temperature\": \"hot\"}          | 'temperature' is \"hot\", a string",
        "POST | /api/generate | {\"temperature\": -0.5}             | 'temperature' is -0.5; expected a number in [0, 100]",
        "POST | /api/generate | {\"topP\": 0}                       | 'topP' is 0; expected a number in (0, 1]",
        "POST | /api/generate | {\"seed\": 1.5}                     | 'seed' is 1.5, a number",
        "POST | /api/generate | {\"tFast\": 65}                     | 'tFast' is 65; expected an integer in 0..64",
        "POST | /api/generate | {\"tFast\": -1}                     | 'tFast' is -1",
        "POST | /api/generate | {\"prompt\": 7}                     | 'prompt' is an integer; expected a string or null",
        "POST | /api/generate | {\"prompt\": \"Once\", \"extra\": 1} | unknown field 'extra'",
        "POST | /api/generate | {\"prompt\": \"Once\"               | malformed JSON",
        "POST | /api/generate | {\"prompt\": \"Once\"} trailing     | malformed JSON",
        "POST | /api/generate | [1, 2]                               | the body is not a JSON object but an array",
        "POST | /api/generate | ``                                   | the request body is empty",
        "POST | /api/probe    | {\"layers\": \"0-2\"}                | layer 0 is outside 1..3",
        "POST | /api/probe    | {\"layers\": [1]}                    | 'layers' is an array",
        "GET  | /api/bound?tFast=0,99                                  | `` | tFast '0,99': 99 is outside 0..64",
        "GET  | /api/bound?tFast=four                                  | `` | 'four' is not an integer",
        "GET  | /api/bound?tfast=4                                     | `` | unknown query parameter 'tfast'",
    })
    void badInputIsA400WithOneLine(String method, String path, String body, String fragment) {
        Reply r = send(server, method, path, method.equals("GET") ? null : body);
        assertThat(r.status()).as(r.raw().body()).isEqualTo(400);
        assertThat(r.raw().headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        assertThat(r.json().size()).isEqualTo(1);
        assertThat(r.json().get("error").asText()).contains(fragment).doesNotContain("\n").doesNotContain("Exception");
    }

    @Test
    void aPromptLongerThanTheContextIsA400() {
        Reply r = post("/api/generate", "{\"prompt\": \"" + "a".repeat(80) + "\"}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("error").asText()).isEqualTo(
                "generate: the prompt is 81 tokens with BOS, the context holds 64: give a prompt of at most 62 tokens");
    }

    @Test
    void anOversizedBodyIsRefusedBeforeItIsRead() {
        Reply r = post("/api/generate", "{\"prompt\": \"" + "a".repeat(LtmServer.MAX_BODY_BYTES) + "\"}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("error").asText()).isEqualTo("the request body is over 65536 bytes");
    }

    @Test
    void unknownRoutesAndWrongMethodsAreJsonErrors() {
        Reply missing = get("/api/nothing");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.json().get("error").asText()).contains("/api/nothing").contains("GET /api/model");
        Reply wrong = send(server, "GET", "/api/generate", null);
        assertThat(wrong.status()).isEqualTo(405);
        assertThat(wrong.json().get("error").asText()).isEqualTo("GET is not allowed here; use POST");
        assertThat(send(server, "DELETE", "/", null).status()).isEqualTo(405);
        assertThat(get("/../pom.xml").status()).isEqualTo(404);
    }

    @Test
    void thePageAndItsFilesComeFromTheJarWithAStrictContentPolicy() {
        HttpResponse<String> page = sendRaw("/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(page.headers().firstValue("Content-Security-Policy"))
                .hasValueSatisfying(v -> assertThat(v).startsWith("default-src 'self'"));
        assertThat(page.body()).contains("<script src=\"app.js\" defer></script>").doesNotContain("http://").doesNotContain("https://");
        HttpResponse<String> js = sendRaw("/app.js");
        assertThat(js.statusCode()).isEqualTo(200);
        assertThat(js.headers().firstValue("Content-Type")).hasValue("text/javascript; charset=utf-8");
        assertThat(js.body()).contains("textContent").doesNotContain("innerHTML").doesNotContain("insertAdjacentHTML");
        assertThat(sendRaw("/style.css").statusCode()).isEqualTo(200);
    }

    static HttpResponse<String> sendRaw(String path) {
        try {
            return CLIENT.send(HttpRequest.newBuilder(server.uri().resolve(path)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(path + ": " + e, e);
        }
    }

    @Test
    void concurrentRequestsAreServedOneAtATimeAndEachEqualsItsSequentialAnswer() {
        List<CompletableFuture<HttpResponse<String>>> replies = new ArrayList<>();
        for (int seed = 0; seed < 6; seed++) {
            String body = "{\"prompt\": \"Once upon\", \"layers\": \"2\", \"maxTokens\": 16, \"seed\": " + seed + "}";
            replies.add(CLIENT.sendAsync(HttpRequest.newBuilder(server.uri().resolve("/api/generate"))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture<Reply> probe = CompletableFuture.supplyAsync(() -> post("/api/probe", "{\"layers\": \"1-2\"}"), THREADS);
        for (int seed = 0; seed < 6; seed++) {
            HttpResponse<String> r = replies.get(seed).join();
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            Reply alone = post("/api/generate",
                    "{\"prompt\": \"Once upon\", \"layers\": \"2\", \"maxTokens\": 16, \"seed\": " + seed + "}");
            assertThat(r.body()).isEqualTo(alone.raw().body());
        }
        assertThat(probe.join().status()).isEqualTo(200);
    }

    @Test
    @Timeout(120) // a guard against a hang, not a measurement
    void aFullQueueIsA503AndTheQueuedRequestsStillComplete() throws Exception {
        try (LtmServer small = LtmServer.start(new ServedModel("tiny-ltm", ltm), null, heldOut,
                LtmServer.Options.defaults().at("127.0.0.1", 0).withQueue(1).withMaxDocuments(2))) {
            CountDownLatch running = new CountDownLatch(1), release = new CountDownLatch(1);
            // Occupy the model's one computation slot, as a long generation would.
            CompletableFuture<Object> blocker = CompletableFuture.supplyAsync(() -> small.ltm().worker().call(() -> {
                running.countDown();
                return release.await(60, TimeUnit.SECONDS);
            }), THREADS);
            assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();
            String body = "{\"prompt\": \"Once\", \"maxTokens\": 4}";
            CompletableFuture<Reply> queued = CompletableFuture.supplyAsync(() -> send(small, "POST", "/api/generate", body), THREADS);
            for (int i = 0; i < 6000 && small.ltm().worker().waiting() < 1; i++) Thread.sleep(5);
            assertThat(small.ltm().worker().waiting()).as("requests queued behind the blocked one").isEqualTo(1);
            Reply refused = send(small, "POST", "/api/generate", body);
            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.json().get("error").asText())
                    .isEqualTo("the LTM model is busy: one computation runs and 1 wait; try again in a moment");
            Reply cached = send(small, "GET", "/api/model", null);
            assertThat(cached.status()).as("the model card needs no computation").isEqualTo(200);
            release.countDown();
            assertThat(blocker.get(30, TimeUnit.SECONDS)).isEqualTo(true);
            assertThat(queued.get(30, TimeUnit.SECONDS).status()).isEqualTo(200);
            assertThat(send(small, "POST", "/api/generate", body).status()).isEqualTo(200);
        }
    }

    @Test
    void withoutHeldOutDocumentsProbeAndBoundSayWhatIsMissing() {
        LtmServer.Options options = LtmServer.Options.defaults().at("127.0.0.1", 0);
        try (LtmServer bare = LtmServer.start(new ServedModel("tiny-ltm", ltm), null, List.of(), options)) {
            Reply probe = send(bare, "POST", "/api/probe", "{\"layers\": \"1\"}");
            assertThat(probe.status()).isEqualTo(400);
            assertThat(probe.json().get("error").asText()).contains("no held-out documents").contains("--data");
            Reply bound = send(bare, "GET", "/api/bound", null);
            assertThat(bound.status()).isEqualTo(400);
            assertThat(send(bare, "GET", "/api/model", null).json().get("baseline").isNull()).isTrue();
        }
    }

    @Test
    void aBaselineServedAsTheModelHasNothingToProbe() {
        try (LtmServer base = LtmServer.start(new ServedModel("tiny-baseline", baseline), null, heldOut,
                LtmServer.Options.defaults().at("127.0.0.1", 0).withMaxDocuments(2))) {
            Reply probe = send(base, "POST", "/api/probe", "{\"layers\": \"all\"}");
            assertThat(probe.status()).isEqualTo(400);
            assertThat(probe.json().get("error").asText()).isEqualTo("probe: the LTM model has no thoughts (N_z = 0), nothing to probe");
            Reply gen = send(base, "POST", "/api/generate", "{\"prompt\": \"Once\", \"maxTokens\": 5}");
            assertThat(gen.status()).isEqualTo(200);
            assertThat(gen.json().get("conditioned").asBoolean()).isFalse();
        }
    }

    @Test
    void manyLayersAreShownAsAtMostEightGroups() {
        assertThat(LtmServer.layerGroups(2)).containsExactly("1", "2");
        assertThat(LtmServer.layerGroups(8)).hasSize(8);
        assertThat(LtmServer.layerGroups(12)).containsExactly("1-2", "3-4", "5-6", "7-8", "9-10", "11-12");
        assertThat(LtmServer.layerGroups(24)).containsExactly("1-3", "4-6", "7-9", "10-12", "13-15", "16-18", "19-21", "22-24");
        assertThat(LtmServer.layerGroups(9)).containsExactly("1-2", "3-4", "5-6", "7-8", "9");
    }
}
