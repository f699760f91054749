package dev.ltm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ltm.web.LtmServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ServeCommandTest {
    @TempDir static Path tmp;
    static Path ltm, baseline;

    @BeforeAll
    static void trainTinyModels() {
        ltm = tmp.resolve("ltm");
        baseline = tmp.resolve("baseline");
        assertThat(CliTest.run(CliTest.train(ltm)).code()).isZero();
        assertThat(CliTest.run(CliTest.train(baseline, "--latents", "0")).code()).isZero();
    }

    /** What {@code serve ARGS} printed while starting, and the server it started. */
    record Started(String out, LtmServer server) {}

    static Started start(String... args) {
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs(args);
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            LtmServer server = serve.start();
            return new Started(out.toString(StandardCharsets.UTF_8), server);
        } finally {
            System.setOut(old);
        }
    }

    static String get(URI uri) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    @Test
    void serveACheckpointPrintsItsAddressOnLoopbackAndAnswers() throws Exception {
        Started s = start("--checkpoint", ltm.toString(), "--port", "0");
        try (LtmServer server = s.server()) {
            assertThat(s.out()).isEqualTo("serving http://127.0.0.1:" + server.port() + System.lineSeparator());
            String card = get(server.uri().resolve("/api/model"));
            assertThat(card).contains("\"source\":\"" + ltm + "\"").contains("\"baseline\":null").contains("\"heldOutDocuments\":6");
        }
    }

    @Test
    void withoutACheckpointServeShowsTheDemosTwoModels() throws Exception {
        Path out = tmp.resolve("demo-out");
        copy(ltm, out.resolve(DemoCommand.LTM_FOLDER));
        copy(baseline, out.resolve(DemoCommand.BASELINE_FOLDER));
        Started s = start("--out", out.toString(), "--port", "0");
        try (LtmServer server = s.server()) {
            String card = get(server.uri().resolve("/api/model"));
            assertThat(card).contains("\"source\":\"" + out.resolve("demo-ltm") + "\"")
                    .contains("\"source\":\"" + out.resolve("demo-baseline") + "\"");
            assertThat(get(server.uri().resolve("/api/bound?tFast=0"))).contains("\"baseline\":{\"perplexity\":");
        }
    }

    @Test
    void badServeOptionsAreOneLineErrors() throws IOException {
        CliTest.run("serve", "--checkpoint", tmp.resolve("missing").toString(), "--port", "0").isOneLineError("not found");
        CliTest.run("serve", "--checkpoint", ltm.toString(), "--port", "70000").isOneLineError("--port 70000 must be in 0..65535");
        CliTest.run("serve", "--checkpoint", ltm.toString(), "--port", "0", "--max-docs", "0").isOneLineError("--max-docs 0");
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            CliTest.run("serve", "--checkpoint", ltm.toString(), "--port", Integer.toString(taken.getLocalPort()))
                    .isOneLineError("cannot listen on 127.0.0.1:" + taken.getLocalPort());
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) Files.copy(f, to.resolve(f.getFileName()));
        }
    }
}
