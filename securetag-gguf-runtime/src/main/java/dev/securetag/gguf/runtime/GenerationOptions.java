package dev.securetag.gguf.runtime;

import dev.securetag.core.SecuretagStyle;
import java.util.List;
import java.util.OptionalLong;
import org.immutables.value.Value;

/**
 * Sampling settings for {@link GgufModel#generate}: Ollama's defaults (temperature 0.8, top-k 40, top-p 0.9),
 * a token budget, an optional seed for reproducible sampling and stop sequences. Temperature 0 is greedy decoding
 * (argmax, lowest id on ties), which is deterministic regardless of the seed.
 */
@Value.Immutable
@SecuretagStyle
public interface GenerationOptions {

  /** Most tokens to generate; -1 = until an end-of-generation token or the context is full. */
  default int maxTokens() {
    return 256;
  }

  default double temperature() {
    return 0.8;
  }

  /** Nucleus sampling: keep the smallest set of tokens whose probability reaches this mass (1 = off). */
  default double topP() {
    return 0.9;
  }

  /** Keep only the k most likely tokens (0 = off). */
  default int topK() {
    return 40;
  }

  /** Drop tokens less likely than this fraction of the most likely one (0 = off). */
  default double minP() {
    return 0.0;
  }

  /** Seed of the sampler's random generator; absent = a fresh seed per call. */
  OptionalLong seed();

  /** Generation ends when the text contains one of these; the stop sequence itself is not returned. */
  List<String> stop();

  @Value.Check
  default void check() {
    if (maxTokens() < -1 || maxTokens() == 0) {
      throw new IllegalArgumentException("maxTokens must be positive or -1, got " + maxTokens());
    }
    if (temperature() < 0 || Double.isNaN(temperature())) {
      throw new IllegalArgumentException("temperature must be >= 0, got " + temperature());
    }
    if (!(topP() > 0 && topP() <= 1)) {
      throw new IllegalArgumentException("topP must be in (0, 1], got " + topP());
    }
    if (topK() < 0) {
      throw new IllegalArgumentException("topK must be >= 0, got " + topK());
    }
    if (!(minP() >= 0 && minP() < 1)) {
      throw new IllegalArgumentException("minP must be in [0, 1), got " + minP());
    }
    for (String s : stop()) {
      if (s.isEmpty()) {
        throw new IllegalArgumentException("stop sequences must not be empty");
      }
    }
  }

  /** Greedy decoding of at most {@code maxTokens} tokens. */
  static GenerationOptions greedy(int maxTokens) {
    return builder().temperature(0).maxTokens(maxTokens).build();
  }

  /** Ollama-like defaults. */
  static GenerationOptions defaults() {
    return builder().build();
  }

  static Builder builder() {
    return new Builder();
  }

  /** Builds {@link GenerationOptions}. */
  final class Builder extends ImmutableGenerationOptions.Builder {}
}
