package dev.securetag.runpod.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.internal.Json;
import dev.securetag.core.ollama.OllamaChunk;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns RunPod worker outputs (stream chunks or a final output) into Ollama API objects for one request: chunks
 * that already are Ollama NDJSON lines (worker-ollama yields them as strings) pass through normalised; bare text or
 * {@code {response}} objects become {@code done:false} lines; list-shaped aggregated outputs are unwrapped. The
 * worker's own {@code done} line is held back and emitted last, or one is synthesised from RunPod's timings.
 */
public final class OllamaStreamTranslator {
  private final String model;
  private final boolean chat;
  private final StringBuilder text = new StringBuilder();
  private ObjectNode workerDone;
  private JsonNode context;
  private String error;
  private int pieces;

  public OllamaStreamTranslator(String model, boolean chat) {
    this.model = model;
    this.chat = chat;
  }

  /** The Ollama lines (done:false) this output contributes, in order; done/error lines are remembered instead. */
  public List<ObjectNode> accept(JsonNode output) {
    List<ObjectNode> out = new ArrayList<>();
    collect(output, out, 0);
    return out;
  }

  private void collect(JsonNode node, List<ObjectNode> out, int depth) {
    if (node == null || node.isNull() || node.isMissingNode() || depth > 6 || error != null) {
      return;
    }
    if (node.isArray()) {
      node.forEach(n -> collect(n, out, depth + 1));
      return;
    }
    if (node.isTextual()) {
      String s = node.asText();
      if (s.trim().startsWith("{")) {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : s.trim().split("\n")) {
          if (line.isBlank()) {
            continue;
          }
          Optional<JsonNode> j = OutputText.tryParseJson(line);
          if (j.isEmpty() || !j.get().isObject()) {
            lines = null;
            break;
          }
          lines.add(j.get());
        }
        if (lines != null) {
          lines.forEach(l -> collect(l, out, depth + 1));
          return;
        }
      }
      if (!s.isEmpty()) {
        out.add(piece(s));
      }
      return;
    }
    if (node.isObject()) {
      if (node.path("error").isTextual()) {
        error = node.get("error").asText();
        return;
      }
      if (node.has("output") && !node.has("response") && !node.has("message")) {
        collect(node.get("output"), out, depth + 1);
        return;
      }
      if (node.path("context").isArray()) {
        // The seed handler returns Ollama's whole reply, done flag or not; keep its token context for the done line.
        context = node.get("context").deepCopy();
      }
      String piece = OutputText.text(node);
      if (node.path("done").asBoolean(false)) {
        if (!piece.isEmpty()) {
          out.add(piece(piece));
        }
        workerDone = ((ObjectNode) node).deepCopy();
        return;
      }
      if (!piece.isEmpty()) {
        out.add(piece(piece));
      }
    }
  }

  private ObjectNode piece(String s) {
    text.append(s);
    pieces++;
    return line(s);
  }

  /** A {@code done:false} line carrying {@code s}, in the wire type Ollama servers write. */
  private ObjectNode line(String s) {
    String now = Instant.now().toString();
    return Json.mapper().valueToTree(chat ? OllamaChunk.chatPiece(model, now, s) : OllamaChunk.generatePiece(model, now, s));
  }

  /**
   * An empty {@code done:false} line, sent while a job waits in the queue so callers' read timeouts do not fire
   * during a cold start (Ollama itself emits empty-text chunks, so clients accept them).
   */
  public ObjectNode keepAliveLine() {
    return line("");
  }

  private ObjectNode base() {
    ObjectNode line = Json.object();
    line.put("model", model);
    line.put("created_at", Instant.now().toString());
    return line;
  }

  /** An error a worker reported inside its output ({@code {"error": ".."}}), if any. */
  public Optional<String> error() {
    return Optional.ofNullable(error);
  }

  /** Whether any text arrived. */
  public boolean hasText() {
    return pieces > 0;
  }

  public String text() {
    return text.toString();
  }

  /**
   * The final {@code done:true} line. {@code full} puts the whole text in it (non-streaming replies); RunPod's
   * queue and run times fill the duration fields (nanoseconds) the worker did not send. A generate reply carries
   * {@code context} when the worker returned one; otherwise the field is absent, as in Ollama's own replies when it
   * has none (the field is {@code omitempty} there and deprecated).
   */
  public ObjectNode doneLine(boolean full, Duration delay, Duration execution) {
    ObjectNode done = base();
    if (workerDone != null) {
      workerDone.properties().forEach(e -> {
        if (!e.getKey().equals("response") && !e.getKey().equals("message") && !e.getKey().equals("created_at")) {
          done.set(e.getKey(), e.getValue());
        }
      });
      if (!done.hasNonNull("model") || done.get("model").asText().isEmpty()) {
        done.put("model", model);
      }
    }
    String content = full ? text.toString() : "";
    if (chat) {
      done.putObject("message").put("role", "assistant").put("content", content);
    } else {
      done.put("response", content);
    }
    done.put("done", true);
    if (!chat && !done.has("context") && context != null) {
      done.set("context", context);
    }
    if (!done.has("done_reason")) {
      done.put("done_reason", "stop");
    }
    long delayNs = delay == null ? 0 : delay.toNanos();
    long execNs = execution == null ? 0 : execution.toNanos();
    putIfAbsent(done, "total_duration", delayNs + execNs);
    putIfAbsent(done, "load_duration", delayNs);
    putIfAbsent(done, "prompt_eval_count", 0);
    putIfAbsent(done, "prompt_eval_duration", 0);
    putIfAbsent(done, "eval_count", pieces);
    putIfAbsent(done, "eval_duration", execNs);
    return done;
  }

  private static void putIfAbsent(ObjectNode n, String field, long value) {
    if (!n.has(field)) {
      n.put(field, value);
    }
  }
}
