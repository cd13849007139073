package dev.securetag.core.ollama;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * The body of {@code POST /api/generate}. {@code format} is {@code "json"} or a JSON schema, {@code options} the
 * sampling options object ({@code temperature}, {@code num_predict}, ...), {@code keep_alive} a duration string or
 * seconds, {@code think} a boolean or level; {@code stream} defaults to true when null.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OllamaGenerateRequest(
    String model,
    String prompt,
    String suffix,
    String system,
    String template,
    JsonNode context,
    Boolean stream,
    Boolean raw,
    JsonNode format,
    JsonNode options,
    @JsonProperty("keep_alive") JsonNode keepAlive,
    List<String> images,
    JsonNode think) {

  /** A request for {@code prompt} with everything else absent. */
  public static OllamaGenerateRequest of(String model, String prompt) {
    return new OllamaGenerateRequest(model, prompt, null, null, null, null, null, null, null, null, null, null, null);
  }

  /** Whether the reply streams (Ollama's default when {@code stream} is absent). */
  public boolean streaming() {
    return stream == null || stream;
  }

  /** A copy with {@code stream} set. */
  public OllamaGenerateRequest withStream(boolean v) {
    return new OllamaGenerateRequest(model, prompt, suffix, system, template, context, v, raw, format, options,
        keepAlive, images, think);
  }
}
