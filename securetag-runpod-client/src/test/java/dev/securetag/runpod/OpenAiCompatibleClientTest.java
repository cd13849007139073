package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.core.RemoteServiceException;
import dev.securetag.core.RetryPolicy;
import dev.securetag.core.internal.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;

class OpenAiCompatibleClientTest {
  private static final String KEY = "rp_OPENAIKEY_998877";

  @StartStop
  private final MockWebServer server = new MockWebServer();

  private OpenAiCompatibleClient client() {
    return OpenAiCompatibleClient.builder().runPodEndpoint(server.url("/v2").toString(), "ep1").apiKey(KEY)
        .model("securetag-7b").retry(RetryPolicy.builder().initialBackoff(Duration.ofMillis(5)).build()).build();
  }

  @Test
  void chatCompletionSendsSamplingAndSchemaToTheRunPodOpenAiRoute() throws Exception {
    server.enqueue(new MockResponse.Builder().code(200).body("{\"id\":\"c1\",\"object\":\"chat.completion\",\"model\":"
        + "\"securetag-7b\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"{\\\"a\\\":1}\"},"
        + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5,\"total_tokens\":17}}").build());
    ObjectNode schema = Json.object().put("type", "object");
    try (OpenAiCompatibleClient c = client()) {
      LlmResponse r = c.generate(LlmRequest.builder().prompt("Q").system("S").jsonSchema(schema).maxTokens(100)
          .temperature(0.2).seed(7L).build());
      assertThat(r.text()).isEqualTo("{\"a\":1}");
      assertThat(r.promptTokens()).hasValue(12);
      assertThat(r.completionTokens()).hasValue(5);
      assertThat(r.model()).isEqualTo("securetag-7b");
    }
    RecordedRequest req = server.takeRequest();
    assertThat(req.getUrl().encodedPath()).isEqualTo("/v2/ep1/openai/v1/chat/completions");
    assertThat(req.getHeaders().get("Authorization")).isEqualTo("Bearer " + KEY);
    JsonNode b = Json.readTree(req.getBody().utf8(), "body");
    assertThat(b.path("messages").get(0).path("role").asText()).isEqualTo("system");
    assertThat(b.path("messages").get(1).path("content").asText()).isEqualTo("Q");
    assertThat(b.path("max_tokens").asInt()).isEqualTo(100);
    assertThat(b.path("seed").asInt()).isEqualTo(7);
    assertThat(b.path("response_format").path("type").asText()).isEqualTo("json_schema");
    assertThat(b.path("response_format").path("json_schema").path("schema").path("type").asText()).isEqualTo("object");
    assertThat(b.has("stream")).isFalse();
  }

  @Test
  void sseStreamDeliversDeltasUntilDone() throws Exception {
    server.enqueue(new MockResponse.Builder().code(200).addHeader("Content-Type", "text/event-stream").body(
        ": keep-alive\n\n"
            + "data: {\"model\":\"securetag-7b\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n"
            + "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n"
            + "data:{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\n"
            + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n"
            + "data: [DONE]\n\n").build());
    List<String> tokens = new ArrayList<>();
    try (OpenAiCompatibleClient c = client()) {
      LlmResponse r = c.generateStreaming(LlmRequest.builder().prompt("hi").jsonMode(true).build(), tokens::add);
      assertThat(r.text()).isEqualTo("Hello");
      assertThat(r.completionTokens()).hasValue(2);
    }
    assertThat(tokens).containsExactly("Hel", "lo");
    JsonNode b = Json.readTree(server.takeRequest().getBody().utf8(), "body");
    assertThat(b.path("stream").asBoolean()).isTrue();
    assertThat(b.path("response_format").path("type").asText()).isEqualTo("json_object");
  }

  @Test
  void errorEventInsideTheStreamFails() {
    server.enqueue(new MockResponse.Builder().code(200).body(
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"
            + "data: {\"error\":{\"message\":\"engine crashed\",\"type\":\"api_error\"}}\n\n").build());
    try (OpenAiCompatibleClient c = client()) {
      assertThatThrownBy(() -> c.generateStreaming(LlmRequest.of("x"), t -> { }))
          .isInstanceOfSatisfying(RemoteServiceException.class, e -> assertThat(e.getMessage()).contains("engine crashed"));
    }
  }

  @Test
  void openAiErrorBodiesMapToKindsWithoutLeakingTheKey() {
    server.enqueue(new MockResponse.Builder().code(404).body("{\"error\":{\"message\":\"The model `x` does not exist\","
        + "\"type\":\"not_found_error\",\"param\":null,\"code\":null}}").build());
    server.enqueue(new MockResponse.Builder().code(401).body("{\"error\":{\"message\":\"invalid key " + KEY + "\"}}").build());
    try (OpenAiCompatibleClient c = client()) {
      assertThatThrownBy(() -> c.generate("x")).isInstanceOfSatisfying(RemoteServiceException.class, e -> {
        assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND);
        assertThat(e.getMessage()).contains("does not exist");
      });
      assertThatThrownBy(() -> c.generate("x")).isInstanceOfSatisfying(RemoteServiceException.class, e -> {
        assertThat(e.kind()).isEqualTo(Kind.AUTHENTICATION);
        assertThat(e.getMessage()).doesNotContain(KEY);
      });
      assertThat(c.toString()).doesNotContain(KEY);
    }
  }

  @Test
  void modelsListsIds() throws Exception {
    server.enqueue(new MockResponse.Builder().code(200).body("{\"object\":\"list\",\"data\":[{\"id\":\"a\"},{\"id\":\"b\"}]}")
        .build());
    try (OpenAiCompatibleClient c = client()) {
      assertThat(c.models()).containsExactly("a", "b");
    }
    assertThat(server.takeRequest().getUrl().encodedPath()).isEqualTo("/v2/ep1/openai/v1/models");
  }

  @Test
  void worksAgainstTheFakeEndpointsOpenAiRouteWithChunksSplitAcrossSseBoundaries() {
    dev.securetag.testing.JobHandler vllmLike = job -> {
      JsonNode in = job.input().path("openai_input");
      assertThat(job.input().path("openai_route").asText()).isEqualTo("/v1/chat/completions");
      String prompt = in.path("messages").get(in.path("messages").size() - 1).path("content").asText();
      if (!in.path("stream").asBoolean(false)) {
        ObjectNode reply = Json.object().put("model", in.path("model").asText());
        reply.putArray("choices").addObject().putObject("message").put("role", "assistant").put("content", "re: " + prompt);
        reply.putObject("usage").put("prompt_tokens", 4).put("completion_tokens", 2);
        return Json.mapper().createArrayNode().add(reply);
      }
      // Raw SSE text with arbitrary boundaries, as the rewritten vLLM worker yields it.
      job.emit(Json.mapper().getNodeFactory().textNode("data: {\"choices\":[{\"delta\":{\"content\":\"He"));
      job.emit(Json.mapper().getNodeFactory().textNode("l\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n"));
      job.emit(Json.mapper().getNodeFactory().textNode("\ndata: [DONE]\n\n"));
      return null;
    };
    try (dev.securetag.testing.FakeRunPodEndpoint fake = dev.securetag.testing.FakeRunPodEndpoint.builder()
            .apiKey(KEY).handler(vllmLike).build();
        OpenAiCompatibleClient c = OpenAiCompatibleClient.builder().runPodEndpoint(fake.baseUrl(), fake.endpointId())
            .apiKey(KEY).model("securetag-7b").build()) {
      LlmResponse r = c.generate(LlmRequest.builder().prompt("ping").maxTokens(8).build());
      assertThat(r.text()).isEqualTo("re: ping");
      assertThat(r.completionTokens()).hasValue(2);
      List<String> tokens = new ArrayList<>();
      assertThat(c.generateStreaming(LlmRequest.of("stream"), tokens::add).text()).isEqualTo("Hello");
      assertThat(tokens).containsExactly("Hel", "lo");
      assertThat(fake.requestCount(dev.securetag.testing.Operation.OPENAI)).isEqualTo(2);
      assertThat(fake.requests()).allSatisfy(q -> assertThat(q.authorization()).isEqualTo("Bearer " + KEY));
    }
  }

  @Test
  void builderNeedsBaseUrlAndModel() {
    assertThatThrownBy(() -> OpenAiCompatibleClient.builder().model("m").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("baseUrl");
    assertThatThrownBy(() -> OpenAiCompatibleClient.builder().baseUrl("http://localhost:1/v1").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("model");
    assertThat(OpenAiCompatibleClient.builder().runPodEndpoint("abc").model("m").build().toString())
        .contains("https://api.runpod.ai/v2/abc/openai/v1");
  }
}
