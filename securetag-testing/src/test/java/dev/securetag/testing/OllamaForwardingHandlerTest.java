package dev.securetag.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.internal.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

/** The handler inside the fake endpoint, driven over raw HTTP (RunPod's wire) against a scripted Ollama server. */
class OllamaForwardingHandlerTest {
  private static final String KEY = "k-forwarding-1";
  private final OkHttpClient http = new OkHttpClient.Builder().retryOnConnectionFailure(false).build();

  @StartStop
  private final MockWebServer ollama = new MockWebServer();

  private JsonNode call(FakeRunPodEndpoint f, String method, String op, String body) throws IOException {
    Request.Builder b = new Request.Builder().url(f.baseUrl() + "/" + f.endpointId() + "/" + op)
        .header("Authorization", "Bearer " + KEY);
    b.method(method, body == null ? null : RequestBody.create(body, MediaType.get("application/json")));
    try (Response r = http.newCall(b.build()).execute()) {
      return Json.readTree(r.body().string(), op);
    }
  }

  private JsonNode awaitEnd(FakeRunPodEndpoint f, String id) throws Exception {
    long end = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < end) {
      JsonNode s = call(f, "GET", "status/" + id, null);
      if (JobState.valueOf(s.path("status").asText()).isTerminal()) {
        return s;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("job " + id + " did not end");
  }

  @Test
  void nonStreamingJobsReturnTheSeedResponseShape() throws Exception {
    ollama.enqueue(new MockResponse.Builder().code(200).body("{\"model\":\"securetag\",\"response\":\"Policies.\",\"done\":true,"
        + "\"done_reason\":\"stop\",\"eval_count\":2,\"prompt_eval_count\":9}").build());
    try (OllamaForwardingHandler h = OllamaForwardingHandler.forwardingTo(ollama.url("/").toString(), "securetag");
        FakeRunPodEndpoint f = FakeRunPodEndpoint.builder().apiKey(KEY).handler(h).build()) {
      JsonNode r = call(f, "POST", "runsync?wait=5000",
          "{\"input\":{\"prompt\":\"A.5.1?\",\"system\":\"terse\",\"keep_alive\":\"5m\"}}");
      assertThat(r.path("status").asText()).isEqualTo("COMPLETED");
      assertThat(r.path("output").path("response").asText()).isEqualTo("Policies.");
      assertThat(r.path("output").path("model").asText()).isEqualTo("securetag");
      assertThat(r.path("output").path("eval_count").asInt()).isEqualTo(2);
      assertThat(r.path("output").path("done_reason").asText()).isEqualTo("stop");
    }
    RecordedRequest req = ollama.takeRequest();
    assertThat(req.getUrl().encodedPath()).isEqualTo("/api/generate");
    JsonNode body = Json.readTree(req.getBody().utf8(), "body");
    assertThat(body.path("model").asText()).isEqualTo("securetag");
    assertThat(body.path("prompt").asText()).isEqualTo("A.5.1?");
    assertThat(body.path("system").asText()).isEqualTo("terse");
    assertThat(body.path("keep_alive").asText()).isEqualTo("5m");
    assertThat(body.path("stream").asBoolean(true)).isFalse();
  }

  @Test
  void streamingJobsYieldEachNdjsonLineAsAString() throws Exception {
    ollama.enqueue(new MockResponse.Builder().code(200).body(
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"a\"},\"done\":false}\n"
            + "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"b\"},\"done\":false}\n"
            + "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true}\n").build());
    try (OllamaForwardingHandler h = OllamaForwardingHandler.forwardingTo(ollama.url("/").toString(), "m");
        FakeRunPodEndpoint f = FakeRunPodEndpoint.builder().apiKey(KEY).handler(h).build()) {
      String id = call(f, "POST", "run", "{\"input\":{\"stream\":true,\"messages\":[{\"role\":\"user\","
          + "\"content\":\"hi\"}]}}").path("id").asText();
      JsonNode fin = awaitEnd(f, id);
      assertThat(fin.path("status").asText()).isEqualTo("COMPLETED");
      List<String> chunks = new ArrayList<>();
      call(f, "GET", "stream/" + id, null).path("stream").forEach(c -> chunks.add(c.path("output").asText()));
      assertThat(chunks).hasSize(3);
      assertThat(Json.readTree(chunks.get(0), "chunk").path("message").path("content").asText()).isEqualTo("a");
      assertThat(Json.readTree(chunks.get(1), "chunk").path("message").path("content").asText()).isEqualTo("b");
      assertThat(fin.path("output")).hasSize(3);
    }
    RecordedRequest req = ollama.takeRequest();
    assertThat(req.getUrl().encodedPath()).isEqualTo("/api/chat");
    assertThat(Json.readTree(req.getBody().utf8(), "body").path("stream").asBoolean()).isTrue();
  }

  @Test
  void ollamaErrorsFailTheJob() throws Exception {
    ollama.enqueue(new MockResponse.Builder().code(404).body("{\"error\":\"model 'x' not found\"}").build());
    ollama.enqueue(new MockResponse.Builder().code(200).body("{\"model\":\"x\",\"response\":\"a\",\"done\":false}\n"
        + "{\"error\":\"out of memory\"}\n").build());
    try (OllamaForwardingHandler h = OllamaForwardingHandler.forwardingTo(ollama.url("/").toString(), "x");
        FakeRunPodEndpoint f = FakeRunPodEndpoint.builder().apiKey(KEY).handler(h).build()) {
      JsonNode r = call(f, "POST", "runsync?wait=5000", "{\"input\":{\"prompt\":\"p\"}}");
      assertThat(r.path("status").asText()).isEqualTo("FAILED");
      assertThat(r.path("error").asText()).contains("model 'x' not found").contains("404");
      String id = call(f, "POST", "run", "{\"input\":{\"prompt\":\"p\",\"stream\":true}}").path("id").asText();
      JsonNode fin = awaitEnd(f, id);
      assertThat(fin.path("status").asText()).isEqualTo("FAILED");
      assertThat(fin.path("error").asText()).contains("out of memory");
    }
  }
}
