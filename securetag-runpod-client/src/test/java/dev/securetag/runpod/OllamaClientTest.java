package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.ChatMessage;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.core.RemoteServiceException;
import dev.securetag.core.RetryPolicy;
import dev.securetag.core.internal.Json;
import dev.securetag.core.ollama.OllamaModelInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;

class OllamaClientTest {
  @StartStop
  private final MockWebServer server = new MockWebServer();

  private OllamaClient client() {
    return OllamaClient.builder().baseUrl(server.url("/").toString()).model("llama3.2").keepAlive("10m")
        .option("num_ctx", 4096).retry(RetryPolicy.builder().initialBackoff(Duration.ofMillis(5)).build()).build();
  }

  private static MockResponse json(String body) {
    return new MockResponse.Builder().code(200).addHeader("Content-Type", "application/json").body(body).build();
  }

  private static JsonNode body(RecordedRequest r) {
    return Json.readTree(r.getBody().utf8(), "request body");
  }

  @Test
  void generateSendsOptionsFormatKeepAliveAndReadsCounters() throws Exception {
    server.enqueue(json("{\"model\":\"llama3.2\",\"created_at\":\"2023-08-04T19:22:45.499127Z\",\"response\":\"{\\\"age\\\":22}\","
        + "\"done\":true,\"done_reason\":\"stop\",\"total_duration\":10706818083,\"load_duration\":6338219291,"
        + "\"prompt_eval_count\":26,\"prompt_eval_duration\":130079000,\"eval_count\":259,\"eval_duration\":4232710000}"));
    ObjectNode schema = Json.object().put("type", "object");
    schema.putObject("properties").putObject("age").put("type", "integer");
    try (OllamaClient c = client()) {
      LlmResponse r = c.generate(LlmRequest.builder().prompt("How old?").system("Be terse").jsonSchema(schema)
          .temperature(0.0).topP(0.9).maxTokens(64).seed(42L).addStop("\n\n").build());
      assertThat(r.text()).isEqualTo("{\"age\":22}");
      assertThat(r.model()).isEqualTo("llama3.2");
      assertThat(r.promptTokens()).hasValue(26);
      assertThat(r.completionTokens()).hasValue(259);
    }
    RecordedRequest req = server.takeRequest();
    assertThat(req.getUrl().encodedPath()).isEqualTo("/api/generate");
    JsonNode b = body(req);
    assertThat(b.path("model").asText()).isEqualTo("llama3.2");
    assertThat(b.path("stream").asBoolean(true)).isFalse();
    assertThat(b.path("system").asText()).isEqualTo("Be terse");
    assertThat(b.path("format").path("properties").path("age").path("type").asText()).isEqualTo("integer");
    assertThat(b.path("keep_alive").asText()).isEqualTo("10m");
    JsonNode o = b.path("options");
    assertThat(o.path("num_ctx").asInt()).isEqualTo(4096);
    assertThat(o.path("temperature").asDouble()).isEqualTo(0.0);
    assertThat(o.path("top_p").asDouble()).isEqualTo(0.9);
    assertThat(o.path("num_predict").asInt()).isEqualTo(64);
    assertThat(o.path("seed").asLong()).isEqualTo(42);
    assertThat(o.path("stop").get(0).asText()).isEqualTo("\n\n");
    assertThat(req.getHeaders().get("Authorization")).isNull();
  }

  @Test
  void jsonModeSendsFormatJsonAndDurationsAreNanoseconds() throws Exception {
    server.enqueue(json("{\"model\":\"m\",\"response\":\"{}\",\"done\":true,\"eval_count\":10,\"eval_duration\":2000000000,"
        + "\"total_duration\":3000000000}"));
    try (OllamaClient c = client()) {
      OllamaResponse r = c.generate(LlmRequest.builder().prompt("json please").jsonMode(true).build(), null);
      assertThat(r.totalDuration()).contains(Duration.ofSeconds(3));
      assertThat(r.evalDuration()).contains(Duration.ofSeconds(2));
      assertThat(r.tokensPerSecond()).contains(5.0);
    }
    assertThat(body(server.takeRequest()).path("format").asText()).isEqualTo("json");
  }

  @Test
  void generateStreamingDeliversTokensAndReadsTheFinalLine() throws Exception {
    server.enqueue(new MockResponse.Builder().code(200).addHeader("Content-Type", "application/x-ndjson").body(
        "{\"model\":\"llama3.2\",\"response\":\"The\",\"done\":false}\n"
            + "{\"model\":\"llama3.2\",\"response\":\" sky\",\"done\":false}\n"
            + "\n"
            + "{\"model\":\"llama3.2\",\"response\":\"\",\"done\":true,\"done_reason\":\"length\",\"eval_count\":2,"
            + "\"eval_duration\":1000}\n").build());
    List<String> tokens = new ArrayList<>();
    try (OllamaClient c = client()) {
      OllamaResponse r = c.generateStreaming(LlmRequest.of("sky?"), tokens::add);
      assertThat(r.text()).isEqualTo("The sky");
      assertThat(r.doneReason()).contains("length");
      assertThat(r.evalCount()).hasValue(2);
    }
    assertThat(tokens).containsExactly("The", " sky", "");
    assertThat(body(server.takeRequest()).path("stream").asBoolean()).isTrue();
  }

  @Test
  void midStreamErrorLineIsAServerErrorDespiteHttp200() {
    server.enqueue(new MockResponse.Builder().code(200).body(
        "{\"model\":\"m\",\"response\":\"Hi\",\"done\":false}\n"
            + "{\"error\":\"an error was encountered while running the model\"}\n").build());
    try (OllamaClient c = client()) {
      assertThatThrownBy(() -> c.generateStreaming(LlmRequest.of("x"), t -> { }))
          .isInstanceOfSatisfying(RemoteServiceException.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.SERVER_ERROR);
            assertThat(e.getMessage()).contains("an error was encountered while running the model");
          });
    }
  }

  @Test
  void streamCutBeforeTheDoneLineIsAConnectionError() {
    server.enqueue(new MockResponse.Builder().code(200).body("{\"model\":\"m\",\"response\":\"Hi\",\"done\":false}\n").build());
    try (OllamaClient c = client()) {
      assertThatThrownBy(() -> c.generateStreaming(LlmRequest.of("x"), t -> { }))
          .isInstanceOfSatisfying(RemoteServiceException.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.CONNECTION);
            assertThat(e.getMessage()).contains("without a done line");
          });
    }
  }

  @Test
  void chatStreamsMessageContentAndCollectsToolCallArgumentsAsObjects() throws Exception {
    server.enqueue(new MockResponse.Builder().code(200).body(
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"done\":false}\n"
            + "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"lo\",\"tool_calls\":[{\"function\":"
            + "{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Tokyo\"}}}]},\"done\":false}\n"
            + "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\"}\n")
        .build());
    List<String> tokens = new ArrayList<>();
    try (OllamaClient c = client()) {
      OllamaResponse r = c.chat(List.of(ChatMessage.user("hi")), LlmRequest.builder().prompt("").system("sys").build(),
          tokens::add);
      assertThat(r.text()).isEqualTo("Hello");
      assertThat(r.toolCalls().get(0).path("function").path("arguments").path("city").asText()).isEqualTo("Tokyo");
    }
    JsonNode b = body(server.takeRequest());
    assertThat(server.takeRequest(1, java.util.concurrent.TimeUnit.MILLISECONDS)).isNull();
    assertThat(b.path("messages").get(0).path("role").asText()).isEqualTo("system");
    assertThat(b.path("messages").get(1).path("content").asText()).isEqualTo("hi");
    assertThat(tokens).contains("Hel", "lo");
  }

  @Test
  void nonStreamingChatReadsTheMessage() throws Exception {
    server.enqueue(json("{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"pong\"},\"done\":true}"));
    try (OllamaClient c = client()) {
      assertThat(c.chat(List.of(ChatMessage.user("ping"))).text()).isEqualTo("pong");
    }
    assertThat(server.takeRequest().getUrl().encodedPath()).isEqualTo("/api/chat");
  }

  @Test
  void tagsShowAndVersionAreParsed() throws Exception {
    server.enqueue(json("{\"models\":[{\"name\":\"llama3.2:latest\",\"model\":\"llama3.2:latest\",\"modified_at\":"
        + "\"2025-01-01T00:00:00Z\",\"size\":2019393189,\"digest\":\"abc\",\"details\":{\"family\":\"llama\","
        + "\"parameter_size\":\"3.2B\",\"quantization_level\":\"Q4_K_M\"}}]}"));
    server.enqueue(json("{\"modelfile\":\"FROM x\",\"parameters\":\"num_ctx 4096\",\"capabilities\":[\"completion\"]}"));
    server.enqueue(json("{\"version\":\"0.5.1\"}"));
    try (OllamaClient c = client()) {
      List<OllamaModelInfo> tags = c.tags();
      assertThat(tags).hasSize(1);
      assertThat(tags.get(0).name()).isEqualTo("llama3.2:latest");
      assertThat(tags.get(0).size()).isEqualTo(2019393189L);
      assertThat(tags.get(0).details().quantizationLevel()).isEqualTo("Q4_K_M");
      assertThat(c.show("llama3.2").capabilities().get(0)).isEqualTo("completion");
      assertThat(c.version()).isEqualTo("0.5.1");
    }
    assertThat(server.takeRequest().getUrl().encodedPath()).isEqualTo("/api/tags");
    RecordedRequest show = server.takeRequest();
    assertThat(show.getMethod()).isEqualTo("POST");
    assertThat(body(show).path("model").asText()).isEqualTo("llama3.2");
    assertThat(server.takeRequest().getUrl().encodedPath()).isEqualTo("/api/version");
  }

  @Test
  void unknownModelIsNotFoundAndBadRequestIsNotRetried() {
    server.enqueue(new MockResponse.Builder().code(404).body("{\"error\":\"model 'nope' not found\"}").build());
    server.enqueue(new MockResponse.Builder().code(400).body("{\"error\":\"raw mode does not support template, system, or context\"}")
        .build());
    try (OllamaClient c = client()) {
      assertThatThrownBy(() -> c.generate(LlmRequest.builder().prompt("x").model("nope").build()))
          .isInstanceOfSatisfying(RemoteServiceException.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND);
            assertThat(e.getMessage()).contains("model 'nope' not found");
            assertThat(e.isRetriable()).isFalse();
          });
      assertThatThrownBy(() -> c.generate("x")).isInstanceOfSatisfying(RemoteServiceException.class, e -> {
        assertThat(e.kind()).isEqualTo(Kind.INVALID_REQUEST);
        assertThat(e.httpStatus()).isEqualTo(400);
      });
    }
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void queueFull503IsRetriedThenSucceeds() {
    server.enqueue(new MockResponse.Builder().code(503).body("{\"error\":\"server busy, please try again.  maximum pending requests exceeded\"}").build());
    server.enqueue(json("{\"model\":\"m\",\"response\":\"ok\",\"done\":true}"));
    try (OllamaClient c = client()) {
      assertThat(c.generate("x")).isEqualTo("ok");
    }
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  @SuppressWarnings("deprecation")
  void reportsItsOwnRetriesAndKeepsTheOldSecretSetter() throws Exception {
    try (OllamaClient c = OllamaClient.builder().baseUrl(server.url("/").toString()).model("m").build()) {
      assertThat(c.retryPolicy().maxAttempts()).isEqualTo(3);
    }
    server.enqueue(json("{\"model\":\"m\",\"response\":\"ok\",\"done\":true}"));
    try (OllamaClient c = OllamaClient.builder().baseUrl(server.url("/").toString()).model("m")
        .bearerToken("old-name-secret").retry(RetryPolicy.none()).build()) {
      assertThat(c.retryPolicy().maxAttempts()).isEqualTo(1);
      assertThat(c.generate("x")).isEqualTo("ok");
    }
    assertThat(server.takeRequest().getHeaders().get("Authorization")).isEqualTo("Bearer old-name-secret");
  }

  @Test
  void apiKeyIsSentAsBearerButNeverPrinted() throws Exception {
    String token = "ollama-proxy-secret-123";
    server.enqueue(new MockResponse.Builder().code(401).body("{\"error\":\"bad token " + token + "\"}").build());
    try (OllamaClient c = OllamaClient.builder().baseUrl(server.url("/").toString()).model("m").apiKey(token).build()) {
      assertThat(c.toString()).doesNotContain(token);
      assertThatThrownBy(() -> c.generate("x")).isInstanceOfSatisfying(RemoteServiceException.class, e -> {
        assertThat(e.kind()).isEqualTo(Kind.AUTHENTICATION);
        assertThat(e.getMessage()).doesNotContain(token);
      });
    }
    assertThat(server.takeRequest().getHeaders().get("Authorization")).isEqualTo("Bearer " + token);
  }

  @Test
  void modelIsRequiredAndCloseIsIdempotent() {
    OllamaClient c = OllamaClient.builder().baseUrl(server.url("/").toString()).build();
    assertThatThrownBy(() -> c.generate("x")).isInstanceOf(IllegalStateException.class).hasMessageContaining("model");
    c.close();
    c.close();
    assertThatThrownBy(c::version).isInstanceOf(IllegalStateException.class);
    assertThat(c.supportsJsonSchema()).isTrue();
  }
}
