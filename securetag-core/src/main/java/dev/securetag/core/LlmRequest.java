package dev.securetag.core;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.immutables.value.Value;

/**
 * One text-generation request to an {@link LlmClient}: the prompt, an optional system message, sampling options
 * and an optional structured-output hint (a JSON schema, or plain "answer with JSON"). Backends ignore options they
 * do not support.
 */
@Value.Immutable
@SecuretagStyle
public interface LlmRequest {

  String prompt();

  Optional<String> system();

  /** Model name, when the backend serves several; otherwise the client's default model. */
  Optional<String> model();

  /** JSON schema the answer should conform to (Ollama {@code format}, OpenAI {@code response_format}). */
  Optional<JsonNode> jsonSchema();

  /** Ask for JSON output without a schema. Implied by {@link #jsonSchema()}. */
  default boolean jsonMode() {
    return false;
  }

  OptionalDouble temperature();

  OptionalDouble topP();

  /** Maximum tokens to generate. */
  OptionalInt maxTokens();

  OptionalLong seed();

  /** Sequences that end generation. */
  List<String> stop();

  static LlmRequest of(String prompt) {
    return builder().prompt(prompt).build();
  }

  static Builder builder() {
    return new Builder();
  }

  /** Builds an {@link LlmRequest}. */
  final class Builder extends ImmutableLlmRequest.Builder {}
}
