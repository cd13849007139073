package dev.securetag.core.ollama;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * The body of {@code POST /api/chat}: the conversation, optional tools, and the same {@code format}, {@code options},
 * {@code keep_alive}, {@code think} and {@code stream} fields as {@link OllamaGenerateRequest}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OllamaChatRequest(
    String model,
    List<OllamaMessage> messages,
    JsonNode tools,
    JsonNode format,
    JsonNode options,
    Boolean stream,
    @JsonProperty("keep_alive") JsonNode keepAlive,
    JsonNode think) {

  /** A request for {@code messages} with everything else absent. */
  public static OllamaChatRequest of(String model, List<OllamaMessage> messages) {
    return new OllamaChatRequest(model, messages, null, null, null, null, null, null);
  }

  /** Whether the reply streams (Ollama's default when {@code stream} is absent). */
  public boolean streaming() {
    return stream == null || stream;
  }

  /** A copy with {@code stream} set. */
  public OllamaChatRequest withStream(boolean v) {
    return new OllamaChatRequest(model, messages, tools, format, options, v, keepAlive, think);
  }
}
