package dev.securetag.dataset;

import dev.securetag.core.Chunk;
import dev.securetag.core.TextBlock;
import dev.securetag.dataset.internal.ChunkingEngine;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * Turns {@link TextBlock}s (from {@code PdfCorpus}) into token-bounded {@link Chunk}s for QA generation.
 *
 * <p>Token counts come from the fine-tuned model's own {@code tokenizer.json} when one is given, otherwise from a
 * chars-per-token estimate ({@link TokenCounter#DEFAULT_CHARS_PER_TOKEN}) and every chunk then reports
 * {@link Chunk#tokenCountExact()} false. Text is split at paragraph, then line, then sentence, then word
 * boundaries; a table larger than the limit splits between rows and repeats its header rows in every part; chunks
 * after the first of a section start with whole sentences from the end of the previous one, up to the overlap
 * budget. No chunk exceeds {@code maxTokens}, none is empty, every non-whitespace character of the input is in some
 * chunk, and the same input always gives the same chunks. A single run of text without whitespace longer than the
 * whole budget is the only thing ever cut between characters.
 *
 * <pre>{@code
 * try (Chunker chunker = Chunker.builder().tokenizer(Path.of("tokenizer.json")).maxTokens(512).build()) {
 *   List<Chunk> chunks = chunker.chunk(blocks.stream());
 * }
 * }</pre>
 */
public final class Chunker implements AutoCloseable {
  /** The usual fine-tuning default (spec §8.2). */
  public static final int DEFAULT_MAX_TOKENS = 512;

  public static final int DEFAULT_OVERLAP_TOKENS = 50;

  /** Smallest accepted limit: below this even a single character of byte-fallback text may not fit. */
  public static final int MIN_MAX_TOKENS = 16;

  private final TokenCounter counter;
  private final boolean ownsCounter;
  private final int maxTokens;
  private final ChunkingEngine engine;
  private final AtomicBoolean closed = new AtomicBoolean();

  private Chunker(Builder b) {
    if (b.tokenizer != null) {
      this.counter = TokenCounter.huggingFace(b.tokenizer);
      this.ownsCounter = true;
    } else if (b.counter != null) {
      this.counter = b.counter;
      this.ownsCounter = false;
    } else {
      this.counter = TokenCounter.estimate(b.charsPerToken);
      this.ownsCounter = true;
    }
    this.maxTokens = b.maxTokens;
    this.engine = new ChunkingEngine(counter, b.maxTokens, b.effectiveOverlap(), b.respectHeadings, b.contextInBudget,
        b.language);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Chunks the blocks in reading order; blocks of several documents may be interleaved document by document. */
  public List<Chunk> chunk(Stream<? extends TextBlock> blocks) {
    checkOpen();
    List<Chunk> out = new ArrayList<>();
    engine.run(blocks.iterator(), out::add);
    return out;
  }

  /** Chunks the blocks in iteration order. */
  public List<Chunk> chunk(Collection<? extends TextBlock> blocks) {
    return chunk(blocks.stream());
  }

  /** True when chunk token counts come from a real tokenizer. */
  public boolean exactTokenCounts() {
    return counter.exact();
  }

  public int maxTokens() {
    return maxTokens;
  }

  /** The counter in use (owned by this chunker when it was built from a tokenizer path). */
  public TokenCounter tokenCounter() {
    checkOpen();
    return counter;
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("Chunker is closed");
    }
  }

  /** Releases the tokenizer's native memory when this chunker loaded it; idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true) && ownsCounter) {
      counter.close();
    }
  }

  @Override
  public String toString() {
    return "Chunker[" + counter.name() + ", maxTokens=" + maxTokens + "]";
  }

  /** Configures a {@link Chunker}. */
  public static final class Builder {
    private Path tokenizer;
    private TokenCounter counter;
    private double charsPerToken = TokenCounter.DEFAULT_CHARS_PER_TOKEN;
    private int maxTokens = DEFAULT_MAX_TOKENS;
    private int overlapTokens = -1;
    private boolean respectHeadings = true;
    private boolean contextInBudget = false;
    private Language language = Language.AUTO;

    private Builder() {}

    /** The model's {@code tokenizer.json}; loaded at {@link #build()} and closed with the chunker. */
    public Builder tokenizer(Path tokenizerJson) {
      this.tokenizer = tokenizerJson;
      this.counter = null;
      return this;
    }

    /** A counter owned by the caller (not closed by the chunker), e.g. one shared with {@link DatasetStats}. */
    public Builder tokenCounter(TokenCounter counter) {
      this.counter = counter;
      this.tokenizer = null;
      return this;
    }

    /** Characters per token of the estimate used when no tokenizer is given. */
    public Builder charsPerToken(double charsPerToken) {
      this.charsPerToken = charsPerToken;
      return this;
    }

    public Builder maxTokens(int maxTokens) {
      this.maxTokens = maxTokens;
      return this;
    }

    /**
     * Budget of the whole-sentence overlap between consecutive chunks of a section; 0 disables it. Default
     * {@value #DEFAULT_OVERLAP_TOKENS}, or a quarter of {@code maxTokens} when that is smaller.
     */
    public Builder overlapTokens(int overlapTokens) {
      this.overlapTokens = overlapTokens;
      return this;
    }

    /** Start a new chunk at every heading and never mix sections in one chunk (default true). */
    public Builder respectHeadings(boolean respectHeadings) {
      this.respectHeadings = respectHeadings;
      return this;
    }

    /**
     * Reserve room for the section-path prefix of {@link Chunk#textWithContext()} so that it, too, stays within
     * {@code maxTokens} (default false: only {@link Chunk#text()} is bounded).
     */
    public Builder contextInBudget(boolean contextInBudget) {
      this.contextInBudget = contextInBudget;
      return this;
    }

    /** Language for sentence splitting; {@link Language#AUTO} (default) detects it per block. */
    public Builder language(Language language) {
      this.language = language;
      return this;
    }

    /** The overlap to use: the one set, else the default for {@code maxTokens}; the builder is left as it was. */
    private int effectiveOverlap() {
      return overlapTokens >= 0 ? overlapTokens : Math.min(DEFAULT_OVERLAP_TOKENS, maxTokens / 4);
    }

    public Chunker build() {
      int overlapTokens = effectiveOverlap();
      if (maxTokens < MIN_MAX_TOKENS) {
        throw new IllegalArgumentException("maxTokens must be >= " + MIN_MAX_TOKENS + ", was " + maxTokens);
      }
      if (overlapTokens > maxTokens / 2) {
        throw new IllegalArgumentException(
            "overlapTokens must be in [0, maxTokens/2 = " + maxTokens / 2 + "], was " + overlapTokens);
      }
      if (language == null) {
        throw new IllegalArgumentException("language must not be null");
      }
      return new Chunker(this);
    }
  }
}
