package dev.securetag.core;

import java.time.Duration;
import java.util.OptionalInt;
import org.immutables.value.Value;

/** What an {@link LlmClient} returned: the generated text, the model that produced it and usage figures if known. */
@Value.Immutable
@SecuretagStyle
public interface LlmResponse {

  String text();

  /** The model that answered ("" when the backend does not say). */
  default String model() {
    return "";
  }

  OptionalInt promptTokens();

  OptionalInt completionTokens();

  /** Wall time of the call as seen by the client. */
  default Duration duration() {
    return Duration.ZERO;
  }

  static LlmResponse of(String text, String model) {
    return builder().text(text).model(model).build();
  }

  static Builder builder() {
    return new Builder();
  }

  /** Builds an {@link LlmResponse}. */
  final class Builder extends ImmutableLlmResponse.Builder {}
}
