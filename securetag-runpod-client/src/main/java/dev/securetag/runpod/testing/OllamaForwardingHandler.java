package dev.securetag.runpod.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.securetag.core.Json;
import dev.securetag.core.RemoteServiceException;
import dev.securetag.runpod.OllamaClient;
import dev.securetag.runpod.Timeouts;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A {@link JobHandler} that does what the RunPod Ollama worker does: forwards the job input to an Ollama-API server
 * and returns its answer, so {@link FakeRunPodEndpoint} can front a local Ollama (or any Ollama-compatible server)
 * in end-to-end runs.
 *
 * <ul>
 *   <li>input {@code {"prompt", "model"?, "system"?, "options"?, "format"?, "keep_alive"?}} → {@code /api/generate};
 *       {@code {"messages": [...]}} → {@code /api/chat};</li>
 *   <li>{@code "stream": false} (the seed's contract) → output {@code {"response", "model", "done_reason",
 *       "eval_count", "prompt_eval_count"}};</li>
 *   <li>{@code "stream": true} → each Ollama NDJSON line is yielded as a string chunk (worker-ollama's format);</li>
 *   <li>an Ollama error → {@code {"error": "..."}} (job FAILED).</li>
 * </ul>
 */
public final class OllamaForwardingHandler implements JobHandler, AutoCloseable {
  private static final List<String> PASSTHROUGH =
      List.of("system", "options", "format", "keep_alive", "template", "think", "images", "tools", "raw", "suffix");

  private final OllamaClient ollama;
  private final String defaultModel;

  private OllamaForwardingHandler(OllamaClient ollama, String defaultModel) {
    this.ollama = ollama;
    this.defaultModel = defaultModel;
  }

  /** Forwards to the Ollama API at {@code ollamaBaseUrl}, using {@code defaultModel} when the input names none. */
  public static OllamaForwardingHandler forwardingTo(String ollamaBaseUrl, String defaultModel) {
    OllamaClient client = OllamaClient.builder()
        .baseUrl(Objects.requireNonNull(ollamaBaseUrl, "ollamaBaseUrl"))
        .model(defaultModel)
        .timeouts(Timeouts.builder().read(Duration.ofMinutes(10)).deadline(Duration.ofMinutes(30)).build())
        .build();
    return new OllamaForwardingHandler(client, defaultModel);
  }

  @Override
  public JsonNode handle(JobContext job) {
    JsonNode input = job.input();
    boolean chat = input.path("messages").isArray();
    ObjectNode body = Json.object();
    body.put("model", input.path("model").asText(defaultModel));
    if (chat) {
      body.set("messages", input.get("messages"));
    } else {
      body.put("prompt", input.path("prompt").asText(""));
    }
    for (String field : PASSTHROUGH) {
      if (input.has(field)) {
        body.set(field, input.get(field));
      }
    }
    boolean stream = input.path("stream").asBoolean(false);
    body.put("stream", stream);
    String path = chat ? "/api/chat" : "/api/generate";
    try {
      if (stream) {
        ollama.send(path, body, line -> job.emit(TextNode.valueOf(Json.write(line))));
        return null;
      }
      var r = ollama.send(path, body, null);
      ObjectNode out = Json.object().put("response", r.text()).put("model", r.model());
      r.doneReason().ifPresent(d -> out.put("done_reason", d));
      r.promptEvalCount().ifPresent(c -> out.put("prompt_eval_count", c));
      r.evalCount().ifPresent(c -> out.put("eval_count", c));
      if (chat) {
        out.putObject("message").put("role", "assistant").put("content", r.text());
      }
      return out;
    } catch (RemoteServiceException e) {
      // The worker reports Ollama failures as a returned error string, which RunPod turns into FAILED.
      return Json.object().put("error", e.getMessage());
    }
  }

  /** Releases the HTTP client. Idempotent. */
  @Override
  public void close() {
    ollama.close();
  }

  @Override
  public String toString() {
    return "OllamaForwardingHandler{" + ollama + "}";
  }
}
