package dev.securetag.runpod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.securetag.core.LlmResponse;
import dev.securetag.runpod.internal.OutputText;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The result of an Ollama {@code /api/generate} or {@code /api/chat} call: the full text (concatenated over a
 * stream), thinking text, tool calls ({@code arguments} are JSON objects), the done reason and the counters of the
 * final chunk (Ollama durations are nanoseconds on the wire; here they are {@link Duration}s). It is the
 * {@link LlmResponse} of {@link OllamaClient}'s streaming and chat calls: {@link #promptTokens()} and
 * {@link #completionTokens()} are Ollama's eval counts, {@link #duration()} the wall time the client saw.
 */
public final class OllamaResponse implements LlmResponse {
  private final String model;
  private final String text;
  private final String thinking;
  private final String doneReason;
  private final JsonNode toolCalls;
  private final JsonNode last;
  private final Duration wall;

  OllamaResponse(String model, String text, String thinking, String doneReason, JsonNode toolCalls, JsonNode last) {
    this(model, text, thinking, doneReason, toolCalls, last, Duration.ZERO);
  }

  OllamaResponse(String model, String text, String thinking, String doneReason, JsonNode toolCalls, JsonNode last,
      Duration wall) {
    this.model = model == null ? "" : model;
    this.text = text;
    this.thinking = thinking == null ? "" : thinking;
    this.doneReason = doneReason;
    this.toolCalls = toolCalls == null ? MissingNode.getInstance() : toolCalls;
    this.last = last;
    this.wall = wall;
  }

  @Override
  public String model() {
    return model;
  }

  /** The generated text ({@code response}, or {@code message.content} for chat). */
  @Override
  public String text() {
    return text;
  }

  /** {@code prompt_eval_count}, when Ollama sent it. */
  @Override
  public OptionalInt promptTokens() {
    return promptEvalCount();
  }

  /** {@code eval_count}, when Ollama sent it. */
  @Override
  public OptionalInt completionTokens() {
    return evalCount();
  }

  /** Wall time of the call as the client saw it. */
  @Override
  public Duration duration() {
    return wall;
  }

  /** Reasoning text when {@code think} was requested; "" otherwise. */
  public String thinking() {
    return thinking;
  }

  /** {@code stop}, {@code length}, {@code load} or {@code unload}, when Ollama said. */
  public Optional<String> doneReason() {
    return Optional.ofNullable(doneReason);
  }

  /** Chat tool calls ({@code [{"function":{"name":..,"arguments":{..}}}]}), or a missing node. */
  public JsonNode toolCalls() {
    return toolCalls;
  }

  public OptionalInt promptEvalCount() {
    return last.path("prompt_eval_count").isNumber() ? OptionalInt.of(last.get("prompt_eval_count").asInt()) : OptionalInt.empty();
  }

  public OptionalInt evalCount() {
    return last.path("eval_count").isNumber() ? OptionalInt.of(last.get("eval_count").asInt()) : OptionalInt.empty();
  }

  public Optional<Duration> totalDuration() {
    return nanos("total_duration");
  }

  public Optional<Duration> loadDuration() {
    return nanos("load_duration");
  }

  public Optional<Duration> promptEvalDuration() {
    return nanos("prompt_eval_duration");
  }

  public Optional<Duration> evalDuration() {
    return nanos("eval_duration");
  }

  /** Generation speed from the final counters ({@code eval_count / eval_duration}), when both are known. */
  public Optional<Double> tokensPerSecond() {
    Optional<Duration> d = evalDuration();
    if (d.isEmpty() || d.get().isZero() || evalCount().isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(evalCount().getAsInt() * 1e9 / d.get().toNanos());
  }

  /** The final (done) JSON object as Ollama sent it. */
  public JsonNode raw() {
    return last;
  }

  private Optional<Duration> nanos(String field) {
    JsonNode n = last.path(field);
    return n.isNumber() ? Optional.of(Duration.ofNanos(n.asLong())) : Optional.empty();
  }

  @Override
  public String toString() {
    return "OllamaResponse{model=" + model + ", doneReason=" + doneReason + ", text=" + OutputText.snippet(text) + "}";
  }
}
