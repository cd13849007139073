package dev.securetag.gguf.runtime;

/**
 * Receives generated text while {@link GgufModel#generate} runs, one call per sampled token. {@code text} is the
 * newly final text, which can be empty: a token that ends inside a UTF-8 sequence, or text held back because it
 * could be the start of a stop sequence, is delivered with a later call; text still held when generation ends
 * arrives in a last call with {@code tokenId} -1.
 */
@FunctionalInterface
public interface TokenListener {
  TokenListener NONE = (id, text) -> {};

  void onToken(int tokenId, String text);
}
