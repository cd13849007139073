package dev.securetag.runpod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.securetag.runpod.internal.OutputText;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The result of an Ollama {@code /api/generate} or {@code /api/chat} call: the full text (concatenated over a
 * stream), thinking text, tool calls ({@code arguments} are JSON objects), the done reason and the counters of the
 * final chunk (Ollama durations are nanoseconds on the wire; here they are {@link Duration}s).
 */
public final class OllamaResponse {
  private final String model;
  private final String text;
  private final String thinking;
  private final String doneReason;
  private final JsonNode toolCalls;
  private final JsonNode last;

  OllamaResponse(String model, String text, String thinking, String doneReason, JsonNode toolCalls, JsonNode last) {
    this.model = model == null ? "" : model;
    this.text = text;
    this.thinking = thinking == null ? "" : thinking;
    this.doneReason = doneReason;
    this.toolCalls = toolCalls == null ? MissingNode.getInstance() : toolCalls;
    this.last = last;
  }

  public String model() {
    return model;
  }

  /** The generated text ({@code response}, or {@code message.content} for chat). */
  public String text() {
    return text;
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
