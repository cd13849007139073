package dev.securetag.runpod.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.Json;
import dev.securetag.runpod.JobRequest;
import dev.securetag.runpod.JobResult;
import dev.securetag.runpod.JobStatus;
import dev.securetag.runpod.JobStream;
import dev.securetag.runpod.PollPolicy;
import dev.securetag.runpod.RunPodClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;

class OllamaForwardingHandlerTest {
  private static final String KEY = "k-forwarding-1";

  @StartStop
  private final MockWebServer ollama = new MockWebServer();

  private RunPodClient client(FakeRunPodEndpoint f) {
    return RunPodClient.builder().baseUrl(f.baseUrl()).endpointId(f.endpointId()).apiKey(KEY)
        .poll(PollPolicy.builder().initialInterval(Duration.ofMillis(10)).maxInterval(Duration.ofMillis(50)).build()).build();
  }

  @Test
  void nonStreamingJobsReturnTheSeedResponseShape() throws Exception {
    ollama.enqueue(new MockResponse.Builder().code(200).body("{\"model\":\"securetag\",\"response\":\"Policies.\",\"done\":true,"
        + "\"done_reason\":\"stop\",\"eval_count\":2,\"prompt_eval_count\":9}").build());
    try (OllamaForwardingHandler h = OllamaForwardingHandler.forwardingTo(ollama.url("/").toString(), "securetag");
        FakeRunPodEndpoint f = FakeRunPodEndpoint.builder().apiKey(KEY).handler(h).build();
        RunPodClient c = client(f)) {
      JobResult r = c.runSync(JobRequest.of(Json.object().put("prompt", "A.5.1?").put("system", "terse")
          .put("keep_alive", "5m")), Duration.ofSeconds(5)).requireCompleted();
      assertThat(r.output().path("response").asText()).isEqualTo("Policies.");
      assertThat(r.output().path("model").asText()).isEqualTo("securetag");
      assertThat(r.output().path("eval_count").asInt()).isEqualTo(2);
    }
    RecordedRequest req = ollama.takeRequest();
    assertThat(req.getUrl().encodedPath()).isEqualTo("/api/generate");
    JsonNode body = Json.readTree(req.getBody().utf8(), "body");
    assertThat(body.path("model").asText()).isEqualTo("securetag");
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
        FakeRunPodEndpoint f = FakeRunPodEndpoint.builder().apiKey(KEY).handler(h).build();
        RunPodClient c = client(f)) {
      var input = Json.object().put("stream", true);
      input.putArray("messages").addObject().put("role", "user").put("content", "hi");
      String id = c.run(input).id();
      List<String> chunks = new ArrayList<>();
      try (JobStream s = c.stream(id)) {
        s.forEachRemaining(ch -> chunks.add(ch.output().asText()));
      }
      assertThat(chunks).hasSize(3);
      assertThat(Json.readTree(chunks.get(0), "chunk").path("message").path("content").asText()).isEqualTo("a");
      assertThat(c.status(id).outputText()).isEqualTo("ab");
    }
    assertThat(ollama.takeRequest().getUrl().encodedPath()).isEqualTo("/api/chat");
  }

  @Test
  void ollamaErrorsFailTheJob() {
    ollama.enqueue(new MockResponse.Builder().code(404).body("{\"error\":\"model 'x' not found\"}").build());
    try (OllamaForwardingHandler h = OllamaForwardingHandler.forwardingTo(ollama.url("/").toString(), "x");
        FakeRunPodEndpoint f = FakeRunPodEndpoint.builder().apiKey(KEY).handler(h).build();
        RunPodClient c = client(f)) {
      JobResult r = c.runSync(JobRequest.of(Json.object().put("prompt", "p")), Duration.ofSeconds(5));
      assertThat(r.status()).isEqualTo(JobStatus.FAILED);
      assertThat(r.error()).get().asString().contains("model 'x' not found");
    }
  }
}
