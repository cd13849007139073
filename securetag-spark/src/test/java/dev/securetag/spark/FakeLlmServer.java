package dev.securetag.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.internal.Json;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;

/**
 * An Ollama {@code /api/generate} on loopback whose answer is a pure function of the prompt: one grounded pair made of
 * the chunk's own first words, so any two runs over the same chunks get the same pairs. Counts requests per prompt.
 */
final class FakeLlmServer extends Dispatcher {
  final Map<String, AtomicInteger> perPrompt = new ConcurrentHashMap<>();
  final AtomicInteger total = new AtomicInteger();

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    JsonNode body = Json.readTree(request.getBody().utf8(), "request");
    String prompt = body.path("prompt").asText();
    perPrompt.computeIfAbsent(prompt, k -> new AtomicInteger()).incrementAndGet();
    total.incrementAndGet();
    ObjectNode n = Json.object();
    n.put("model", "fake-llm");
    n.put("response", Json.write(pairsFor(prompt)));
    n.put("done", true);
    return new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json").body(Json.write(n))
        .build();
  }

  static ArrayNode pairsFor(String prompt) {
    int at = Math.max(prompt.lastIndexOf("\nText:\n"), prompt.lastIndexOf("\nTexto:\n"));
    String text = at < 0 ? prompt : prompt.substring(prompt.indexOf('\n', at + 1) + 1);
    String[] words = text.strip().split("\\s+");
    String answer = String.join(" ", Arrays.copyOf(words, Math.min(words.length, 25)));
    String lead = String.join(" ", Arrays.copyOf(words, Math.min(words.length, 4)));
    ArrayNode pairs = Json.mapper().createArrayNode();
    pairs.addObject().put("question", "What does the passage that begins with \"" + lead + "\" state?")
        .put("answer", answer);
    return pairs;
  }

  /** Requests in this phase that repeated a prompt already asked in it. */
  int repeats() {
    return perPrompt.values().stream().mapToInt(c -> Math.max(0, c.get() - 1)).sum();
  }

  void reset() {
    perPrompt.clear();
    total.set(0);
  }
}
