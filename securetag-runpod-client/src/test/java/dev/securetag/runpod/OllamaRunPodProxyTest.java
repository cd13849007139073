package dev.securetag.runpod;

import static dev.securetag.runpod.TestSupport.KEY;
import static dev.securetag.runpod.TestSupport.client;
import static dev.securetag.runpod.TestSupport.eventually;
import static dev.securetag.runpod.TestSupport.fake;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.securetag.core.ChatMessage;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.core.RemoteServiceException;
import dev.securetag.core.RetryPolicy;
import dev.securetag.core.internal.Json;
import dev.securetag.core.ollama.OllamaModelInfo;
import dev.securetag.testing.FakeRunPodEndpoint;
import dev.securetag.testing.Fault;
import dev.securetag.testing.JobHandler;
import dev.securetag.testing.JobState;
import dev.securetag.testing.Operation;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

class OllamaRunPodProxyTest {
  private static final String MODEL = "securetag";

  /** Like the RunPod Ollama worker: streams Ollama NDJSON lines as string chunks, or returns the seed's object. */
  private static JobHandler ollamaLikeWorker(int tokens, Duration perToken) {
    return job -> {
      JsonNode in = job.input();
      boolean chat = in.has("messages");
      String prompt = chat ? in.path("messages").get(in.path("messages").size() - 1).path("content").asText()
          : in.path("prompt").asText();
      if (!in.path("stream").asBoolean(false)) {
        return Json.object().put("response", "answer to " + prompt).put("model", in.path("model").asText());
      }
      for (int i = 0; i < tokens; i++) {
        var line = Json.object().put("model", in.path("model").asText()).put("created_at", "2026-01-01T00:00:00Z");
        if (chat) {
          line.putObject("message").put("role", "assistant").put("content", "tok" + i + " ");
        } else {
          line.put("response", "tok" + i + " ");
        }
        line.put("done", false);
        job.emit(TextNode.valueOf(Json.write(line)));
        job.sleep(perToken);
      }
      var done = Json.object().put("model", in.path("model").asText()).put("response", "").put("done", true)
          .put("done_reason", "stop").put("eval_count", tokens).put("eval_duration", 123_000_000L);
      job.emit(TextNode.valueOf(Json.write(done)));
      return null;
    };
  }

  private static OllamaRunPodProxy.Builder proxy(RunPodClient rp) {
    return OllamaRunPodProxy.builder().runPod(rp).model(MODEL).shutdownGrace(Duration.ofSeconds(10));
  }

  private static OllamaClient ollama(OllamaRunPodProxy p) {
    return OllamaClient.builder().baseUrl(p.baseUrl()).model(MODEL).retry(RetryPolicy.none()).build();
  }

  @Test
  void streamingGenerateReachesAnUnmodifiedOllamaClientTokenByToken() {
    try (FakeRunPodEndpoint fake = fake().handler(ollamaLikeWorker(5, Duration.ofMillis(5))).build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).build();
        OllamaClient o = ollama(p)) {
      List<String> tokens = new ArrayList<>();
      OllamaResponse r = o.generateStreaming(LlmRequest.of("why?"), tokens::add);
      assertThat(r.text()).isEqualTo("tok0 tok1 tok2 tok3 tok4 ");
      assertThat(tokens).containsSubsequence("tok0 ", "tok1 ", "tok4 ");
      assertThat(r.doneReason()).contains("stop");
      assertThat(r.evalCount()).hasValue(5);
      assertThat(r.evalDuration()).contains(Duration.ofMillis(123));
      assertThat(r.totalDuration()).isPresent();
      assertThat(fake.requestCount(Operation.RUN)).isEqualTo(1);
      assertThat(fake.requestCount(Operation.RUNSYNC)).isZero();
      JsonNode input = Json.readTree(fake.requests().get(0).body(), "run").path("input");
      assertThat(input.path("prompt").asText()).isEqualTo("why?");
      assertThat(input.path("model").asText()).isEqualTo(MODEL);
      assertThat(input.path("stream").asBoolean()).isTrue();
    }
  }

  @Test
  void keepAliveLinesFlowDuringAColdStartAndClientsIgnoreThem() {
    try (FakeRunPodEndpoint fake = fake().queueDelay(Duration.ofMillis(400))
            .handler(ollamaLikeWorker(3, Duration.ZERO)).build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).queueKeepAlive(Duration.ofMillis(50)).build();
        OllamaClient o = ollama(p)) {
      List<String> tokens = new ArrayList<>();
      OllamaResponse r = o.generateStreaming(LlmRequest.of("cold"), tokens::add);
      assertThat(r.text()).isEqualTo("tok0 tok1 tok2 ");
      int firstReal = tokens.indexOf("tok0 ");
      assertThat(firstReal).isGreaterThan(0);
      assertThat(tokens.subList(0, firstReal)).containsOnly("");
    }
  }

  @Test
  void nonStreamingGenerateWithASyncSeedWorkerReturnsOneOllamaObject() {
    try (FakeRunPodEndpoint fake = fake().handler(ollamaLikeWorker(3, Duration.ZERO)).build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).build();
        OllamaClient o = ollama(p)) {
      OllamaResponse r = o.generate(LlmRequest.builder().prompt("ping").maxTokens(10).build(), null);
      assertThat(r.text()).isEqualTo("answer to ping");
      assertThat(r.raw().path("done").asBoolean()).isTrue();
      assertThat(r.doneReason()).contains("stop");
      assertThat(r.totalDuration()).isPresent();
      assertThat(r.evalCount()).isPresent();
      JsonNode input = Json.readTree(fake.requests().get(0).body(), "run").path("input");
      assertThat(input.path("options").path("num_predict").asInt()).isEqualTo(10);
      assertThat(input.path("stream").asBoolean(true)).isFalse();
    }
  }

  @Test
  void chatWorksStreamingAndNot() {
    try (FakeRunPodEndpoint fake = fake().handler(ollamaLikeWorker(3, Duration.ZERO)).build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).build();
        OllamaClient o = ollama(p)) {
      List<String> tokens = new ArrayList<>();
      assertThat(o.chat(List.of(ChatMessage.user("hello")), null, tokens::add).text()).isEqualTo("tok0 tok1 tok2 ");
      assertThat(tokens).contains("tok0 ");
      assertThat(o.chat(List.of(ChatMessage.user("hello"))).text()).isEqualTo("answer to hello");
    }
  }

  @Test
  void aggregatedListOutputsAndPlainTextChunksAreUnwrapped() {
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          job.emit(TextNode.valueOf("Hello"));
          job.emit(Json.object().put("text", ", world"));
          return null;
        }).build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).build();
        OllamaClient o = ollama(p)) {
      assertThat(o.generate("x")).isEqualTo("Hello, world");
      List<String> tokens = new ArrayList<>();
      assertThat(o.generateStreaming(LlmRequest.of("x"), tokens::add).text()).isEqualTo("Hello, world");
      assertThat(tokens).contains("Hello", ", world");
    }
  }

  @Test
  void failedJobsBecomeOllamaErrorsBeforeAndDuringStreaming() {
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          throw new IllegalStateException("CUDA out of memory");
        }).build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).build();
        OllamaClient o = ollama(p)) {
      assertThatThrownBy(() -> o.generate("x")).isInstanceOfSatisfying(RemoteServiceException.class, e -> {
        assertThat(e.httpStatus()).isEqualTo(500);
        assertThat(e.getMessage()).contains("FAILED").contains("CUDA out of memory");
      });
      assertThatThrownBy(() -> o.generateStreaming(LlmRequest.of("x"), t -> { }))
          .isInstanceOfSatisfying(RemoteServiceException.class, e -> {
            assertThat(e.httpStatus()).isEqualTo(200);
            assertThat(e.getMessage()).contains("CUDA out of memory");
          });
    }
  }

  @Test
  void workerErrorChunkEndsTheStreamWithAnErrorLine() {
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          job.emit(TextNode.valueOf("{\"model\":\"m\",\"response\":\"a\",\"done\":false}"));
          job.emit(Json.object().put("error", "model failed to load"));
          return null;
        }).build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).build();
        OllamaClient o = ollama(p)) {
      assertThatThrownBy(() -> o.generateStreaming(LlmRequest.of("x"), t -> { }))
          .isInstanceOfSatisfying(RemoteServiceException.class, e -> assertThat(e.getMessage()).contains("model failed to load"));
    }
  }

  @Test
  void upstreamFailuresNeverEchoTheRunPodKeyNorForwardTheCallerAuthorization() throws Exception {
    PrintStream originalErr = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    try (FakeRunPodEndpoint fake = fake().build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).apiKey("proxy-token-abc").build();
        OllamaClient o = OllamaClient.builder().baseUrl(p.baseUrl()).model(MODEL).apiKey("proxy-token-abc")
            .retry(RetryPolicy.none()).build()) {
      assertThat(o.generate("fine")).isEqualTo("echo: fine");
      assertThat(fake.requests()).allSatisfy(r -> assertThat(r.authorization()).isEqualTo("Bearer " + KEY));
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      fake.injectFault(Operation.RUN, 1, Fault.status(500).echoingAuthorization());
      assertThatThrownBy(() -> o.generate("x")).isInstanceOfSatisfying(RemoteServiceException.class, e -> {
        assertThat(e.httpStatus()).isEqualTo(502);
        assertThat(e.kind()).isEqualTo(Kind.SERVER_ERROR);
        // A fixed message per kind: nothing of the upstream body (which here even echoes the credential) gets through.
        assertThat(e.getMessage()).contains("the upstream RunPod endpoint failed").doesNotContain(KEY)
            .doesNotContain("****").doesNotContain("rejected request with").doesNotContain("Bearer");
      });
      fake.injectFault(Operation.RUN, 1, Fault.status(401).echoingAuthorization());
      assertThatThrownBy(() -> o.generate("x")).isInstanceOfSatisfying(RemoteServiceException.class, e -> {
        assertThat(e.httpStatus()).isEqualTo(502);
        assertThat(e.getMessage()).doesNotContain(KEY).doesNotContain("****").contains("rejected the proxy's credentials");
      });
      fake.injectFault(Operation.RUN, 1, Fault.status(400).withBody("{\"error\":\"input too large for worker xyz\"}"));
      OkHttpClient http = new OkHttpClient();
      try (Response r = http.newCall(new Request.Builder().url(p.baseUrl() + "/api/generate")
          .header("Authorization", "Bearer proxy-token-abc").post(RequestBody.create(
              "{\"model\":\"securetag\",\"prompt\":\"x\",\"stream\":false}", MediaType.get("application/json")))
          .build()).execute()) {
        assertThat(r.code()).isEqualTo(400);
        JsonNode err = Json.readTree(r.body().string(), "error reply");
        assertThat(err.path("error").asText()).isEqualTo("the upstream RunPod endpoint rejected the request");
        assertThat(err.path("error_kind").asText()).isEqualTo("upstream_rejected");
      }
      http.connectionPool().evictAll();
      assertThat(p.toString()).doesNotContain(KEY).doesNotContain("proxy-token-abc");
    } finally {
      System.setErr(originalErr);
    }
    // The detail goes to the log instead, scrubbed of the key.
    String logs = captured.toString(StandardCharsets.UTF_8);
    assertThat(logs).contains("HTTP 500: rejected request with Authorization: Bearer ****")
        .contains("input too large for worker xyz").doesNotContain(KEY);
  }

  @Test
  void bearerSchemeIsCaseInsensitiveButTheTokenIsNot() throws Exception {
    try (FakeRunPodEndpoint fake = fake().build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).apiKey("s3cret-token").build()) {
      OkHttpClient http = new OkHttpClient();
      for (String header : List.of("Bearer s3cret-token", "bearer s3cret-token", "BEARER s3cret-token",
          "bEaReR   s3cret-token")) {
        try (Response r = http.newCall(new Request.Builder().url(p.baseUrl() + "/api/tags").header("Authorization", header)
            .build()).execute()) {
          assertThat(r.code()).as(header).isEqualTo(200);
        }
      }
      for (String header : List.of("Bearer S3CRET-TOKEN", "Basic s3cret-token", "Bearers3cret-token", "s3cret-token",
          "Bearer", "Bearer s3cret-token extra")) {
        try (Response r = http.newCall(new Request.Builder().url(p.baseUrl() + "/api/tags").header("Authorization", header)
            .build()).execute()) {
          assertThat(r.code()).as(header).isEqualTo(401);
        }
      }
      http.connectionPool().evictAll();
    }
  }

  @Test
  void apiKeyIsRequiredWhenConfigured() throws Exception {
    try (FakeRunPodEndpoint fake = fake().build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).apiKey("s3cret-token").build()) {
      OkHttpClient http = new OkHttpClient();
      RequestBody body = RequestBody.create("{\"model\":\"securetag\",\"prompt\":\"x\",\"stream\":false}",
          MediaType.get("application/json"));
      try (Response r = http.newCall(new Request.Builder().url(p.baseUrl() + "/api/generate").post(body).build()).execute()) {
        assertThat(r.code()).isEqualTo(401);
        assertThat(r.body().string()).contains("\"error\"");
      }
      try (Response r = http.newCall(new Request.Builder().url(p.baseUrl() + "/api/generate").post(body)
          .header("Authorization", "Bearer s3cret-tokeX").build()).execute()) {
        assertThat(r.code()).isEqualTo(401);
      }
      try (Response r = http.newCall(new Request.Builder().url(p.baseUrl() + "/api/tags")
          .header("Authorization", "s3cret-token").build()).execute()) {
        assertThat(r.code()).isEqualTo(401);
      }
      try (Response r = http.newCall(new Request.Builder().url(p.baseUrl() + "/api/generate").post(body)
          .header("Authorization", "Bearer s3cret-token").build()).execute()) {
        assertThat(r.code()).isEqualTo(200);
        assertThat(Json.readTree(r.body().string(), "reply").path("response").asText()).isEqualTo("echo: x");
      }
      try (Response r = http.newCall(new Request.Builder().url(p.baseUrl() + "/").build()).execute()) {
        assertThat(r.code()).isEqualTo(200);
        assertThat(r.body().string()).isEqualTo("Ollama is running");
      }
      assertThat(fake.requestCount(Operation.RUN)).isEqualTo(1);
      http.connectionPool().evictAll();
    }
  }

  @Test
  void oversizedAndMalformedBodiesAreRejectedBeforeReachingRunPod() throws Exception {
    try (FakeRunPodEndpoint fake = fake().build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).maxBodyBytes(1024).build()) {
      OkHttpClient http = new OkHttpClient();
      String big = "{\"model\":\"securetag\",\"prompt\":\"" + "x".repeat(5000) + "\"}";
      try (Response r = http.newCall(new Request.Builder().url(p.baseUrl() + "/api/generate")
          .post(RequestBody.create(big, MediaType.get("application/json"))).build()).execute()) {
        assertThat(r.code()).isEqualTo(413);
        assertThat(r.body().string()).contains("too large");
      }
      try (Response r = http.newCall(new Request.Builder().url(p.baseUrl() + "/api/generate")
          .post(RequestBody.create("{not json", MediaType.get("application/json"))).build()).execute()) {
        assertThat(r.code()).isEqualTo(400);
      }
      try (Response r = http.newCall(new Request.Builder().url(p.baseUrl() + "/api/generate")
          .post(RequestBody.create("{\"prompt\":\"x\"}", MediaType.get("application/json"))).build()).execute()) {
        assertThat(r.code()).isEqualTo(400);
        assertThat(r.body().string()).contains("model is required");
      }
      try (Response r = http.newCall(new Request.Builder().url(p.baseUrl() + "/api/generate").get().build()).execute()) {
        assertThat(r.code()).isEqualTo(405);
      }
      assertThat(fake.requestCount(Operation.RUN)).isZero();
      http.connectionPool().evictAll();
    }
  }

  @Test
  void saturatedProxyAnswers503WithRetryAfter() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          release.await(10, TimeUnit.SECONDS);
          return Json.object().put("response", "slow");
        }).build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).concurrency(1).admissionWait(Duration.ofMillis(200)).build();
        OllamaClient o = ollama(p)) {
      Future<String> first = pool.submit(() -> o.generate("first"));
      eventually(() -> p.inFlight() == 1, "first generation in flight");
      OkHttpClient http = new OkHttpClient();
      try (Response r = http.newCall(new Request.Builder().url(p.baseUrl() + "/api/generate").post(RequestBody.create(
          "{\"model\":\"securetag\",\"prompt\":\"second\",\"stream\":false}", MediaType.get("application/json"))).build())
          .execute()) {
        assertThat(r.code()).isEqualTo(503);
        assertThat(r.header("Retry-After")).isEqualTo("1");
        assertThat(r.body().string()).contains("busy");
      }
      assertThatThrownBy(() -> o.generate("third")).isInstanceOfSatisfying(RemoteServiceException.class, e -> {
        assertThat(e.kind()).isEqualTo(Kind.SERVER_ERROR);
        assertThat(e.isRetriable()).isTrue();
      });
      release.countDown();
      assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("slow");
      http.connectionPool().evictAll();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void closeLetsInFlightGenerationsFinishThenStopsListening() throws Exception {
    try (FakeRunPodEndpoint fake = fake().handler(ollamaLikeWorker(6, Duration.ofMillis(60))).build();
        RunPodClient rp = client(fake).build()) {
      OllamaRunPodProxy p = proxy(rp).build();
      String url = p.baseUrl();
      try (OllamaClient o = ollama(p)) {
        CompletableFuture<OllamaResponse> running =
            CompletableFuture.supplyAsync(() -> o.generateStreaming(LlmRequest.of("long"), t -> { }));
        eventually(() -> p.inFlight() == 1, "generation in flight");
        p.close();
        OllamaResponse r = running.get(10, TimeUnit.SECONDS);
        assertThat(r.text()).isEqualTo("tok0 tok1 tok2 tok3 tok4 tok5 ");
        assertThat(r.raw().path("done").asBoolean()).isTrue();
        p.close();
      }
      try (OllamaClient after = OllamaClient.builder().baseUrl(url).model(MODEL).retry(RetryPolicy.none()).build()) {
        assertThatThrownBy(after::version).isInstanceOfSatisfying(RemoteServiceException.class,
            e -> assertThat(e).hasRootCauseInstanceOf(ConnectException.class));
      }
    }
  }

  @Test
  void bindsToLoopbackByDefaultAndAnswersMetadataRoutes() {
    try (FakeRunPodEndpoint fake = fake().build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).build();
        OllamaClient o = ollama(p)) {
      assertThat(p.address().getAddress().isLoopbackAddress()).isTrue();
      assertThat(o.version()).isEqualTo(OllamaRunPodProxy.OLLAMA_API_VERSION);
      assertThat(o.tags()).extracting(OllamaModelInfo::name).containsExactly(MODEL);
      assertThat(o.show(MODEL).capabilities().get(0)).isEqualTo("completion");
      assertThatThrownBy(() -> o.show("other")).isInstanceOfSatisfying(RemoteServiceException.class,
          e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND));
      assertThat(fake.requestCount(Operation.ANY)).isZero();
    }
  }

  @Test
  void callerDisconnectCancelsTheRunPodJob() throws Exception {
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          for (int i = 0; i < 2000; i++) {
            job.emit(TextNode.valueOf("{\"model\":\"m\",\"response\":\"" + "x".repeat(200) + "\",\"done\":false}"));
            job.sleep(Duration.ofMillis(5));
          }
          return null;
        }).build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).build()) {
      OkHttpClient http = new OkHttpClient();
      var call = http.newCall(new Request.Builder().url(p.baseUrl() + "/api/generate").post(RequestBody.create(
          "{\"model\":\"securetag\",\"prompt\":\"forever\"}", MediaType.get("application/json"))).build());
      try (Response r = call.execute();
          BufferedReader reader = new BufferedReader(new InputStreamReader(r.body().byteStream(), StandardCharsets.UTF_8))) {
        assertThat(reader.readLine()).contains("\"done\":false");
        call.cancel();
      } catch (java.io.IOException expected) {
        // Closing a cancelled stream may itself report the cancellation.
      }
      eventually(() -> fake.requestCount(Operation.CANCEL) == 1, "proxy cancelled the job");
      String jobId = fake.requests().stream().filter(rq -> rq.operation() == Operation.CANCEL).findFirst().orElseThrow()
          .path().replaceAll(".*/", "");
      assertThat(fake.jobStatus(jobId)).contains(JobState.CANCELLED);
      http.connectionPool().evictAll();
    }
  }

  @Test
  void fullChainThroughTheForwardingHandlerReachesAnOllamaServer() throws Exception {
    try (mockwebserver3.MockWebServer ollamaServer = new mockwebserver3.MockWebServer()) {
      ollamaServer.start();
      ollamaServer.enqueue(new mockwebserver3.MockResponse.Builder().code(200).body(
          "{\"model\":\"securetag\",\"response\":\"Con\",\"done\":false}\n"
              + "{\"model\":\"securetag\",\"response\":\"trols\",\"done\":false}\n"
              + "{\"model\":\"securetag\",\"response\":\"\",\"done\":true,\"done_reason\":\"stop\",\"eval_count\":2}\n")
          .build());
      ollamaServer.enqueue(new mockwebserver3.MockResponse.Builder().code(200).body(
          "{\"model\":\"securetag\",\"response\":\"Policies\",\"done\":true,\"done_reason\":\"stop\"}").build());
      try (dev.securetag.testing.OllamaForwardingHandler forward =
              dev.securetag.testing.OllamaForwardingHandler.forwardingTo(ollamaServer.url("/").toString(), MODEL);
          FakeRunPodEndpoint fake = fake().handler(forward).build();
          RunPodClient rp = client(fake).build();
          OllamaRunPodProxy p = proxy(rp).build();
          OllamaClient o = ollama(p)) {
        List<String> tokens = new ArrayList<>();
        OllamaResponse streamed = o.generateStreaming(LlmRequest.of("controls?"), tokens::add);
        assertThat(streamed.text()).isEqualTo("Controls");
        assertThat(streamed.evalCount()).hasValue(2);
        assertThat(tokens).contains("Con", "trols");
        assertThat(o.generate("policies?")).isEqualTo("Policies");
      }
      JsonNode first = Json.readTree(ollamaServer.takeRequest().getBody().utf8(), "ollama body");
      assertThat(first.path("prompt").asText()).isEqualTo("controls?");
      assertThat(first.path("stream").asBoolean()).isTrue();
      assertThat(Json.readTree(ollamaServer.takeRequest().getBody().utf8(), "ollama body").path("stream").asBoolean(true))
          .isFalse();
    }
  }

  @Test
  void sixtyFourConcurrentGenerationsAllCompleteWithNoneLost() throws Exception {
    int n = 64;
    ExecutorService callers = Executors.newFixedThreadPool(n);
    try (FakeRunPodEndpoint fake = fake().workers(n).handler(job -> {
          String prompt = job.input().path("prompt").asText();
          for (int i = 0; i < 4; i++) {
            job.emit(TextNode.valueOf(Json.write(Json.object().put("model", "m").put("response", prompt + "." + i + " ")
                .put("done", false))));
            job.sleep(Duration.ofMillis(10));
          }
          return null;
        }).build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).build();
        OllamaClient o = ollama(p)) {
      List<Future<String>> results = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String prompt = "req" + i;
        results.add(callers.submit(() -> o.generateStreaming(LlmRequest.of(prompt), t -> { }).text()));
      }
      for (int i = 0; i < n; i++) {
        assertThat(results.get(i).get(60, TimeUnit.SECONDS))
            .isEqualTo("req" + i + ".0 req" + i + ".1 req" + i + ".2 req" + i + ".3 ");
      }
      assertThat(fake.requestCount(Operation.RUN)).isEqualTo(n);
      assertThat(p.inFlight()).isZero();
    } finally {
      callers.shutdownNow();
    }
  }

  // ------------------------------------------------------------------ faults: hang-ups, queueing, stalls

  /** A worker that returns everything at the end and nothing on /stream, like the seed handler, after a long run. */
  private static JobHandler slowSyncWorker(CountDownLatch running) {
    return job -> {
      running.countDown();
      job.sleep(Duration.ofSeconds(30));
      return Json.object().put("response", "too late").put("model", MODEL);
    };
  }

  /** Sends a request on a raw socket, as any HTTP client would, and leaves the socket open. */
  private static Socket rawPost(OllamaRunPodProxy p, String path, String json) throws Exception {
    Socket s = new Socket(p.address().getAddress(), p.address().getPort());
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    OutputStream out = s.getOutputStream();
    out.write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
        + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    out.write(body);
    out.flush();
    return s;
  }

  /** Reads a response's status line and headers. */
  private static String readHead(Socket s) throws Exception {
    s.setSoTimeout(10_000);
    InputStream in = s.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.append((char) b);
    }
    return head.toString();
  }

  /** Waits for the proxy's cancel request and returns the id of the job it cancelled. */
  private static String cancelledJob(FakeRunPodEndpoint fake) {
    eventually(() -> fake.requestCount(Operation.CANCEL) >= 1, "proxy cancelled the job");
    return fake.requests().stream().filter(rq -> rq.operation() == Operation.CANCEL).findFirst().orElseThrow()
        .path().replaceAll(".*/", "");
  }

  @Test
  void callerHangingUpOnANonStreamingGenerationCancelsTheJob() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    try (FakeRunPodEndpoint fake = fake().handler(slowSyncWorker(running)).build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).build()) {
      Socket caller = rawPost(p, "/api/generate", "{\"model\":\"securetag\",\"prompt\":\"long\",\"stream\":false}");
      assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
      // stream:false: the proxy has nothing to write until the job ends, so only watching the socket can notice this.
      caller.close();
      String jobId = cancelledJob(fake);
      assertThat(fake.jobStatus(jobId)).contains(JobState.CANCELLED);
      eventually(() -> p.inFlight() == 0, "generation released");
      assertThat(fake.requestCount(Operation.CANCEL)).isEqualTo(1);
      assertThat(fake.jobStatus(jobId)).contains(JobState.CANCELLED);
    }
  }

  @Test
  void callerHangingUpWhileStreamingFromAWorkerThatStreamsNothingCancelsTheJob() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    try (FakeRunPodEndpoint fake = fake().handler(slowSyncWorker(running)).build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).build()) {
      Socket caller = rawPost(p, "/api/chat",
          "{\"model\":\"securetag\",\"messages\":[{\"role\":\"user\",\"content\":\"long\"}]}");
      String head = readHead(caller);
      assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("transfer-encoding: chunked");
      assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
      // Streaming, but the worker yields nothing and keep-alive lines are off: no write would fail either.
      caller.close();
      String jobId = cancelledJob(fake);
      assertThat(fake.jobStatus(jobId)).contains(JobState.CANCELLED);
      eventually(() -> p.inFlight() == 0, "generation released");
      assertThat(fake.requestCount(Operation.CANCEL)).isEqualTo(1);
    }
  }

  @Test
  void callerHangingUpWhileWaitingForASlotSubmitsNoJob() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          release.await(10, TimeUnit.SECONDS);
          return Json.object().put("response", "first");
        }).build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).concurrency(1).build();
        OllamaClient o = ollama(p)) {
      Future<String> first = pool.submit(() -> o.generate("first"));
      eventually(() -> p.inFlight() == 1, "first generation in flight");
      Socket second = rawPost(p, "/api/generate", "{\"model\":\"securetag\",\"prompt\":\"second\",\"stream\":false}");
      eventually(() -> p.queued() == 1, "second generation waiting for a slot");
      second.close();
      eventually(() -> p.queued() == 0, "second generation gave up its place");
      release.countDown();
      assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("first");
      assertThat(fake.requestCount(Operation.RUN)).isEqualTo(1);
      assertThat(fake.requestCount(Operation.CANCEL)).isZero();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void generationsBeyondTheConcurrencyLimitWaitForASlotInsteadOfGetting503() throws Exception {
    int n = 6;
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService callers = Executors.newFixedThreadPool(n);
    try (FakeRunPodEndpoint fake = fake().workers(n).handler(job -> {
          release.await(10, TimeUnit.SECONDS);
          return Json.object().put("response", "answer to " + job.input().path("prompt").asText());
        }).build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).concurrency(2).build();
        OllamaClient o = ollama(p)) {
      List<Future<String>> results = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String prompt = "q" + i;
        results.add(callers.submit(() -> o.generate(prompt)));
      }
      eventually(() -> p.inFlight() == 2 && p.queued() == n - 2 && fake.requestCount(Operation.RUN) == 2,
          "two submitted and running, four waiting");
      release.countDown();
      for (int i = 0; i < n; i++) {
        assertThat(results.get(i).get(20, TimeUnit.SECONDS)).isEqualTo("answer to q" + i);
      }
      assertThat(fake.requestCount(Operation.RUN)).isEqualTo(n);
      assertThat(p.queued()).isZero();
    } finally {
      callers.shutdownNow();
    }
  }

  @Test
  void aNonStreamingWorkersReplyFollowsTheJobEndWithinThePollCap() throws Exception {
    AtomicLong finishedAt = new AtomicLong();
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          job.sleep(Duration.ofMillis(1400));
          finishedAt.set(System.nanoTime());
          return Json.object().put("response", "done").put("model", MODEL);
        }).build();
        // Polls at 0.1, 0.4, 1.3, 4.0 s when uncapped: a job ending at 1.4 s would be answered 2.6 s late.
        RunPodClient rp = client(fake).poll(PollPolicy.builder().initialInterval(Duration.ofMillis(100))
            .maxInterval(Duration.ofSeconds(5)).multiplier(3).build()).build();
        OllamaRunPodProxy p = proxy(rp).build();
        OllamaClient o = ollama(p)) {
      OllamaResponse r = o.generate(LlmRequest.of("wait"), null);
      long late = System.nanoTime() - finishedAt.get();
      assertThat(r.text()).isEqualTo("done");
      // The default 500 ms cap answers within one capped interval plus two round trips; 1.5 s leaves room for load.
      assertThat(Duration.ofNanos(late)).isLessThan(Duration.ofMillis(1500));
    }
  }

  @Test
  void generateDoneLineCarriesTheWorkersContextAndOmitsItWhenThereIsNone() {
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          var out = Json.object().put("response", "with context").put("model", MODEL);
          out.putArray("context").add(1).add(2).add(3);
          return out;
        }).build();
        RunPodClient rp = client(fake).build();
        OllamaRunPodProxy p = proxy(rp).build();
        OllamaClient o = ollama(p)) {
      OllamaResponse r = o.generate(LlmRequest.of("c"), null);
      assertThat(r.text()).isEqualTo("with context");
      assertThat(r.raw().path("context").toString()).isEqualTo("[1,2,3]");
      OllamaResponse streamed = o.generateStreaming(LlmRequest.of("c"), t -> { });
      assertThat(streamed.raw().path("context").toString()).isEqualTo("[1,2,3]");
      fake.handler(job -> Json.object().put("response", "no context"));
      assertThat(o.generate(LlmRequest.of("c"), null).raw().has("context")).isFalse();
    }
  }

  @Test
  void generationsEndWithATypedGatewayTimeoutWhenRunPodNeverAnswersOrTrickles() throws Exception {
    Duration call = Duration.ofMillis(800);
    for (StallingServer server : List.of(StallingServer.silent(), StallingServer.trickling(Duration.ofMillis(100)))) {
      try (server;
          RunPodClient rp = RunPodClient.builder().baseUrl(server.baseUrl()).endpointId("ep").apiKey(KEY)
              .timeouts(Timeouts.builder().call(call).build()).build();
          OllamaRunPodProxy p = proxy(rp).build();
          OllamaClient o = ollama(p)) {
        for (boolean stream : List.of(false, true)) {
          long start = System.nanoTime();
          assertThatThrownBy(() -> {
            if (stream) {
              o.generateStreaming(LlmRequest.of("x"), t -> { });
            } else {
              o.generate(LlmRequest.of("x"), null);
            }
          }).isInstanceOfSatisfying(RemoteServiceException.class, e -> {
            assertThat(e.httpStatus()).isEqualTo(504);
            assertThat(e.kind()).isEqualTo(Kind.SERVER_ERROR);
            assertThat(e.getMessage()).contains("did not answer in time").doesNotContain(KEY);
          });
          assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(call.plusSeconds(5));
        }
        assertThat(p.inFlight()).isZero();
      }
    }
  }

  @Test
  @SuppressWarnings("deprecation")
  void builderChecksEverySettingInBuildAndKeepsTheOldNames() throws Exception {
    try (FakeRunPodEndpoint fake = fake().build(); RunPodClient rp = client(fake).build()) {
      assertThatThrownBy(() -> OllamaRunPodProxy.builder().runPod(rp).model(MODEL).port(70000).build())
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port");
      assertThatThrownBy(() -> OllamaRunPodProxy.builder().runPod(rp).model(MODEL).concurrency(0).build())
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("concurrency");
      assertThatThrownBy(() -> OllamaRunPodProxy.builder().runPod(rp).model(MODEL).apiKey(" ").build())
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("apiKey");
      assertThatThrownBy(() -> OllamaRunPodProxy.builder().runPod(rp).model(MODEL).queueKeepAlive(Duration.ZERO).build())
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("queueKeepAlive");
      try (OllamaRunPodProxy p = OllamaRunPodProxy.builder().runPod(rp).model(MODEL).maxConcurrent(1)
          .accessToken("old-names-token-1").build()) {
        Request req = new Request.Builder().url(p.baseUrl() + "/api/tags").build();
        OkHttpClient http = new OkHttpClient();
        try (Response r = http.newCall(req).execute()) {
          assertThat(r.code()).isEqualTo(401);
        }
        try (Response r = http.newCall(req.newBuilder().header("Authorization", "Bearer old-names-token-1").build())
            .execute()) {
          assertThat(r.code()).isEqualTo(200);
        }
        http.connectionPool().evictAll();
      }
    }
  }
}
