package dev.securetag.gguf.runtime;

import dev.securetag.gguf.runtime.internal.Transformer;

/**
 * One sequence being evaluated by a {@link GgufModel}: a KV cache and a position. {@link #eval} appends tokens and
 * returns the logits of the last one, which is all a caller needs for scoring, custom sampling or conformance tests.
 * Not thread-safe; use one session per sequence. Closing it releases the cache.
 */
public final class GgufSession implements AutoCloseable {
  private final GgufModel model;
  private final Transformer transformer;
  private Transformer.KvCache cache;
  private int position;

  GgufSession(GgufModel model, Transformer transformer, int capacity) {
    this.model = model;
    this.transformer = transformer;
    this.cache = new Transformer.KvCache(transformer.config(), capacity);
  }

  /** Tokens evaluated so far. */
  public int position() {
    ensureOpen();
    return position;
  }

  /** Positions this session can hold. */
  public int capacity() {
    ensureOpen();
    return cache.capacity();
  }

  /**
   * Evaluates {@code tokens} after the ones already in the session and returns the logits (over the vocabulary) of
   * the last of them.
   *
   * @throws IllegalArgumentException for an empty array or an id outside the vocabulary
   * @throws IllegalStateException when the tokens do not fit the remaining context
   */
  public float[] eval(int... tokens) {
    ensureOpen();
    model.ensureOpen();
    if (tokens.length == 0) {
      throw new IllegalArgumentException("no tokens to evaluate");
    }
    if (position + tokens.length > cache.capacity()) {
      throw new IllegalStateException("context full: " + position + " + " + tokens.length + " tokens exceed the "
          + cache.capacity() + " positions of this session");
    }
    float[] logits = new float[transformer.config().vocabSize()];
    for (int from = 0; from < tokens.length; from += Transformer.MAX_BATCH) {
      int n = Math.min(Transformer.MAX_BATCH, tokens.length - from);
      boolean last = from + n == tokens.length;
      transformer.forward(cache, tokens, from, n, position, last ? logits : null);
      position += n;
    }
    return logits;
  }

  /** Forgets every evaluated token (the cache is reused). */
  public void reset() {
    ensureOpen();
    position = 0;
  }

  private void ensureOpen() {
    if (cache == null) {
      throw new IllegalStateException("session is closed");
    }
  }

  @Override
  public void close() {
    cache = null;
  }
}
