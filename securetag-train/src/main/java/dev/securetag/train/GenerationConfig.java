package dev.securetag.train;

import dev.securetag.core.SecuretagStyle;
import org.immutables.value.Value;

/** Decoding settings: greedy when {@code temperature} is 0, otherwise temperature + nucleus (top-p) sampling. */
@Value.Immutable
@SecuretagStyle
public interface GenerationConfig {

  @Value.Default
  default int maxNewTokens() {
    return 64;
  }

  @Value.Default
  default double temperature() {
    return 0.0;
  }

  @Value.Default
  default double topP() {
    return 1.0;
  }

  @Value.Default
  default long seed() {
    return 0;
  }

  /** Stop after emitting an end-of-sequence token (which is then not returned). */
  @Value.Default
  default boolean stopAtEos() {
    return true;
  }

  @Value.Check
  default void check() {
    if (maxNewTokens() < 0 || temperature() < 0 || topP() <= 0 || topP() > 1) {
      throw new IllegalArgumentException("GenerationConfig needs maxNewTokens >= 0, temperature >= 0, 0 < topP <= 1");
    }
  }

  /** Greedy decoding of up to {@code maxNewTokens}. */
  static GenerationConfig greedy(int maxNewTokens) {
    return builder().maxNewTokens(maxNewTokens).build();
  }

  static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link GenerationConfig}. */
  final class Builder extends ImmutableGenerationConfig.Builder {}
}
