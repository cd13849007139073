package dev.securetag.dataset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.internal.Json;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;

/**
 * A scripted Ollama {@code /api/generate} for MockWebServer: responses are queued per chunk marker (CHUNK-n in the
 * prompt), falling back to a default function; it records request bodies and the highest concurrency seen.
 */
final class FakeOllama extends Dispatcher {
  private final Map<Integer, Deque<MockResponse>> scripted = new HashMap<>();
  private final Function<JsonNode, MockResponse> fallback;
  private final long sleepMillis;
  final List<JsonNode> requests = Collections.synchronizedList(new ArrayList<>());
  final AtomicInteger inFlight = new AtomicInteger();
  final AtomicInteger maxInFlight = new AtomicInteger();

  FakeOllama(long sleepMillis, Function<JsonNode, MockResponse> fallback) {
    this.sleepMillis = sleepMillis;
    this.fallback = fallback;
  }

  /** Answers every chunk with its good two-pair answer. */
  static FakeOllama good(long sleepMillis) {
    return new FakeOllama(sleepMillis, body -> ok(TestChunks.goodAnswer(TestChunks.marker(body.get("prompt").asText()))));
  }

  static MockResponse ok(String text) {
    ObjectNode n = Json.object();
    n.put("model", "fake");
    n.put("response", text);
    n.put("done", true);
    return new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json").body(Json.write(n))
        .build();
  }

  static MockResponse status(int code) {
    return new MockResponse.Builder().code(code).body("{\"error\":\"scripted " + code + "\"}").build();
  }

  synchronized FakeOllama script(int marker, MockResponse... responses) {
    scripted.computeIfAbsent(marker, k -> new ArrayDeque<>()).addAll(List.of(responses));
    return this;
  }

  /** Markers of the prompts received, in arrival order. */
  List<Integer> markers() {
    synchronized (requests) {
      return requests.stream().map(r -> TestChunks.marker(r.get("prompt").asText())).toList();
    }
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
    int now = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(now, Math::max);
    try {
      JsonNode body = Json.readTree(request.getBody().utf8(), "request");
      requests.add(body);
      if (sleepMillis > 0) {
        Thread.sleep(sleepMillis);
      }
      int marker = TestChunks.marker(body.get("prompt").asText());
      synchronized (this) {
        Deque<MockResponse> q = scripted.get(marker);
        if (q != null && !q.isEmpty()) {
          return q.poll();
        }
      }
      return fallback.apply(body);
    } finally {
      inFlight.decrementAndGet();
    }
  }
}
