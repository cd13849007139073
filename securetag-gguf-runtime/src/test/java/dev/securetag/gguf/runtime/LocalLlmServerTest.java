package dev.securetag.gguf.runtime;

import dev.securetag.core.ChatMessage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.ollama.server.OllamaServer;
import dev.securetag.core.internal.Json;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The Ollama API of {@link LocalLlmServer} over real loopback HTTP, serving the tiny-llama F16 fixture. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LocalLlmServerTest {
  private static final String PROMPT = RuntimeFixtures.prompts().get(0).path("text").asText();
  private static final int PROMPT_TOKENS = RuntimeFixtures.prompts().get(0).path("token_ids").size();

  private GgufModel model;
  private LocalLlmServer server;
  private HttpClient http;
  private GenerationResult greedy8;

  @BeforeAll
  void start() {
    model = GgufModel.builder().ggufFile(RuntimeFixtures.path("model-f16.gguf")).threads(2).build();
    server = LocalLlmServer.builder().model(model).modelName("tiny").start();
    http = HttpClient.newHttpClient();
    greedy8 = model.generate(PROMPT, GenerationOptions.greedy(8));
  }

  @AfterAll
  void stop() {
    server.close();
    model.close();
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(server.baseUri().resolve(path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(server.baseUri().resolve(path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Ollama's parameter_size notation: one decimal and a K, M or B suffix ("188.7K", "6.7B"). */
  private static String ollamaSize(long n) {
    double[] scale = {1e9, 1e6, 1e3};
    String[] suffix = {"B", "M", "K"};
    for (int i = 0; i < scale.length; i++) {
      if (n >= scale[i] || i == scale.length - 1) {
        return String.format(java.util.Locale.ROOT, "%.1f%s", n / scale[i], suffix[i]);
      }
    }
    throw new AssertionError();
  }

  private static JsonNode json(String s) {
    return Json.readTree(s, "response");
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

  private static String generateBody(boolean stream, String extra) {
    return "{\"model\":\"tiny\",\"prompt\":" + Json.write(PROMPT) + ",\"raw\":true,\"stream\":" + stream
        + ",\"options\":{\"temperature\":0,\"num_predict\":8" + extra + "}}";
  }

  @Test
  void bindsToLoopbackAndAnswersRootAndVersion() throws Exception {
    assertThat(server.baseUri().getHost()).isEqualTo("127.0.0.1");
    HttpResponse<String> root = get("/");
    assertThat(root.statusCode()).isEqualTo(200);
    assertThat(root.body()).isEqualTo("Ollama is running");
    assertThat(json(get("/api/version").body()).path("version").asText()).matches("\\d+\\.\\d+\\.\\d+");
  }

  @Test
  void tagsListTheModelWithOllamaDetails() throws Exception {
    JsonNode tags = json(get("/api/tags").body());
    JsonNode m = tags.path("models").get(0);
    assertThat(m.path("name").asText()).isEqualTo("tiny:latest");
    assertThat(m.path("model").asText()).isEqualTo("tiny:latest");
    assertThat(m.path("size").asLong()).isEqualTo(java.nio.file.Files.size(RuntimeFixtures.path("model-f16.gguf")));
    assertThat(m.path("digest").asText()).hasSize(64);
    OffsetDateTime.parse(m.path("modified_at").asText());
    assertThat(m.path("details").path("format").asText()).isEqualTo("gguf");
    assertThat(m.path("details").path("family").asText()).isEqualTo("llama");
    assertThat(m.path("details").path("quantization_level").asText()).isEqualTo("F16");
    assertThat(m.path("details").path("parameter_size").asText())
        .isEqualTo(ollamaSize(RuntimeFixtures.parameterCount("model-f16.gguf")));
    JsonNode show = json(post("/api/show", "{\"model\":\"tiny\"}").body());
    assertThat(show.path("model_info").path("llama.block_count").asInt())
        .isEqualTo(RuntimeFixtures.kv("model-f16.gguf", "llama.block_count").asInt());
    assertThat(show.path("template").asText())
        .isEqualTo(RuntimeFixtures.kv("model-f16.gguf", "tokenizer.chat_template").asText());
  }

  @Test
  void generateWithoutStreamingReturnsOneObjectWithUsage() throws Exception {
    HttpResponse<String> r = post("/api/generate", generateBody(false, ""));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
    JsonNode n = json(r.body());
    assertThat(n.path("model").asText()).isEqualTo("tiny:latest");
    assertThat(n.path("response").asText()).isEqualTo(greedy8.text());
    assertThat(n.path("done").asBoolean()).isTrue();
    assertThat(n.path("done_reason").asText()).isEqualTo("length");
    assertThat(n.path("prompt_eval_count").asInt()).isEqualTo(PROMPT_TOKENS);
    assertThat(n.path("eval_count").asInt()).isEqualTo(8);
    assertThat(n.path("eval_duration").asLong()).isPositive();
    assertThat(n.path("total_duration").asLong()).isGreaterThanOrEqualTo(n.path("eval_duration").asLong());
    assertThat(n.path("context")).hasSize(PROMPT_TOKENS + 8);
    OffsetDateTime.parse(n.path("created_at").asText());
  }

  @Test
  void generateStreamsNdjsonChunksEndingWithTheSummary() throws Exception {
    HttpResponse<String> r = post("/api/generate", generateBody(true, ""));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/x-ndjson");
    List<JsonNode> lines = lines(r.body());
    assertThat(lines.size()).isGreaterThan(2);
    StringBuilder text = new StringBuilder();
    for (JsonNode l : lines.subList(0, lines.size() - 1)) {
      assertThat(l.path("done").asBoolean()).isFalse();
      text.append(l.path("response").asText());
    }
    JsonNode last = lines.get(lines.size() - 1);
    assertThat(last.path("done").asBoolean()).isTrue();
    assertThat(last.path("response").asText()).isEmpty();
    assertThat(last.path("eval_count").asInt()).isEqualTo(8);
    assertThat(text.toString()).isEqualTo(greedy8.text());
  }

  @Test
  void stopOptionEndsTheResponseWithDoneReasonStop() throws Exception {
    String stop = greedy8.text().substring(3, 5);
    JsonNode n = json(post("/api/generate", generateBody(false, ",\"stop\":[" + Json.write(stop) + "]")).body());
    assertThat(n.path("response").asText()).isEqualTo(greedy8.text().substring(0, greedy8.text().indexOf(stop)));
    assertThat(n.path("done_reason").asText()).isEqualTo("stop");
  }

  @Test
  void chatRendersTheModelTemplateAndStreamsMessages() throws Exception {
    GenerationResult want = model.chat(List.of(ChatMessage.user("Hola")), PromptFormat.AUTO,
        GenerationOptions.greedy(6), TokenListener.NONE);
    String body = "{\"model\":\"tiny:latest\",\"messages\":[{\"role\":\"user\",\"content\":\"Hola\"}],"
        + "\"options\":{\"temperature\":0,\"num_predict\":6}";
    JsonNode whole = json(post("/api/chat", body + ",\"stream\":false}").body());
    assertThat(whole.path("message").path("role").asText()).isEqualTo("assistant");
    assertThat(whole.path("message").path("content").asText()).isEqualTo(want.text());
    assertThat(whole.path("done").asBoolean()).isTrue();
    assertThat(whole.has("context")).isFalse();
    List<JsonNode> lines = lines(post("/api/chat", body + "}").body());
    StringBuilder text = new StringBuilder();
    lines.forEach(l -> text.append(l.path("message").path("content").asText()));
    assertThat(text.toString()).isEqualTo(want.text());
    assertThat(lines.get(lines.size() - 1).path("done_reason").asText()).isEqualTo("length");
  }

  @Test
  void badRequestsGetOllamaErrorBodies() throws Exception {
    HttpResponse<String> noModel = post("/api/generate", "{\"prompt\":\"x\"}");
    assertThat(noModel.statusCode()).isEqualTo(400);
    assertThat(json(noModel.body()).path("error").asText()).isEqualTo("model is required");
    HttpResponse<String> unknown = post("/api/chat", "{\"model\":\"llama3\",\"messages\":[]}");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(json(unknown.body()).path("error").asText()).isEqualTo("model 'llama3' not found");
    assertThat(post("/api/generate", "{not json").statusCode()).isEqualTo(400);
    HttpResponse<String> rawSystem = post("/api/generate",
        "{\"model\":\"tiny\",\"prompt\":\"x\",\"raw\":true,\"system\":\"s\"}");
    assertThat(rawSystem.statusCode()).isEqualTo(400);
    assertThat(json(rawSystem.body()).path("error").asText()).contains("raw mode");
    assertThat(post("/api/chat", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}")
        .statusCode()).isEqualTo(400);
    assertThat(get("/api/generate").statusCode()).isEqualTo(405);
    assertThat(get("/api/nothing").statusCode()).isEqualTo(404);
    JsonNode load = json(post("/api/generate", "{\"model\":\"tiny\"}").body());
    assertThat(load.path("done_reason").asText()).isEqualTo("load");
  }

  @Test
  void serverIsAnInProcessLlmClient() {
    LlmResponse r = server.generate(LlmRequest.builder().prompt("Hola").temperature(0).maxTokens(6).build());
    StringBuilder streamed = new StringBuilder();
    server.generateStreaming(LlmRequest.builder().prompt("Hola").temperature(0).maxTokens(6).build(), streamed::append);
    assertThat(streamed.toString()).isEqualTo(r.text());
    assertThat(server.retryPolicy().maxAttempts()).isEqualTo(1);
    assertThat(server.modelName()).isEqualTo("tiny:latest");
    assertThat(r.model()).isEqualTo("tiny:latest");
    assertThat(r.text()).isEqualTo(model.chat(List.of(ChatMessage.user("Hola")), PromptFormat.AUTO,
        GenerationOptions.greedy(6), TokenListener.NONE).text());
    assertThat(r.completionTokens()).hasValue(6);
  }

  @Test
  void theGenericOllamaServerOverTheRuntimesLlmClientAnswersChatsLikeTheRuntimesServer() throws Exception {
    String body = "{\"model\":\"tiny\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"Hola\"}],"
        + "\"options\":{\"temperature\":0,\"num_predict\":6}}";
    try (OllamaServer generic = OllamaServer.builder().client(model.asLlmClient("tiny", PromptFormat.AUTO)).build()) {
      JsonNode viaClient = json(http.send(HttpRequest.newBuilder(generic.baseUri().resolve("/api/chat"))
          .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()).body());
      JsonNode viaRuntime = json(post("/api/chat", body).body());
      assertThat(viaClient.path("message").path("content").asText())
          .isEqualTo(viaRuntime.path("message").path("content").asText()).isNotEmpty();
      assertThat(viaClient.path("eval_count").asInt()).isEqualTo(6);
    }
  }

  @Test
  void anApiKeyIsRequiredWhenSetAndACallerThatHangsUpFreesTheGenerationSlot() throws Exception {
    try (LocalLlmServer s = LocalLlmServer.builder().model(model).modelName("tiny").apiKey("local-key").start()) {
      HttpRequest.Builder req = HttpRequest.newBuilder(s.baseUri().resolve("/api/generate"))
          .POST(HttpRequest.BodyPublishers.ofString(generateBody(false, "")));
      assertThat(http.send(req.build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
      HttpResponse<String> ok = http.send(req.header("Authorization", "Bearer local-key").build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(json(ok.body()).path("response").asText()).isEqualTo(greedy8.text());
      // A raw socket that reads the status line of a long generation and hangs up.
      byte[] b = ("{\"model\":\"tiny\",\"prompt\":\"x\",\"raw\":true,\"options\":{\"num_predict\":10000}}")
          .getBytes(java.nio.charset.StandardCharsets.UTF_8);
      try (java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), s.port())) {
        socket.getOutputStream().write(("POST /api/generate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer local-key\r\n"
            + "Content-Length: " + b.length + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        socket.getOutputStream().write(b);
        socket.getOutputStream().flush();
        assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
            java.nio.charset.StandardCharsets.UTF_8)).readLine()).startsWith("HTTP/1.1 200");
      }
      // Generations run one at a time: the next one is served once the abandoned one gave up its slot.
      HttpResponse<String> next = http.send(req.header("Authorization", "Bearer local-key").build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(json(next.body()).path("response").asText()).isEqualTo(greedy8.text());
    }
  }

  @Test
  @SuppressWarnings("deprecation")
  void builderChecksSettingsInStartAndKeepsTheOldNames() throws Exception {
    assertThatThrownBy(() -> LocalLlmServer.builder().model(model).port(70000).start())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port");
    assertThatThrownBy(() -> LocalLlmServer.builder().model(model).modelName(" ").start())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("modelName");
    assertThatThrownBy(() -> LocalLlmServer.builder().model(model).maxConnections(0).start())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxConnections");
    try (LocalLlmServer taken = LocalLlmServer.builder().model(model).start()) {
      assertThatThrownBy(() -> LocalLlmServer.builder().model(model).port(taken.port()).start())
          .isInstanceOf(java.io.UncheckedIOException.class).hasMessageContaining("cannot bind");
    }
    try (LocalLlmServer old = LocalLlmServer.builder().modelFile(RuntimeFixtures.path("model-f16.gguf"))
        .host("127.0.0.1").httpThreads(2).modelName("tiny").start()) {
      assertThat(old.baseUri().getHost()).isEqualTo("127.0.0.1");
      assertThat(json(http.send(HttpRequest.newBuilder(old.baseUri().resolve("/api/generate"))
          .POST(HttpRequest.BodyPublishers.ofString(generateBody(false, ""))).build(),
          HttpResponse.BodyHandlers.ofString()).body()).path("response").asText()).isEqualTo(greedy8.text());
    }
  }

  @Test
  void closeStopsServingAndOwnedModelIsClosed() throws Exception {
    LocalLlmServer s = LocalLlmServer.builder().ggufFile(RuntimeFixtures.path("model-q8_0.gguf")).start();
    URI uri = s.baseUri();
    assertThat(http.send(HttpRequest.newBuilder(uri.resolve("/api/version")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    assertThat(s.modelName()).isEqualTo("hf:latest");
    s.close();
    s.close();
    assertThatThrownBy(() -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri.resolve("/api/version"))
        .build(), HttpResponse.BodyHandlers.ofString())).isInstanceOf(ConnectException.class);
    assertThatThrownBy(() -> s.model().tokenize("x")).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> s.generate("x")).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> LocalLlmServer.builder().start()).isInstanceOf(IllegalStateException.class);
  }
}
