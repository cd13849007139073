package dev.securetag.dataset;

import dev.securetag.dataset.internal.EstimateTokenCounter;
import dev.securetag.dataset.internal.HuggingFaceTokenCounter;
import java.nio.file.Path;

/**
 * Counts tokens the way the model to be fine-tuned will see them. {@link #huggingFace(Path)} loads the model's own
 * {@code tokenizer.json} (exact counts, native code, so close it); {@link #estimate(double)} is the fallback used
 * when no tokenizer is available, and says so through {@link #exact()}.
 */
public interface TokenCounter extends AutoCloseable {

  /**
   * Characters per token of the fallback estimate. English prose averages about 4 characters per token with
   * GPT-style vocabularies, but Llama/Mistral vocabularies on Spanish or technical text are closer to 3, so 3.0
   * errs toward smaller chunks: an estimated chunk rarely exceeds the real limit.
   */
  double DEFAULT_CHARS_PER_TOKEN = 3.0;

  /** Tokens in {@code text}, without special tokens such as BOS/EOS. */
  int count(String text);

  /** True when counts come from a real tokenizer, false for an estimate. */
  boolean exact();

  /** A short description for logs and reports, e.g. the tokenizer file name. */
  String name();

  /** Releases native resources; idempotent. */
  @Override
  default void close() {}

  /** Loads a Hugging Face fast-tokenizer file ({@code tokenizer.json}) offline. */
  static TokenCounter huggingFace(Path tokenizerJson) {
    return HuggingFaceTokenCounter.load(tokenizerJson);
  }

  /** A chars-per-token estimate (code points / {@code charsPerToken}, rounded up). */
  static TokenCounter estimate(double charsPerToken) {
    return new EstimateTokenCounter(charsPerToken);
  }

  /** The estimate with {@link #DEFAULT_CHARS_PER_TOKEN}. */
  static TokenCounter estimate() {
    return new EstimateTokenCounter(DEFAULT_CHARS_PER_TOKEN);
  }
}
