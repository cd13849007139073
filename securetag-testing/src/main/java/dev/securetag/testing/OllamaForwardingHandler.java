package dev.securetag.testing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.securetag.core.internal.DaemonThreads;
import dev.securetag.core.internal.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;

/**
 * A {@link JobHandler} that does what the RunPod Ollama worker does: forwards the job input to an Ollama-API server
 * and returns its answer, so {@link FakeRunPodEndpoint} can front a local Ollama (or any Ollama-compatible server,
 * such as securetag-gguf-runtime's LocalLlmServer) in end-to-end runs. It speaks the Ollama wire protocol with the JDK's HTTP
 * client, like the Python worker, without retries of its own.
 *
 * <ul>
 *   <li>input {@code {"prompt", "model"?, "system"?, "options"?, "format"?, "keep_alive"?}} → {@code /api/generate};
 *       {@code {"messages": [...]}} → {@code /api/chat};</li>
 *   <li>{@code "stream": false} (the seed's contract) → output {@code {"response", "model", "done_reason",
 *       "eval_count", "prompt_eval_count"}};</li>
 *   <li>{@code "stream": true} → each Ollama NDJSON line is yielded as a string chunk (worker-ollama's format);</li>
 *   <li>an Ollama error (an error status, or an {@code error} line) → {@code {"error": "..."}} (job FAILED).</li>
 * </ul>
 */
public final class OllamaForwardingHandler implements JobHandler, AutoCloseable {
  private static final List<String> PASSTHROUGH =
      List.of("system", "options", "format", "keep_alive", "template", "think", "images", "tools", "raw", "suffix");
  private static final Duration REPLY_TIMEOUT = Duration.ofMinutes(30);

  private final URI baseUrl;
  private final String defaultModel;
  private final ExecutorService executor;
  private final HttpClient http;

  private OllamaForwardingHandler(URI baseUrl, String defaultModel) {
    this.baseUrl = baseUrl;
    this.defaultModel = defaultModel;
    this.executor = DaemonThreads.cachedPool("ollama-forwarding");
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).executor(executor)
        .version(HttpClient.Version.HTTP_1_1).build();
  }

  /** Forwards to the Ollama API at {@code ollamaBaseUrl}, using {@code defaultModel} when the input names none. */
  public static OllamaForwardingHandler forwardingTo(String ollamaBaseUrl, String defaultModel) {
    String base = Objects.requireNonNull(ollamaBaseUrl, "ollamaBaseUrl");
    return new OllamaForwardingHandler(URI.create(base.endsWith("/") ? base : base + "/"), defaultModel);
  }

  @Override
  public JsonNode handle(JobContext job) throws InterruptedException {
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
    String path = chat ? "api/chat" : "api/generate";
    HttpRequest req = HttpRequest.newBuilder(baseUrl.resolve(path)).timeout(REPLY_TIMEOUT)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(Json.write(body), StandardCharsets.UTF_8)).build();
    try {
      HttpResponse<InputStream> reply = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(reply.body(), StandardCharsets.UTF_8))) {
        if (reply.statusCode() / 100 != 2) {
          String text = lines.lines().reduce("", String::concat);
          return failure("/" + path + " failed: HTTP " + reply.statusCode() + detail(text));
        }
        return stream ? relay(lines, job, path) : answer(lines, chat, path);
      }
    } catch (IOException e) {
      // The worker reports Ollama failures as a returned error string, which RunPod turns into FAILED.
      return failure("/" + path + " failed: " + e.getMessage());
    }
  }

  /** A non-streaming reply in the seed handler's output shape. */
  private JsonNode answer(BufferedReader lines, boolean chat, String path) throws IOException {
    JsonNode r = parse(lines.lines().reduce("", String::concat), path);
    if (r == null || r.path("error").isTextual()) {
      return failure("/" + path + " failed: " + (r == null ? "invalid JSON reply" : r.get("error").asText()));
    }
    String text = chat ? r.path("message").path("content").asText("") : r.path("response").asText("");
    ObjectNode out = Json.object().put("response", text).put("model", r.path("model").asText(""));
    if (r.hasNonNull("done_reason")) {
      out.put("done_reason", r.get("done_reason").asText());
    }
    if (r.path("prompt_eval_count").isNumber()) {
      out.put("prompt_eval_count", r.get("prompt_eval_count").asInt());
    }
    if (r.path("eval_count").isNumber()) {
      out.put("eval_count", r.get("eval_count").asInt());
    }
    if (chat) {
      out.putObject("message").put("role", "assistant").put("content", text);
    }
    return out;
  }

  /** Yields each NDJSON line as a string chunk; an error line fails the job. */
  private JsonNode relay(BufferedReader lines, JobContext job, String path) throws IOException {
    String line;
    while ((line = lines.readLine()) != null) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode n = parse(line, path);
      if (n == null) {
        return failure("/" + path + " stream sent a line that is not JSON");
      }
      if (n.path("error").isTextual()) {
        return failure("/" + path + " failed: " + n.get("error").asText());
      }
      job.emit(TextNode.valueOf(Json.write(n)));
      if (n.path("done").asBoolean(false)) {
        return null;
      }
    }
    return failure("/" + path + " stream ended without a done line");
  }

  private static JsonNode parse(String text, String path) {
    try {
      return Json.mapper().readTree(text);
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  private static String detail(String body) {
    JsonNode n = parse(body, "");
    if (n != null && n.path("error").isTextual()) {
      return ": " + n.get("error").asText();
    }
    return body.isBlank() ? "" : ": " + (body.length() > 200 ? body.substring(0, 200) + "..." : body);
  }

  private static JsonNode failure(String message) {
    return Json.object().put("error", "Ollama " + message);
  }

  /** Stops the HTTP client's threads. Idempotent. */
  @Override
  public void close() {
    executor.shutdownNow();
  }

  @Override
  public String toString() {
    return "OllamaForwardingHandler{" + baseUrl + ", model=" + defaultModel + "}";
  }
}
