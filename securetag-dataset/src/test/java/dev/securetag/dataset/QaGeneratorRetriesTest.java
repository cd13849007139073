package dev.securetag.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.LlmClient;
import dev.securetag.core.RetryPolicy;
import dev.securetag.runpod.OllamaClient;
import dev.securetag.runpod.RunPodClient;
import dev.securetag.runpod.RunPodLlmClient;
import dev.securetag.testing.FakeRunPodEndpoint;
import dev.securetag.testing.Fault;
import dev.securetag.testing.Operation;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The documented bound on attempts per request, counted at the server over real loopback HTTP with securetag's own
 * clients: a client that retries by itself gets one call per request (its attempts, not ours times its), a client that
 * does not is retried by the generator's policy. Before, QaGenerator's 4 attempts wrapped the transport's 3 (Ollama)
 * or 5 (RunPod): up to 12 or 20 requests for one chunk.
 */
class QaGeneratorRetriesTest {
  private static final RetryPolicy FAST_CLIENT = RetryPolicy.builder().maxAttempts(3)
      .initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(4)).build();
  private static final RetryPolicy FAST_GENERATOR = RetryPolicy.builder().maxAttempts(4)
      .initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(4)).build();

  private MockWebServer server;

  @BeforeEach
  void start() throws IOException {
    server = new MockWebServer();
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return new MockResponse.Builder().code(503).body("{\"error\":\"overloaded\"}").build();
      }
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private OllamaClient ollama(RetryPolicy retry) {
    return OllamaClient.builder().baseUrl(server.url("/").toString()).model("fake-7b").retry(retry).build();
  }

  /** Runs one chunk against an always-failing server and returns the generator's report. */
  private static GenerationReport runOneChunk(QaGenerator g) {
    try {
      g.generate(List.of(TestChunks.english(0)));
    } catch (EmptyDatasetException e) {
      return e.report();
    }
    throw new AssertionError("an always-failing server cannot produce pairs");
  }

  @Test
  void aClientThatRetriesGetsOneCallPerRequestSoAttemptsAreTheClientsNotTheProduct() {
    try (OllamaClient client = ollama(FAST_CLIENT);
        QaGenerator g = QaGenerator.builder().llm(client).retryPolicy(FAST_GENERATOR).build()) {
      assertThat(g.maxAttemptsPerRequest()).isEqualTo(3);
      GenerationReport report = runOneChunk(g);
      assertThat(server.getRequestCount()).isEqualTo(3);
      assertThat(report.llmCalls()).isEqualTo(1);
      assertThat(report.retries()).isZero();
      assertThat(report.dropped(DropReason.REQUEST_FAILED)).isEqualTo(1);
    }
  }

  @Test
  void aClientThatDoesNotRetryIsRetriedByTheGeneratorPolicy() {
    try (OllamaClient client = ollama(RetryPolicy.none());
        QaGenerator g = QaGenerator.builder().llm(client).retryPolicy(FAST_GENERATOR).build()) {
      assertThat(g.maxAttemptsPerRequest()).isEqualTo(4);
      GenerationReport report = runOneChunk(g);
      assertThat(server.getRequestCount()).isEqualTo(4);
      assertThat(report.llmCalls()).isEqualTo(4);
      assertThat(report.retries()).isEqualTo(3);
    }
  }

  @Test
  void deprecatedRetrySettersStillShapeTheGeneratorPolicy() {
    try (OllamaClient client = ollama(RetryPolicy.none());
        @SuppressWarnings("deprecation")
        QaGenerator g = QaGenerator.builder().llm(client).maxRetries(1)
            .backoff(Duration.ofMillis(1), Duration.ofMillis(2)).build()) {
      assertThat(g.maxAttemptsPerRequest()).isEqualTo(2);
      runOneChunk(g);
      assertThat(server.getRequestCount()).isEqualTo(2);
    }
    @SuppressWarnings("deprecation")
    QaGenerator.Builder bad = QaGenerator.builder().llm(ollama(RetryPolicy.none())).maxRetries(-1);
    assertThatThrownBy(bad::build).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxRetries");
  }

  @Test
  void runPodRequestsCostAtMostTheRunPodClientsAttemptsNotTwentyOfThem() {
    try (FakeRunPodEndpoint fake = FakeRunPodEndpoint.builder().apiKey("k").build()) {
      fake.injectFault(Operation.RUNSYNC, 100, Fault.rateLimited());
      RunPodClient runPod = RunPodClient.builder().baseUrl(fake.baseUrl()).endpointId(fake.endpointId()).apiKey("k")
          .retry(RetryPolicy.builder().initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(4)).build())
          .build();
      try (LlmClient llm = RunPodLlmClient.builder().runPod(runPod).model("securetag").build();
          QaGenerator g = QaGenerator.builder().llm(llm).retryPolicy(FAST_GENERATOR).build()) {
        assertThat(llm.retryPolicy().maxAttempts()).isEqualTo(5);
        assertThat(g.maxAttemptsPerRequest()).isEqualTo(5);
        GenerationReport report = runOneChunk(g);
        assertThat(fake.requestCount(Operation.RUNSYNC)).isEqualTo(5);
        assertThat(report.llmCalls()).isEqualTo(1);
      }
    }
  }
}
