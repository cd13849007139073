package dev.securetag.dataset.internal;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.securetag.core.InvalidInputException;
import dev.securetag.dataset.TokenCounter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/** Exact token counts from a {@code tokenizer.json} through DJL's Hugging Face tokenizers binding (offline). */
public final class HuggingFaceTokenCounter implements TokenCounter {
  // DJL defaults to truncating at the model's max length (512) and adding BOS; a counter must see the whole text.
  private static final Map<String, String> OPTIONS =
      Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "false");

  private final HuggingFaceTokenizer tokenizer;
  private final String name;
  private final AtomicBoolean closed = new AtomicBoolean();

  private HuggingFaceTokenCounter(HuggingFaceTokenizer tokenizer, String name) {
    this.tokenizer = tokenizer;
    this.name = name;
  }

  /** Loads {@code tokenizerJson}; a missing or invalid file is an {@link InvalidInputException}. */
  public static HuggingFaceTokenCounter load(Path tokenizerJson) {
    if (!Files.isRegularFile(tokenizerJson)) {
      throw new InvalidInputException(tokenizerJson.toString(), "tokenizer.json not found");
    }
    try {
      HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(tokenizerJson, OPTIONS);
      return new HuggingFaceTokenCounter(t, String.valueOf(tokenizerJson.getFileName()));
    } catch (IOException e) {
      throw new InvalidInputException(tokenizerJson.toString(), "cannot read tokenizer: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      // The native loader reports malformed JSON as a plain RuntimeException; give it a location.
      throw new InvalidInputException(tokenizerJson.toString(), "invalid tokenizer file: " + e.getMessage(), e);
    }
  }

  @Override
  public int count(String text) {
    if (closed.get()) {
      throw new IllegalStateException("TokenCounter " + name + " is closed");
    }
    if (text.isEmpty()) {
      return 0;
    }
    return tokenizer.encode(text, false, false).getIds().length;
  }

  @Override
  public boolean exact() {
    return true;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      tokenizer.close();
    }
  }

  @Override
  public String toString() {
    return "HuggingFaceTokenCounter[" + name + "]";
  }
}
