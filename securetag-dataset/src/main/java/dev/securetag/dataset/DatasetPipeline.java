package dev.securetag.dataset;

import dev.securetag.core.Chunk;
import dev.securetag.core.ProgressListener;
import dev.securetag.core.TextBlock;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default path from extracted text to dataset files: {@link TextBlock}s → {@link Chunker} (the
 * model's tokenizer if given, else the estimate) → {@link OfflineQaGenerator} (or a {@link QaGenerator} when one is
 * supplied) → {@link JsonlWriter} with dedupe and a train/validation split → {@link DatasetStats}.
 *
 * <pre>{@code
 * DatasetPipeline.Result r = DatasetPipeline.builder().outputDir(Path.of("dataset")).build()
 *     .run(corpus.blocks());
 * System.out.println(r.stats());
 * }</pre>
 */
public final class DatasetPipeline {
  private static final Logger LOG = LoggerFactory.getLogger(DatasetPipeline.class);

  private final Path tokenizer;
  private final TokenCounter counter;
  private final int maxTokens;
  private final int overlapTokens;
  private final Language language;
  private final OfflineQaGenerator offline;
  private final QaGenerator llmGenerator;
  private final JsonlWriter writer;
  private final Path outputDir;
  private final ProgressListener listener;

  /** Everything the pipeline produced. */
  public record Result(List<Chunk> chunks, GenerationResult generation, JsonlWriter.Result files,
      DatasetStats stats) {
    public Result {
      chunks = List.copyOf(chunks);
    }
  }

  private DatasetPipeline(Builder b) {
    this.tokenizer = b.tokenizer;
    this.counter = b.counter;
    this.maxTokens = b.maxTokens;
    this.overlapTokens = b.overlapTokens;
    this.language = b.language;
    this.offline = b.offline != null ? b.offline : OfflineQaGenerator.builder().language(b.language).build();
    this.llmGenerator = b.llmGenerator;
    this.writer = b.writer != null ? b.writer : JsonlWriter.builder().build();
    this.outputDir = b.outputDir;
    this.listener = b.listener;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Runs the pipeline over blocks in reading order and writes the dataset into the output directory. */
  public Result run(Stream<? extends TextBlock> blocks) {
    TokenCounter tc = counter != null ? counter
        : tokenizer != null ? TokenCounter.huggingFace(tokenizer) : TokenCounter.estimate();
    try {
      Chunker.Builder cb = Chunker.builder().tokenCounter(tc).maxTokens(maxTokens).language(language);
      if (overlapTokens >= 0) {
        cb.overlapTokens(overlapTokens);
      }
      List<Chunk> chunks;
      try (Chunker chunker = cb.build()) {
        chunks = chunker.chunk(blocks);
      }
      listener.report("chunking", chunks.size(), chunks.size(), "chunks");
      listener.onPhaseEnd("chunking");
      GenerationResult gen = llmGenerator != null ? llmGenerator.generate(chunks) : offline.generate(chunks);
      JsonlWriter.Result files = writer.write(gen.examples(), outputDir);
      DatasetStats stats = DatasetStats.of(files.splits(), tc);
      LOG.info("dataset pipeline: {} chunks, {} pairs, {} written to {}", chunks.size(), gen.pairs().size(),
          files.written(), outputDir);
      return new Result(chunks, gen, files, stats);
    } finally {
      if (counter == null) {
        tc.close();
      }
    }
  }

  public Result run(Collection<? extends TextBlock> blocks) {
    return run(blocks.stream());
  }

  /** Configures a {@link DatasetPipeline}. */
  public static final class Builder {
    private Path tokenizer;
    private TokenCounter counter;
    private int maxTokens = Chunker.DEFAULT_MAX_TOKENS;
    private int overlapTokens = -1;
    private Language language = Language.AUTO;
    private OfflineQaGenerator offline;
    private QaGenerator llmGenerator;
    private JsonlWriter writer;
    private Path outputDir;
    private ProgressListener listener = ProgressListener.NONE;

    private Builder() {}

    /** The fine-tuned model's {@code tokenizer.json}; without one, token counts are estimated. */
    public Builder tokenizer(Path tokenizerJson) {
      this.tokenizer = tokenizerJson;
      return this;
    }

    /** A caller-owned counter (not closed by the pipeline). */
    public Builder tokenCounter(TokenCounter counter) {
      this.counter = counter;
      return this;
    }

    public Builder maxTokens(int maxTokens) {
      this.maxTokens = maxTokens;
      return this;
    }

    public Builder overlapTokens(int overlapTokens) {
      this.overlapTokens = overlapTokens;
      return this;
    }

    public Builder language(Language language) {
      this.language = language;
      return this;
    }

    /** The offline generator to use (default: {@link OfflineQaGenerator} with this pipeline's language). */
    public Builder offlineGenerator(OfflineQaGenerator offline) {
      this.offline = offline;
      return this;
    }

    /** Generate with an LLM instead of the offline rules; the caller keeps ownership (closes it). */
    public Builder qaGenerator(QaGenerator generator) {
      this.llmGenerator = generator;
      return this;
    }

    /** The writer (default: Alpaca, inline metadata, 10% validation by document, dedupe on). */
    public Builder writer(JsonlWriter writer) {
      this.writer = writer;
      return this;
    }

    /** Where train.jsonl and validation.jsonl go (required). */
    public Builder outputDir(Path outputDir) {
      this.outputDir = outputDir;
      return this;
    }

    public Builder listener(ProgressListener listener) {
      this.listener = listener;
      return this;
    }

    public DatasetPipeline build() {
      if (outputDir == null) {
        throw new IllegalStateException("DatasetPipeline needs an outputDir");
      }
      if (language == null || listener == null) {
        throw new IllegalArgumentException("language and listener must not be null");
      }
      return new DatasetPipeline(this);
    }
  }
}
