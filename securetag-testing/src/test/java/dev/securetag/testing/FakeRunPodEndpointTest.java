package dev.securetag.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.securetag.core.internal.Json;
import java.io.IOException;
import java.time.Duration;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Checks the fake's wire format directly with raw HTTP, independent of RunPodClient. */
class FakeRunPodEndpointTest {
  private static final String KEY = "fake-key-123";
  private final OkHttpClient http = new OkHttpClient.Builder().retryOnConnectionFailure(false).build();

  @AfterEach
  void closeHttp() {
    http.connectionPool().evictAll();
  }

  private Response call(FakeRunPodEndpoint f, String method, String op, String body, String auth) throws IOException {
    Request.Builder b = new Request.Builder().url(f.baseUrl() + "/" + f.endpointId() + "/" + op);
    if (auth != null) {
      b.header("Authorization", auth);
    }
    b.method(method, body == null ? (method.equals("POST") ? RequestBody.create(new byte[0]) : null)
        : RequestBody.create(body, MediaType.get("application/json")));
    return http.newCall(b.build()).execute();
  }

  private JsonNode json(Response r) throws IOException {
    try (r) {
      return Json.readTree(r.body().string(), "reply");
    }
  }

  @Test
  void acceptsBearerOrRawKeyAndRejectsOthersWith401() throws IOException {
    try (FakeRunPodEndpoint f = FakeRunPodEndpoint.builder().apiKey(KEY).build()) {
      try (Response r = call(f, "GET", "health", null, "Bearer " + KEY)) {
        assertThat(r.code()).isEqualTo(200);
      }
      try (Response r = call(f, "GET", "health", null, KEY)) {
        assertThat(r.code()).isEqualTo(200);
      }
      try (Response r = call(f, "GET", "health", null, "Bearer nope")) {
        assertThat(r.code()).isEqualTo(401);
      }
      try (Response r = call(f, "GET", "health", null, null)) {
        assertThat(r.code()).isEqualTo(401);
      }
      assertThat(f.requestCount(Operation.HEALTH)).isEqualTo(4);
    }
  }

  @Test
  void runsyncPastItsWaitAnswersTheIdWithANonTerminalStatus() throws Exception {
    try (FakeRunPodEndpoint f = FakeRunPodEndpoint.builder().apiKey(KEY).maxRunSyncWait(Duration.ofMillis(50))
        .handler(job -> {
          job.sleep(Duration.ofMillis(500));
          return Json.object().put("response", "late");
        }).build()) {
      JsonNode r = json(call(f, "POST", "runsync?wait=1000", "{\"input\":{\"prompt\":\"x\"}}", "Bearer " + KEY));
      assertThat(r.path("id").asText()).startsWith("sync-");
      assertThat(JobState.valueOf(r.path("status").asText())).isIn(JobState.IN_QUEUE, JobState.IN_PROGRESS);
      assertThat(r.has("output")).isFalse();
      JsonNode s = json(call(f, "GET", "status-sync/" + r.path("id").asText() + "?wait=5000", null, "Bearer " + KEY));
      assertThat(s.path("id").asText()).isEqualTo(r.path("id").asText());
    }
  }

  @Test
  void streamReturnsOnlyNewChunksAndGeneratorOutputDependsOnAggregation() throws Exception {
    for (boolean aggregate : new boolean[] {true, false}) {
      try (FakeRunPodEndpoint f = FakeRunPodEndpoint.builder().apiKey(KEY).returnAggregateStream(aggregate)
          .handler(job -> {
            job.emit(TextNode.valueOf("a"));
            job.emit(TextNode.valueOf("b"));
            return null;
          }).build()) {
        JsonNode done = json(call(f, "POST", "runsync", "{\"input\":{}}", "Bearer " + KEY));
        assertThat(done.path("status").asText()).isEqualTo("COMPLETED");
        assertThat(done.path("output").isArray()).isTrue();
        assertThat(done.path("output")).hasSize(aggregate ? 2 : 0);
        String id = done.path("id").asText();
        JsonNode s1 = json(call(f, "GET", "stream/" + id, null, "Bearer " + KEY));
        assertThat(s1.path("stream")).hasSize(2);
        assertThat(s1.path("stream").get(0).path("output").asText()).isEqualTo("a");
        assertThat(s1.path("status").asText()).isEqualTo("COMPLETED");
        JsonNode s2 = json(call(f, "GET", "stream/" + id, null, "Bearer " + KEY));
        assertThat(s2.path("stream")).isEmpty();
      }
    }
  }

  @Test
  void progressUpdatesShowAsOutputWhileInProgress() throws Exception {
    try (FakeRunPodEndpoint f = FakeRunPodEndpoint.builder().apiKey(KEY).handler(job -> {
          job.progress(TextNode.valueOf("loading model"));
          job.sleep(Duration.ofMillis(300));
          return Json.object().put("response", "ok");
        }).build()) {
      String id = json(call(f, "POST", "run", "{\"input\":{}}", KEY)).path("id").asText();
      JsonNode seen = null;
      for (int i = 0; i < 100; i++) {
        JsonNode s = json(call(f, "GET", "status/" + id, null, KEY));
        if (s.path("status").asText().equals("IN_PROGRESS") && s.has("output")) {
          seen = s;
          break;
        }
        Thread.sleep(10);
      }
      assertThat(seen).isNotNull();
      assertThat(seen.path("output").asText()).isEqualTo("loading model");
      assertThat(seen.has("delayTime")).isTrue();
    }
  }

  @Test
  void faultsAreServedInOrderThenNormalServiceResumes() throws Exception {
    try (FakeRunPodEndpoint f = FakeRunPodEndpoint.builder().apiKey(KEY).build()) {
      f.injectFault(Operation.HEALTH, 1, Fault.rateLimited(Duration.ofSeconds(2)));
      f.injectFault(Operation.ANY, 1, Fault.status(503));
      try (Response r = call(f, "GET", "health", null, KEY)) {
        assertThat(r.code()).isEqualTo(429);
        assertThat(r.header("Retry-After")).isEqualTo("2");
      }
      try (Response r = call(f, "GET", "health", null, KEY)) {
        assertThat(r.code()).isEqualTo(503);
      }
      f.injectFault(Operation.HEALTH, 1, Fault.drop());
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> call(f, "GET", "health", null, KEY).close())
          .isInstanceOf(IOException.class);
      try (Response r = call(f, "GET", "health", null, KEY)) {
        assertThat(r.code()).isEqualTo(200);
      }
    }
  }

  @Test
  void rejectsBadSubmissionsAndUnknownRoutes() throws Exception {
    try (FakeRunPodEndpoint f = FakeRunPodEndpoint.builder().apiKey(KEY).build()) {
      try (Response r = call(f, "POST", "run", "{\"nope\":1}", KEY)) {
        assertThat(r.code()).isEqualTo(400);
      }
      try (Response r = call(f, "POST", "run", "{bad", KEY)) {
        assertThat(r.code()).isEqualTo(400);
      }
      try (Response r = call(f, "GET", "run", null, KEY)) {
        assertThat(r.code()).isEqualTo(405);
      }
      try (Response r = call(f, "GET", "nothing-here", null, KEY)) {
        assertThat(r.code()).isEqualTo(404);
      }
      try (Response r = call(f, "GET", "status/unknown", null, KEY)) {
        assertThat(r.code()).isEqualTo(404);
      }
      assertThat(f.jobCount()).isZero();
    }
  }
}
