package dev.securetag.ollama.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.internal.Json;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link OllamaServer} over a plain {@link dev.securetag.core.LlmClient}, driven over loopback HTTP. */
class OllamaServerTest {
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> get(OllamaServer s, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(s.baseUrl() + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(OllamaServer s, String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.baseUrl() + path))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(String s) {
    return Json.readTree(s, "reply");
  }

  private static List<JsonNode> lines(String body) {
    List<JsonNode> out = new ArrayList<>();
    for (String l : body.split("\n")) {
      if (!l.isBlank()) {
        out.add(json(l));
      }
    }
    return out;
  }

  @Test
  void servesAnyLlmClientWithOllamasRoutes() throws Exception {
    EchoModel model = new EchoModel();
    try (OllamaServer s = OllamaServer.builder().client(model).model("securetag").build()) {
      assertThat(s.address().getAddress().isLoopbackAddress()).isTrue();
      assertThat(get(s, "/").body()).isEqualTo("Ollama is running");
      assertThat(json(get(s, "/api/version").body()).path("version").asText()).isEqualTo(OllamaServer.OLLAMA_API_VERSION);
      assertThat(json(get(s, "/api/tags").body()).path("models").get(0).path("name").asText()).isEqualTo("securetag");
      assertThat(json(get(s, "/api/ps").body()).path("models")).isEmpty();
      assertThat(json(post(s, "/api/show", "{\"model\":\"securetag:latest\"}").body()).path("capabilities").get(0)
          .asText()).isEqualTo("completion");
      HttpResponse<String> r = post(s, "/api/generate",
          "{\"model\":\"securetag\",\"prompt\":\"hello there\",\"system\":\"be brief\",\"stream\":false,"
              + "\"options\":{\"temperature\":0.2,\"top_p\":0.9,\"seed\":7,\"stop\":[\"###\"]}}");
      assertThat(r.statusCode()).isEqualTo(200);
      JsonNode n = json(r.body());
      assertThat(n.path("response").asText()).isEqualTo("echo: [be brief] hello there");
      assertThat(n.path("done").asBoolean()).isTrue();
      assertThat(n.path("done_reason").asText()).isEqualTo("stop");
      assertThat(n.path("eval_count").asInt()).isEqualTo(5);
      assertThat(model.last.get().temperature()).hasValue(0.2);
      assertThat(model.last.get().topP()).hasValue(0.9);
      assertThat(model.last.get().seed()).hasValue(7L);
      assertThat(model.last.get().stop()).containsExactly("###");
      assertThat(model.last.get().model()).hasValue("securetag");
    }
  }

  @Test
  void streamsEachPieceAsAnNdjsonLineEndingWithDone() throws Exception {
    try (OllamaServer s = OllamaServer.builder().client(new EchoModel()).build()) {
      HttpResponse<String> r = post(s, "/api/generate",
          "{\"model\":\"echo\",\"prompt\":\"one two three\",\"options\":{\"num_predict\":3}}");
      assertThat(r.headers().firstValue("Content-Type")).hasValue("application/x-ndjson");
      List<JsonNode> lines = lines(r.body());
      assertThat(lines).hasSize(4);
      assertThat(lines.subList(0, 3)).extracting(l -> l.path("response").asText()).containsExactly("echo:", " one",
          " two");
      assertThat(lines.get(3).path("done").asBoolean()).isTrue();
      assertThat(lines.get(3).path("response").asText()).isEmpty();
    }
  }

  @Test
  void chatUsesTheClientsChatAndRefusesWhatItCannotServe() throws Exception {
    try (OllamaServer s = OllamaServer.builder().client(new EchoModel()).build()) {
      JsonNode one = json(post(s, "/api/chat", "{\"model\":\"echo\",\"stream\":false,\"messages\":["
          + "{\"role\":\"system\",\"content\":\"sys\"},{\"role\":\"user\",\"content\":\"hi\"}]}").body());
      assertThat(one.path("message").path("role").asText()).isEqualTo("assistant");
      assertThat(one.path("message").path("content").asText()).isEqualTo("echo: [sys] hi");
      // LlmClient's default chat serves one user turn; a longer conversation is refused, not flattened.
      HttpResponse<String> multi = post(s, "/api/chat", "{\"model\":\"echo\",\"messages\":["
          + "{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"},"
          + "{\"role\":\"user\",\"content\":\"c\"}]}");
      assertThat(multi.statusCode()).isEqualTo(400);
      assertThat(json(multi.body()).path("error").asText()).contains("no chat API");
      HttpResponse<String> raw = post(s, "/api/generate", "{\"model\":\"echo\",\"prompt\":\"x\",\"raw\":true}");
      assertThat(raw.statusCode()).isEqualTo(400);
      assertThat(json(raw.body()).path("error_kind").asText()).isEqualTo("invalid_request");
      JsonNode load = json(post(s, "/api/chat", "{\"model\":\"echo\",\"messages\":[]}").body());
      assertThat(load.path("done_reason").asText()).isEqualTo("load");
    }
  }

  @Test
  void badRequestsGetOllamaErrorBodiesWithAKind() throws Exception {
    EchoModel model = new EchoModel();
    try (OllamaServer s = OllamaServer.builder().client(model).maxBodyBytes(256).build()) {
      HttpResponse<String> noModel = post(s, "/api/generate", "{\"prompt\":\"x\"}");
      assertThat(noModel.statusCode()).isEqualTo(400);
      assertThat(json(noModel.body()).path("error").asText()).isEqualTo("model is required");
      HttpResponse<String> unknown = post(s, "/api/generate", "{\"model\":\"llama3\",\"prompt\":\"x\"}");
      assertThat(unknown.statusCode()).isEqualTo(404);
      assertThat(json(unknown.body()).path("error").asText()).isEqualTo("model 'llama3' not found");
      assertThat(post(s, "/api/generate", "{not json").statusCode()).isEqualTo(400);
      assertThat(post(s, "/api/generate", "[1]").statusCode()).isEqualTo(400);
      HttpResponse<String> wrongType = post(s, "/api/chat", "{\"model\":\"echo\",\"messages\":\"hi\"}");
      assertThat(wrongType.statusCode()).isEqualTo(400);
      assertThat(json(wrongType.body()).path("error").asText()).startsWith("invalid request");
      HttpResponse<String> big = post(s, "/api/generate", "{\"model\":\"echo\",\"prompt\":\"" + "x".repeat(400) + "\"}");
      assertThat(big.statusCode()).isEqualTo(413);
      assertThat(json(big.body()).path("error_kind").asText()).isEqualTo("too_large");
      HttpResponse<String> method = get(s, "/api/generate");
      assertThat(method.statusCode()).isEqualTo(405);
      assertThat(method.headers().firstValue("Allow")).hasValue("POST");
      assertThat(get(s, "/api/nothing").statusCode()).isEqualTo(404);
      assertThat(model.calls.get()).isZero();
    }
  }

  @Test
  void anApiKeyGuardsEverythingButTheRoot() throws Exception {
    try (OllamaServer s = OllamaServer.builder().client(new EchoModel()).apiKey("k-123").build()) {
      assertThat(get(s, "/api/tags").statusCode()).isEqualTo(401);
      assertThat(post(s, "/api/generate", "{\"model\":\"echo\",\"prompt\":\"x\",\"stream\":false}",
          "Authorization", "Bearer wrong").statusCode()).isEqualTo(401);
      assertThat(post(s, "/api/generate", "{\"model\":\"echo\",\"prompt\":\"x\",\"stream\":false}",
          "Authorization", "bearer k-123").statusCode()).isEqualTo(200);
      assertThat(get(s, "/").statusCode()).isEqualTo(200);
      assertThat(s.toString()).doesNotContain("k-123");
    }
  }

  @Test
  void generationsBeyondTheLimitQueueThenGet503WithRetryAfter() throws Exception {
    EchoModel model = new EchoModel();
    model.hold = new CountDownLatch(1);
    try (OllamaServer s = OllamaServer.builder().client(model).concurrency(1).admissionWait(Duration.ofMillis(200))
        .build()) {
      CompletableFuture<HttpResponse<String>> first = http.sendAsync(HttpRequest.newBuilder(
          URI.create(s.baseUrl() + "/api/generate")).POST(HttpRequest.BodyPublishers.ofString(
              "{\"model\":\"echo\",\"prompt\":\"first\",\"stream\":false}")).build(), HttpResponse.BodyHandlers.ofString());
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (s.inFlight() < 1 && System.nanoTime() < end) {
        Thread.sleep(5);
      }
      HttpResponse<String> busy = post(s, "/api/generate", "{\"model\":\"echo\",\"prompt\":\"second\",\"stream\":false}");
      assertThat(busy.statusCode()).isEqualTo(503);
      assertThat(busy.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(json(busy.body()).path("error_kind").asText()).isEqualTo("busy");
      model.hold.countDown();
      assertThat(json(first.get(10, TimeUnit.SECONDS).body()).path("response").asText()).isEqualTo("echo: first");
      assertThat(model.calls.get()).isEqualTo(1);
    }
  }

  @Test
  void aCallerThatHangsUpStopsItsStreamingGeneration() throws Exception {
    EchoModel model = new EchoModel();
    model.pauseMillis = 20;
    String prompt = String.join(" ", java.util.Collections.nCopies(200, "w"));
    try (OllamaServer s = OllamaServer.builder().client(model).build()) {
      byte[] body = ("{\"model\":\"echo\",\"prompt\":\"" + prompt + "\"}").getBytes(StandardCharsets.UTF_8);
      try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), s.port())) {
        OutputStream out = socket.getOutputStream();
        out.write(("POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
            + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        assertThat(in.readLine()).startsWith("HTTP/1.1 200");
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (model.wordsEmitted.get() < 3 && System.nanoTime() < end) {
          Thread.sleep(5);
        }
      }
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (s.inFlight() > 0 && System.nanoTime() < end) {
        Thread.sleep(5);
      }
      assertThat(s.inFlight()).isZero();
      assertThat(model.wordsEmitted.get()).isLessThan(100);
    }
  }

  @Test
  void closeStopsListeningAndBuilderChecksEverySettingInBuild() throws Exception {
    OllamaServer s = OllamaServer.builder().client(new EchoModel()).build();
    String url = s.baseUrl();
    s.close();
    s.close();
    assertThatThrownBy(() -> http.send(HttpRequest.newBuilder(URI.create(url + "/api/version")).build(),
        HttpResponse.BodyHandlers.ofString())).isInstanceOf(java.net.ConnectException.class);
    assertThatThrownBy(() -> OllamaServer.builder().build()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("client or backend");
    assertThatThrownBy(() -> OllamaServer.builder().client(new EchoModel()).port(70000).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port");
    assertThatThrownBy(() -> OllamaServer.builder().client(new EchoModel()).concurrency(0).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("concurrency");
    assertThatThrownBy(() -> OllamaServer.builder().client(new EchoModel()).apiKey(" ").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("apiKey");
    try (OllamaServer taken = OllamaServer.builder().client(new EchoModel()).build()) {
      assertThatThrownBy(() -> OllamaServer.builder().client(new EchoModel()).port(taken.port()).build())
          .isInstanceOf(UncheckedIOException.class).hasMessageContaining("cannot bind");
    }
  }
}
