package dev.securetag.core.ollama;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One reply object of {@code /api/generate} or {@code /api/chat}: an NDJSON line of a stream ({@code done} false), or
 * the final object ({@code done} true, with {@code done_reason}, token counts and durations in nanoseconds). A
 * generate reply carries {@code response}, a chat reply {@code message}. An {@code error} line reports a failure,
 * also in the middle of a stream under HTTP 200. Fields this type does not name are kept in {@link #extra()}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OllamaChunk(
    String model,
    @JsonProperty("created_at") String createdAt,
    String response,
    OllamaMessage message,
    String thinking,
    Boolean done,
    @JsonProperty("done_reason") String doneReason,
    JsonNode context,
    @JsonProperty("total_duration") Long totalDuration,
    @JsonProperty("load_duration") Long loadDuration,
    @JsonProperty("prompt_eval_count") Integer promptEvalCount,
    @JsonProperty("prompt_eval_duration") Long promptEvalDuration,
    @JsonProperty("eval_count") Integer evalCount,
    @JsonProperty("eval_duration") Long evalDuration,
    String error,
    @JsonAnySetter @JsonAnyGetter Map<String, JsonNode> extra) {

  public OllamaChunk {
    extra = extra == null ? new LinkedHashMap<>() : new LinkedHashMap<>(extra);
  }

  /** A {@code done:false} piece of a generate stream. */
  public static OllamaChunk generatePiece(String model, String createdAt, String text) {
    return new OllamaChunk(model, createdAt, text, null, null, false, null, null, null, null, null, null, null, null,
        null, null);
  }

  /** A {@code done:false} piece of a chat stream (an assistant message). */
  public static OllamaChunk chatPiece(String model, String createdAt, String text) {
    return new OllamaChunk(model, createdAt, null, OllamaMessage.of("assistant", text), null, false, null, null, null,
        null, null, null, null, null, null, null);
  }

  /** An error line. */
  public static OllamaChunk error(String message) {
    return new OllamaChunk(null, null, null, null, null, null, null, null, null, null, null, null, null, null, message,
        null);
  }

  /** True for the final object. */
  @JsonIgnore
  public boolean isDone() {
    return done != null && done;
  }

  /** True for an error line. */
  @JsonIgnore
  public boolean isError() {
    return error != null;
  }

  /** The text this object carries: {@code response}, or {@code message.content} of a chat reply; "" when none. */
  public String text() {
    if (response != null) {
      return response;
    }
    return message != null && message.content() != null ? message.content() : "";
  }

  /** The thinking text: top-level {@code thinking} (generate) or {@code message.thinking} (chat); "" when none. */
  public String thinkingText() {
    if (thinking != null) {
      return thinking;
    }
    return message != null && message.thinking() != null ? message.thinking() : "";
  }

  /** {@code total_duration} as a duration. */
  public Optional<Duration> total() {
    return nanos(totalDuration);
  }

  /** {@code eval_duration} as a duration. */
  public Optional<Duration> eval() {
    return nanos(evalDuration);
  }

  private static Optional<Duration> nanos(Long n) {
    return n == null ? Optional.empty() : Optional.of(Duration.ofNanos(n));
  }
}
