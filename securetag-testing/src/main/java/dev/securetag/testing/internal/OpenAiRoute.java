package dev.securetag.testing.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.securetag.core.internal.Json;
import dev.securetag.testing.JobState;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code /openai/v1/*} route of vLLM-style workers: like RunPod, the call becomes a job with input
 * {@code {"openai_route": "/v1/...", "openai_input": body}}. Non-streaming calls answer the job output as plain OpenAI
 * JSON (a one-element aggregated list is unwrapped); {@code "stream": true} calls answer SSE, writing each emitted chunk
 * as it arrives (strings verbatim as SSE text, objects as {@code data:} events) and ending with {@code data: [DONE]}.
 */
public final class OpenAiRoute {
  private final JobQueue queue;
  private final Duration timeout;

  /** @param timeout how long a call waits for its job (the endpoint's execution timeout) */
  public OpenAiRoute(JobQueue queue, Duration timeout) {
    this.queue = queue;
    this.timeout = timeout;
  }

  /** Serves one call to {@code route} (e.g. {@code /v1/chat/completions}) with the raw request body. */
  public void handle(HttpExchange ex, String route, byte[] bodyBytes) throws IOException {
    JsonNode body;
    try {
      body = bodyBytes.length == 0 ? Json.object() : Json.mapper().readTree(bodyBytes);
    } catch (JsonProcessingException e) {
      Exchanges.send(ex, 400, Json.write(error("invalid JSON body", "invalid_request_error")));
      return;
    }
    ObjectNode input = Json.object();
    input.put("openai_route", route);
    input.set("openai_input", body == null ? Json.object() : body);
    FakeJob job = queue.submitInput(input);
    boolean stream = body != null && body.path("stream").asBoolean(false);
    if (!stream) {
      JobQueue.waitTerminal(job, timeout);
      synchronized (job) {
        if (job.status != JobState.COMPLETED) {
          Exchanges.send(ex, 500, Json.write(error(job.error != null ? job.error : "job " + job.status, "api_error")));
          return;
        }
        JsonNode out = job.output;
        if (out != null && out.isArray() && out.size() == 1) {
          out = out.get(0);
        }
        Exchanges.send(ex, 200, Json.write(out == null ? Json.object() : out));
      }
      return;
    }
    ex.getResponseHeaders().set("Content-Type", "text/event-stream");
    ex.sendResponseHeaders(200, 0);
    OutputStream out = ex.getResponseBody();
    int next = 0;
    boolean sawDone = false;
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<JsonNode> fresh;
      try {
        fresh = new ArrayList<>(queue.awaitStream(job, next, end));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      next += fresh.size();
      boolean over;
      synchronized (job) {
        over = job.status.isTerminal() || System.nanoTime() >= end;
        if (over && job.stream.size() > next) {
          // Chunks emitted between the wait and this check still go out before the end.
          fresh.addAll(job.stream.subList(next, job.stream.size()));
          next = job.stream.size();
        }
        if (over && job.status == JobState.FAILED) {
          fresh.add(Json.object().set("error", error(job.error, "api_error").get("error")));
        }
      }
      for (JsonNode chunk : fresh) {
        String text = chunk.isTextual() ? chunk.asText() : "data: " + Json.write(chunk) + "\n\n";
        sawDone |= text.contains("data: [DONE]");
        out.write(text.getBytes(StandardCharsets.UTF_8));
      }
      out.flush();
      if (over) {
        break;
      }
    }
    if (!sawDone) {
      out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
    }
    out.flush();
  }

  /** OpenAI's error shape. */
  private static ObjectNode error(String message, String type) {
    ObjectNode root = Json.object();
    root.putObject("error").put("message", message).put("type", type).putNull("param").putNull("code");
    return root;
  }
}
