package dev.securetag.gguf.runtime;

import java.util.List;

/**
 * What one {@link GgufModel#generate} call produced: the text (stop sequence excluded), the generated token ids,
 * why it ended and timings in nanoseconds (Ollama reports the same figures as {@code prompt_eval_duration} and
 * {@code eval_duration}).
 */
public record GenerationResult(
    String text,
    List<Integer> tokens,
    int promptTokens,
    DoneReason doneReason,
    long promptEvalNanos,
    long evalNanos) {

  public GenerationResult {
    tokens = List.copyOf(tokens);
  }

  /** Why generation ended. */
  public enum DoneReason {
    /** An end-of-generation token or a stop sequence. */
    STOP,
    /** The token budget or the context ran out. */
    LENGTH;

    /** The Ollama {@code done_reason} string. */
    public String ollamaName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Generated tokens per second (0 when nothing was generated). */
  public double tokensPerSecond() {
    return evalNanos <= 0 ? 0 : tokens.size() * 1e9 / evalNanos;
  }
}
