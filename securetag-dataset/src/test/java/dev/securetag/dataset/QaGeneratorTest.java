package dev.securetag.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.Chunk;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.ProgressListener;
import dev.securetag.core.QaPair;
import dev.securetag.core.RetryPolicy;
import dev.securetag.core.internal.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QaGeneratorTest {
  @TempDir Path dir;
  MockWebServer server;

  @BeforeEach
  void start() throws IOException {
    server = new MockWebServer();
    server.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private OllamaTestClient client(boolean schema) {
    return new OllamaTestClient(server.url("/").toString(), "fake-7b", schema);
  }

  private QaGenerator.Builder gen() {
    return QaGenerator.builder().llm(client(false)).retryPolicy(retries(3)).requestTimeout(Duration.ofSeconds(10));
  }

  /** The generator's default retry count with millisecond backoffs (the test client does not retry by itself). */
  private static RetryPolicy retries(int retries) {
    return RetryPolicy.builder().maxAttempts(retries + 1).initialBackoff(Duration.ofMillis(5))
        .maxBackoff(Duration.ofMillis(40)).build();
  }

  @Test
  void recoversPairsFromFencedProseWrappedAndTruncatedJsonAndCountsEveryDrop() {
    String good2 = TestChunks.goodAnswer(2);
    FakeOllama fake = FakeOllama.good(0)
        .script(0, FakeOllama.ok("Here are the pairs:\n```json\n" + TestChunks.goodAnswer(0) + "\n```\nHope it helps!"))
        .script(1, FakeOllama.ok("Sure! " + TestChunks.goodAnswer(1) + "\nLet me know if you need more."))
        .script(2, FakeOllama.ok(good2.substring(0, good2.length() - 30)))
        .script(3, FakeOllama.ok("{'qa_pairs': [{'question': 'What does control A.5.3 require?', 'answer':"
            + " 'Access rights to information must be reviewed by asset owners at planned intervals.',},]}"))
        .script(4, FakeOllama.ok("I am sorry, I cannot help with that."))
        .script(5, FakeOllama.ok("""
            [{"question": "What is reviewed under A.5.5?", "answer": ""},
             {"question": "What does control A.5.5 require?", "answer": "Control A.5.5 requires."},
             {"question": "What colour are bananas?", "answer": "Bananas are yellow fruits grown in tropical climates."},
             {"foo": "bar"},
             {"pregunta": "Who reviews access rights under A.5.5?", "respuesta": "Asset owners review access rights at planned intervals."},
             {"question": "Who reviews access rights under A.5.5?", "answer": "Asset owners review the access rights."}]
            """));
    server.setDispatcher(fake);
    try (QaGenerator g = gen().concurrency(3).build()) {
      GenerationResult r = g.generate(TestChunks.english(0, 6));
      assertThat(r.pairs()).hasSize(7);
      assertThat(r.pairs()).extracting(QaPair::chunkId).startsWith(TestChunks.english(0).id());
      GenerationReport rep = r.report();
      assertThat(rep.llmCalls()).isEqualTo(6);
      assertThat(rep.truncatedResponses()).isEqualTo(1);
      assertThat(rep.dropped(DropReason.PARSE_FAILURE)).isEqualTo(1);
      assertThat(rep.dropped(DropReason.EMPTY_ANSWER)).isEqualTo(1);
      assertThat(rep.dropped(DropReason.ANSWER_COPIES_QUESTION)).isEqualTo(1);
      assertThat(rep.dropped(DropReason.NOT_GROUNDED)).isEqualTo(1);
      assertThat(rep.dropped(DropReason.MISSING_FIELDS)).isEqualTo(1);
      assertThat(rep.dropped(DropReason.DUPLICATE_QUESTION)).isEqualTo(1);
      assertThat(rep.pairsKept()).isEqualTo(7);
      assertThat(rep.chunksWithPairs()).isEqualTo(5);
      QaPair p = r.pairs().get(0);
      assertThat(p.generator()).contains("fake-7b");
      assertThat(p.language()).contains("en");
      assertThat(p.source().page()).isEqualTo(10);
    }
  }

  @Test
  void retriesServerErrorsWithBackoffThenSucceeds() {
    server.setDispatcher(FakeOllama.good(0).script(0, FakeOllama.status(500), FakeOllama.status(503)));
    try (QaGenerator g = gen().retryPolicy(retries(3)).build()) {
      GenerationResult r = g.generate(List.of(TestChunks.english(0)));
      assertThat(r.pairs()).hasSize(2);
      assertThat(r.report().retries()).isEqualTo(2);
      assertThat(r.report().llmCalls()).isEqualTo(3);
      assertThat(server.getRequestCount()).isEqualTo(3);
    }
  }

  @Test
  void retriesRateLimitedRequestAfterRetryAfter() {
    MockResponse limited = new MockResponse.Builder().code(429).setHeader("Retry-After", "1").body("slow down")
        .build();
    server.setDispatcher(FakeOllama.good(0).script(0, limited));
    try (QaGenerator g = gen().requestsPerMinute(6000).build()) {
      GenerationResult r = g.generate(List.of(TestChunks.english(0)));
      assertThat(r.pairs()).hasSize(2);
      assertThat(r.report().retries()).isEqualTo(1);
      assertThat(server.getRequestCount()).isEqualTo(2);
    }
  }

  @Test
  void doesNotRetryClientErrorsAndGivesUpAfterMaxRetries() {
    server.setDispatcher(FakeOllama.good(0)
        .script(0, FakeOllama.status(400))
        .script(1, FakeOllama.status(500), FakeOllama.status(500), FakeOllama.status(502)));
    try (QaGenerator g = gen().retryPolicy(retries(2)).build()) {
      GenerationResult r = g.generate(TestChunks.english(0, 3));
      assertThat(r.pairs()).hasSize(2);
      assertThat(r.report().dropped(DropReason.REQUEST_FAILED)).isEqualTo(2);
      assertThat(r.report().llmCalls()).isEqualTo(5);
      assertThat(r.report().retries()).isEqualTo(2);
    }
  }

  @Test
  void slowResponseTimesOutAndIsRetried() {
    MockResponse slow = new MockResponse.Builder(FakeOllama.ok(TestChunks.goodAnswer(0)))
        .headersDelay(3, TimeUnit.SECONDS).build();
    server.setDispatcher(FakeOllama.good(0).script(0, slow));
    try (QaGenerator g = gen().requestTimeout(Duration.ofMillis(500)).build()) {
      GenerationResult r = g.generate(List.of(TestChunks.english(0)));
      assertThat(r.pairs()).hasSize(2);
      assertThat(r.report().retries()).isEqualTo(1);
    }
  }

  @Test
  void keepsConcurrencyBoundAndChunkOrder() {
    FakeOllama fake = FakeOllama.good(150);
    server.setDispatcher(fake);
    List<Chunk> chunks = TestChunks.english(0, 12);
    List<ProgressListener.Progress> progress = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (QaGenerator g = gen().concurrency(4).listener(progress::add).build()) {
      GenerationResult r = g.generate(chunks);
      assertThat(fake.maxInFlight.get()).isEqualTo(4);
      assertThat(progress).hasSize(12).allSatisfy(p -> assertThat(p.total()).isEqualTo(12));
      assertThat(progress.stream().mapToLong(ProgressListener.Progress::done).max().orElse(0)).isEqualTo(12);
      assertThat(r.pairs()).hasSize(24);
      for (int i = 0; i < 12; i++) {
        assertThat(r.pairs().get(2 * i).chunkId()).isEqualTo(chunks.get(i).id());
      }
    }
  }

  @Test
  void secondRunAnswersFromCacheWithZeroCalls() {
    server.setDispatcher(FakeOllama.good(0));
    Path cache = dir.resolve("cache/qa.jsonl");
    List<Chunk> chunks = TestChunks.english(0, 5);
    GenerationResult first;
    try (QaGenerator g = gen().cache(cache).build()) {
      first = g.generate(chunks);
    }
    int calls = server.getRequestCount();
    assertThat(calls).isEqualTo(5);
    try (QaGenerator g = gen().cache(cache).build()) {
      GenerationResult second = g.generate(chunks);
      assertThat(server.getRequestCount()).isEqualTo(calls);
      assertThat(second.report().llmCalls()).isZero();
      assertThat(second.report().cachedResponses()).isEqualTo(5);
      assertThat(second.pairs()).isEqualTo(first.pairs());
    }
    // A different model or template is a different key: it must not be served from the cache.
    try (QaGenerator g = gen().cache(cache).promptTemplate("Other template: {{text}}").build()) {
      g.generate(chunks);
      assertThat(server.getRequestCount()).isEqualTo(calls + 5);
    }
  }

  @Test
  void killedRunResumesWithoutRepeatingAnyCompletedCall() throws Exception {
    FakeOllama fake = FakeOllama.good(200);
    server.setDispatcher(fake);
    Path cache = dir.resolve("qa-cache.jsonl");
    int n = 40;
    Process child = ChildJvm.start(dir.resolve("child.log"), "256m", QaGenMain.class,
        server.url("/").toString(), cache.toString(), String.valueOf(n));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (server.getRequestCount() < 8 && System.nanoTime() < deadline && child.isAlive()) {
      Thread.sleep(20);
    }
    child.destroyForcibly();
    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    int firstRun = server.getRequestCount();
    assertThat(firstRun).as("child log: %s", Files.readString(dir.resolve("child.log"))).isBetween(8, n - 1);
    // Simulate a write torn by the kill on top of whatever the kill left.
    Files.writeString(cache, "{\"k\":\"torn-li", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    int completed = 0;
    for (String line : Files.readAllLines(cache)) {
      try {
        JsonNode entry = Json.readTree(line, "cache");
        if (entry.hasNonNull("k") && entry.hasNonNull("v")) {
          completed++;
        }
      } catch (InvalidInputException torn) {
        // A line the kill (or this test) cut short is not a completed call.
      }
    }
    assertThat(completed).isPositive();
    Set<Integer> beforeResume = new HashSet<>(fake.markers());
    try (QaGenerator g = gen().cache(cache).concurrency(4).build()) {
      GenerationResult r = g.generate(TestChunks.english(0, n));
      assertThat(r.pairs()).hasSize(2 * n);
      assertThat(r.report().cachedResponses()).isEqualTo(completed);
      assertThat(r.report().llmCalls()).isEqualTo(n - completed);
    }
    List<Integer> resumed = fake.markers().subList(firstRun, server.getRequestCount());
    assertThat(resumed).hasSize(n - completed).doesNotHaveDuplicates();
    assertThat(beforeResume.size() + resumed.size()).isGreaterThanOrEqualTo(n);
    try (QaGenerator g = gen().cache(cache).build()) {
      int before = server.getRequestCount();
      g.generate(TestChunks.english(0, n));
      assertThat(server.getRequestCount()).isEqualTo(before);
    }
  }

  @Test
  void judgeKeepsPairsAtOrAboveThresholdAndRerratesUnparseableBatchesOneByOne() {
    FakeOllama fake = new FakeOllama(0, body -> {
      String prompt = body.get("prompt").asText();
      int m = TestChunks.marker(prompt);
      if (!prompt.contains("Rate each question-answer pair")) {
        return FakeOllama.ok(TestChunks.goodAnswer(m));
      }
      boolean batch = prompt.contains("2. Q:");
      if (m == 0) {
        return FakeOllama.ok("```json\n[{\"index\": 1, \"rating\": 9}, {\"index\": 2, \"rating\": 5}]\n```");
      }
      if (batch) {
        return FakeOllama.ok("Both look fine to me.");
      }
      return FakeOllama.ok(prompt.contains("What does control") ? "{\"rating\": 8}" : "no idea");
    });
    server.setDispatcher(fake);
    try (QaGenerator g = gen().judge(true).build()) {
      GenerationResult r = g.generate(TestChunks.english(0, 2));
      assertThat(r.pairs()).hasSize(2);
      assertThat(r.pairs()).extracting(p -> p.judgeScore().orElseThrow()).containsExactly(9.0, 8.0);
      GenerationReport rep = r.report();
      assertThat(rep.dropped(DropReason.BELOW_JUDGE_THRESHOLD)).isEqualTo(1);
      assertThat(rep.dropped(DropReason.JUDGE_FAILED)).isEqualTo(1);
      assertThat(rep.judged()).isEqualTo(3);
      assertThat(rep.meanJudgeScore()).isEqualTo((9 + 5 + 8) / 3.0);
    }
    JsonNode judgeRequest = fake.requests.stream()
        .filter(b -> b.get("prompt").asText().contains("Rate each")).findFirst().orElseThrow();
    assertThat(judgeRequest.at("/options/temperature").asDouble()).isEqualTo(0.1);
  }

  @Test
  void spanishChunkGetsSpanishPromptAndSchemaHintWhenSupported() {
    FakeOllama fake = new FakeOllama(0, body -> FakeOllama.ok("{\"qa_pairs\": [{\"pregunta\": \"¿Qué exige la"
        + " medida op.acc.0?\", \"respuesta\": \"Exige que los derechos de acceso de los usuarios se revisen"
        + " periódicamente.\"}]}"));
    server.setDispatcher(fake);
    try (QaGenerator g = QaGenerator.builder().llm(client(true)).build()) {
      GenerationResult r = g.generate(List.of(TestChunks.spanish(0)));
      assertThat(r.pairs()).hasSize(1);
      assertThat(r.pairs().get(0).language()).contains("es");
    }
    JsonNode body = fake.requests.get(0);
    assertThat(body.get("prompt").asText()).contains("Escribe en español").contains("Devuelve SOLO un array JSON");
    assertThat(body.at("/format/properties/qa_pairs/type").asText()).isEqualTo("array");
  }

  @Test
  void insertsChunkTextLiterallyIntoCustomTemplates() {
    FakeOllama fake = FakeOllama.good(0);
    server.setDispatcher(fake);
    Chunk tricky = Chunk.builder().from(TestChunks.english(0))
        .text(TestChunks.english(0).text() + " Literal {{count}} 100% {0} '%s' {\"a\": 1}").build();
    try (QaGenerator g = gen().promptTemplate("Make {{count}} pairs from: {{text}} END").pairsPerChunk(2).build()) {
      g.generate(List.of(tricky));
    }
    assertThat(fake.requests.get(0).get("prompt").asText()).isEqualTo("Make 2 pairs from: " + tricky.text() + " END");
    assertThatThrownBy(() -> gen().promptTemplate("no placeholder").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("{{text}}");
  }

  @Test
  void failsWithReasonsWhenNothingSurvives() {
    server.setDispatcher(new FakeOllama(0, body -> FakeOllama.ok("no json here")));
    try (QaGenerator g = gen().build()) {
      assertThatThrownBy(() -> g.generate(TestChunks.english(0, 3)))
          .isInstanceOf(EmptyDatasetException.class)
          .hasMessageContaining("PARSE_FAILURE")
          .satisfies(e -> assertThat(((EmptyDatasetException) e).report().dropped(DropReason.PARSE_FAILURE))
              .isEqualTo(3));
    }
  }

  @Test
  void rejectsUseAfterCloseAndMissingLlm() {
    QaGenerator g = gen().build();
    g.close();
    g.close();
    assertThatThrownBy(() -> g.generate(List.of(TestChunks.english(0)))).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> QaGenerator.builder().build()).isInstanceOf(IllegalStateException.class);
  }
}
