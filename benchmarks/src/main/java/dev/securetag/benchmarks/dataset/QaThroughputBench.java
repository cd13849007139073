package dev.securetag.benchmarks.dataset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.securetag.core.Chunk;
import dev.securetag.core.LlmClient;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.core.RemoteServiceException;
import dev.securetag.core.SourceRef;
import dev.securetag.core.internal.Json;
import dev.securetag.dataset.GenerationResult;
import dev.securetag.dataset.QaGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;

/**
 * QaGenerator throughput against a local fake Ollama that answers every /api/generate after 200 ms, at
 * concurrency 1 and 8 (loopback only). Args: [chunks at concurrency 1] [chunks at concurrency 8].
 */
public final class QaThroughputBench {
  private QaThroughputBench() {}

  public static void main(String[] args) throws IOException {
    int n1 = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    int n8 = args.length > 1 ? Integer.parseInt(args[1]) : 80;
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.setExecutor(Executors.newFixedThreadPool(32));
    server.createContext("/api/generate", ex -> {
      JsonNode body = Json.readTree(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8), "req");
      String prompt = body.get("prompt").asText();
      int at = prompt.indexOf("CHUNK-");
      String id = prompt.substring(at + 6, prompt.indexOf(' ', at));
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ObjectNode resp = Json.object();
      resp.put("model", "fake");
      resp.put("response", "[{\"question\": \"What does control " + id + " require?\", \"answer\": \"Control " + id
          + " requires access rights to be reviewed at planned intervals.\"}]");
      resp.put("done", true);
      byte[] bytes = Json.write(resp).getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, bytes.length);
      try (OutputStream os = ex.getResponseBody()) {
        os.write(bytes);
      }
    });
    server.start();
    String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/api/generate";
    try (LlmClient client = new FakeClient(url)) {
      run(client, 1, n1);
      double t1 = run(client, 1, n1);
      double t8 = run(client, 8, n8);
      System.out.printf(Locale.ROOT, "speedup concurrency 8 vs 1: %.2fx%n", t8 / t1);
    } finally {
      server.stop(0);
      ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
  }

  /** Returns chunks per second. */
  private static double run(LlmClient client, int concurrency, int n) {
    List<Chunk> chunks = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      chunks.add(Chunk.builder().text("CHUNK-" + concurrency + "x" + i + " Control requires access rights to be"
          + " reviewed at planned intervals by the asset owner.").source(SourceRef.of("bench.pdf", 1)).index(i)
          .tokenCount(20).build());
    }
    try (QaGenerator g = QaGenerator.builder().llm(client).concurrency(concurrency).build()) {
      long t = System.nanoTime();
      GenerationResult r = g.generate(chunks);
      double s = (System.nanoTime() - t) / 1e9;
      System.out.printf(Locale.ROOT, "concurrency %d: %d chunks in %.2f s = %.2f chunks/s (%d pairs)%n",
          concurrency, n, s, n / s, r.pairs().size());
      return n / s;
    }
  }

  /** Minimal Ollama client over the JDK HTTP client (the bench must not depend on the client module's API). */
  private static final class FakeClient implements LlmClient {
    private final HttpClient http = HttpClient.newHttpClient();
    private final URI uri;

    FakeClient(String url) {
      this.uri = URI.create(url);
    }

    @Override
    public LlmResponse generate(LlmRequest request) {
      ObjectNode body = Json.object();
      body.put("model", "fake");
      body.put("prompt", request.prompt());
      body.put("stream", false);
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri)
            .POST(HttpRequest.BodyPublishers.ofString(Json.write(body))).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
          throw new RemoteServiceException(RemoteServiceException.kindForStatus(r.statusCode()), r.statusCode(),
              "HTTP " + r.statusCode(), null, null);
        }
        return LlmResponse.of(Json.readTree(r.body(), "resp").get("response").asText(), "fake");
      } catch (IOException e) {
        throw new RemoteServiceException(RemoteServiceException.Kind.CONNECTION, e.getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RemoteServiceException(RemoteServiceException.Kind.CONNECTION, "interrupted", e);
      }
    }

    @Override
    public String modelName() {
      return "fake";
    }
  }
}
