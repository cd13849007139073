package dev.securetag.spark;

import dev.securetag.core.InvalidInputException;
import dev.securetag.core.QaPair;
import dev.securetag.core.SecuretagException;
import dev.securetag.core.TrainingExample;
import dev.securetag.core.internal.Json;
import dev.securetag.dataset.Chunker;
import dev.securetag.dataset.DatasetPipeline;
import dev.securetag.dataset.DatasetStats;
import dev.securetag.dataset.EmptyDatasetException;
import dev.securetag.dataset.GenerationReport;
import dev.securetag.dataset.JsonlWriter;
import dev.securetag.dataset.Language;
import dev.securetag.dataset.TokenCounter;
import dev.securetag.pdf.OcrMode;
import dev.securetag.spark.internal.DocumentOutput;
import dev.securetag.spark.internal.DocumentTask;
import dev.securetag.spark.internal.ReportSum;
import dev.securetag.spark.internal.TaskSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.input.PortableDataStream;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The corpus stage on Apache Spark, for corpora one machine cannot chew through: every executor extracts PDFs with
 * {@code PdfCorpus}, chunks them and generates question/answer pairs (the offline rules, or an LLM through a
 * {@code QaGenerator}), one document at a time; the driver collects the pairs (small next to the PDFs), puts them in
 * path order and writes {@code train.jsonl} / {@code validation.jsonl} with {@link JsonlWriter} exactly as
 * {@link DatasetPipeline} does — the same seeded split grouped by document, the same dedupe — so the same corpus
 * gives byte-identical files on a laptop and on a cluster.
 *
 * <p>With an LLM, each document's responses go to an append-only, fsynced cache under {@link Builder#cacheDir} (one
 * file per task attempt, seeded from the earlier attempts), so a task that Spark retries after a lost executor, or a
 * whole job run again, re-pays no completed LLM call. Put the cache on storage every executor mounts.
 *
 * <pre>{@code
 * SparkSession spark = SparkSession.builder().appName("securetag-corpus").getOrCreate();
 * SparkPipeline.Result r = SparkPipeline.builder()
 *     .input("hdfs:///corpora/standards/*.pdf")
 *     .output(Path.of("/mnt/shared/dataset"))
 *     .cacheDir(Path.of("/mnt/shared/qa-cache"))
 *     .llm(() -> OllamaClient.builder().baseUrl("http://ollama:11434").model("mistral").build())
 *     .qa(b -> b.pairsPerChunk(3).concurrency(8))
 *     .build()
 *     .run(spark);
 * System.out.println(r.stats());
 * }</pre>
 *
 * <p>Inputs are read through Hadoop's file systems ({@code file:}, {@code hdfs:}, {@code s3a:} with its connector on
 * the classpath): a directory, a file or a glob; only {@code .pdf} files are used. Documents are ordered by their full
 * path; for one input directory that is the order {@code PdfCorpus} uses.
 */
public final class SparkPipeline {
  private static final Logger LOG = LoggerFactory.getLogger(SparkPipeline.class);

  private final List<String> inputs;
  private final Path outputDir;
  private final Path cacheDir;
  private final String tokenizer;
  private final int maxTokens;
  private final int overlapTokens;
  private final Language language;
  private final OcrMode ocr;
  private final List<String> ocrLanguages;
  private final int pdfThreads;
  private final int minPartitions;
  private final LlmFactory llm;
  private final QaConfigurer qa;
  private final JsonlWriter writer;

  /**
   * What the run produced.
   *
   * @param documents one entry per input PDF, in path order
   * @param chunks chunks made on the executors
   * @param generation the summed generation report of all documents
   * @param files the written train/validation files
   * @param stats the dataset statistics {@link DatasetPipeline} prints
   * @param maxDocumentsInMemoryPerTask most PDFs any task held at once (1: documents are streamed one by one)
   * @param time wall time of the run
   */
  public record Result(List<DocumentSummary> documents, long chunks, GenerationReport generation,
      JsonlWriter.Result files, DatasetStats stats, int maxDocumentsInMemoryPerTask, Duration time) {
    public Result {
      documents = List.copyOf(documents);
    }

    /** Documents that could not be read (skipped scanned documents excluded). */
    public List<DocumentSummary> failures() {
      return documents.stream().filter(d -> d.errorKind().isPresent() && !d.skipped()).toList();
    }
  }

  /**
   * One input PDF.
   *
   * @param path the path as listed by Spark
   * @param errorKind the {@code PdfErrorKind} name when extraction failed
   * @param skipped a scanned document on executors without OCR (not a failure)
   */
  public record DocumentSummary(String path, String document, int pages, int chunks, int pairs,
      Optional<String> errorKind, Optional<String> error, boolean skipped) {}

  private SparkPipeline(Builder b) {
    this.inputs = b.inputs.stream()
        .map(in -> in.contains(":") ? in : Path.of(in).toAbsolutePath().toString()).toList();
    this.outputDir = b.outputDir;
    this.cacheDir = b.cacheDir != null ? b.cacheDir : b.outputDir.resolve("qa-cache");
    this.tokenizer = b.tokenizer;
    this.maxTokens = b.maxTokens;
    this.overlapTokens = b.overlapTokens;
    this.language = b.language;
    this.ocr = b.ocr;
    this.ocrLanguages = List.copyOf(b.ocrLanguages);
    this.pdfThreads = b.pdfThreads;
    this.minPartitions = b.minPartitions;
    this.llm = b.llm;
    this.qa = b.qa;
    this.writer = b.writer != null ? b.writer : JsonlWriter.builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Runs on an embedded local Spark ({@code local[*]}: one executor thread per core, this JVM) and stops it after; the
   * default when there is no cluster. Uses the active session instead when one exists (and leaves it running).
   */
  public Result run() {
    Optional<SparkSession> active = scala.jdk.javaapi.OptionConverters.toJava(SparkSession.getActiveSession());
    if (active.isPresent()) {
      return run(active.get());
    }
    SparkSession spark = SparkSession.builder().master("local[*]").appName("securetag-corpus")
        .config("spark.ui.enabled", "false").getOrCreate();
    try {
      return run(spark);
    } finally {
      spark.stop();
    }
  }

  /** Runs on {@code spark}'s cluster and writes the dataset on the driver. */
  public Result run(SparkSession spark) {
    Objects.requireNonNull(spark, "spark");
    long start = System.nanoTime();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    TaskSettings settings = new TaskSettings(tokenizer, maxTokens, overlapTokens, language, ocr, ocrLanguages,
        pdfThreads, llm, qa, llm == null ? null : cacheDir.toAbsolutePath().toString(),
        safeName(jsc.sc().applicationId()));
    int partitions = minPartitions > 0 ? minPartitions : jsc.defaultParallelism();
    String paths = String.join(",", inputs);
    List<DocumentOutput> outputs;
    try {
      JavaPairRDD<String, PortableDataStream> files = jsc.binaryFiles(paths, partitions).filter(SparkPipeline::isPdf);
      outputs = new ArrayList<>(files.mapPartitions(new DocumentTask(settings)).collect());
    } catch (Exception e) {
      // Hadoop's "matches 0 files" is a checked IOException that Scala code throws undeclared.
      Throwable noInput = findInputError(e);
      if (noInput != null) {
        throw new InvalidInputException(paths, "no input: " + noInput.getMessage(), e);
      }
      throw new SecuretagException("the corpus stage failed on Spark: " + e.getMessage(), e);
    }
    if (outputs.isEmpty()) {
      throw new InvalidInputException(paths, "matched no .pdf file");
    }
    outputs.sort(Comparator.comparing(o -> o.path));

    List<QaPair> pairs = new ArrayList<>();
    List<DocumentSummary> docs = new ArrayList<>();
    ReportSum sum = new ReportSum();
    long chunks = 0;
    int maxInMemory = 0;
    for (DocumentOutput o : outputs) {
      for (String json : o.pairs) {
        pairs.add(Json.read(json, QaPair.class, o.path));
      }
      sum.add(o);
      chunks += o.chunks;
      maxInMemory = Math.max(maxInMemory, o.documentsInMemory);
      docs.add(new DocumentSummary(o.path, o.document, o.pages, o.chunks, o.pairs.size(),
          Optional.ofNullable(o.errorKind), Optional.ofNullable(o.error), o.skipped));
    }
    GenerationReport report = sum.build();
    if (pairs.isEmpty() && chunks > 0) {
      throw new EmptyDatasetException("no question/answer pair survived from " + chunks + " chunks of "
          + outputs.size() + " documents", report);
    }
    List<TrainingExample> examples = pairs.stream().map(TrainingExample::fromQaPair).toList();
    JsonlWriter.Result files = writer.write(examples, outputDir);
    DatasetStats stats;
    try (TokenCounter tc = tokenizer != null ? TokenCounter.huggingFace(Path.of(tokenizer)) : TokenCounter.estimate()) {
      stats = DatasetStats.of(files.splits(), tc);
    }
    Duration time = Duration.ofNanos(System.nanoTime() - start);
    LOG.info("spark corpus stage: {} documents, {} chunks, {} pairs, {} written to {} in {} ms", outputs.size(), chunks,
        pairs.size(), files.written(), outputDir, time.toMillis());
    return new Result(docs, chunks, report, files, stats, maxInMemory, time);
  }

  private static Boolean isPdf(Tuple2<String, PortableDataStream> file) {
    return file._1().toLowerCase(Locale.ROOT).endsWith(".pdf");
  }

  private static Throwable findInputError(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String n = t.getClass().getName();
      if (n.endsWith("InvalidInputException") || t instanceof java.io.FileNotFoundException) {
        return t;
      }
    }
    return null;
  }

  private static String safeName(String s) {
    return s.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  @Override
  public String toString() {
    return "SparkPipeline[inputs=" + inputs + ", output=" + outputDir + ", llm=" + (llm != null) + "]";
  }

  /** Configures a {@link SparkPipeline}; {@code input} and {@code output} are required. */
  public static final class Builder {
    private final List<String> inputs = new ArrayList<>();
    private Path outputDir;
    private Path cacheDir;
    private String tokenizer;
    private int maxTokens = Chunker.DEFAULT_MAX_TOKENS;
    private int overlapTokens = -1;
    private Language language = Language.AUTO;
    private OcrMode ocr = OcrMode.AUTO;
    private final List<String> ocrLanguages = new ArrayList<>(List.of("spa", "eng"));
    private int pdfThreads = 1;
    private int minPartitions;
    private LlmFactory llm;
    private QaConfigurer qa;
    private JsonlWriter writer;

    private Builder() {}

    /**
     * A PDF file, a directory or a glob, as a Hadoop path ({@code /data/*.pdf}, {@code hdfs:///corpus},
     * {@code s3a://bucket/standards/**}); repeatable. Relative local paths are resolved on the driver.
     */
    public Builder input(String pathOrGlob) {
      inputs.add(pathOrGlob);
      return this;
    }

    /** Where train.jsonl and validation.jsonl go, on the driver's file system (required). */
    public Builder output(Path dir) {
      this.outputDir = dir;
      return this;
    }

    /**
     * The LLM response cache directory; it must be one shared file system path that every executor mounts (NFS, EFS,
     * a RunPod network volume, ...). Default: {@code <output>/qa-cache}, right for local mode.
     */
    public Builder cacheDir(Path dir) {
      this.cacheDir = dir;
      return this;
    }

    /** The model's {@code tokenizer.json}, at a path readable on the driver and every executor; default: estimate. */
    public Builder tokenizer(Path tokenizerJson) {
      this.tokenizer = tokenizerJson == null ? null : tokenizerJson.toAbsolutePath().toString();
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

    /** OCR for scanned pages (default AUTO: where Tesseract is installed on the executors). */
    public Builder ocr(OcrMode mode, String... languages) {
      this.ocr = mode;
      if (languages.length > 0) {
        ocrLanguages.clear();
        ocrLanguages.addAll(List.of(languages));
      }
      return this;
    }

    /** Threads one task may use for the pages of its current document (default 1: Spark's cores do the fan-out). */
    public Builder pdfThreads(int threads) {
      this.pdfThreads = threads;
      return this;
    }

    /** Partitions to split the file list into (default: the cluster's default parallelism). */
    public Builder partitions(int partitions) {
      this.minPartitions = partitions;
      return this;
    }

    /** Generate with an LLM (one client per task) instead of the offline rules. */
    public Builder llm(LlmFactory factory) {
      this.llm = factory;
      return this;
    }

    /** {@code QaGenerator} options for LLM generation. */
    public Builder qa(QaConfigurer configurer) {
      this.qa = configurer;
      return this;
    }

    /** The writer (default: Alpaca, inline metadata, 10% validation by document, dedupe on), used on the driver. */
    public Builder writer(JsonlWriter writer) {
      this.writer = writer;
      return this;
    }

    public SparkPipeline build() {
      if (inputs.isEmpty()) {
        throw new IllegalStateException("SparkPipeline needs at least one input");
      }
      for (String in : inputs) {
        if (in == null) {
          throw new IllegalArgumentException("SparkPipeline.input must not be null");
        }
        if (in.contains(",")) {
          throw new IllegalArgumentException("one path per input(...) call (Hadoop splits on commas): " + in);
        }
      }
      if (outputDir == null) {
        throw new IllegalStateException("SparkPipeline needs an output directory");
      }
      if (language == null || ocr == null) {
        throw new IllegalArgumentException("language and ocr must not be null");
      }
      if (pdfThreads < 1 || minPartitions < 0) {
        throw new IllegalArgumentException("pdfThreads must be >= 1 and partitions >= 0");
      }
      if (maxTokens < Chunker.MIN_MAX_TOKENS || overlapTokens > maxTokens / 2) {
        throw new IllegalArgumentException("maxTokens must be >= " + Chunker.MIN_MAX_TOKENS
            + " and overlapTokens <= maxTokens/2");
      }
      return new SparkPipeline(this);
    }
  }
}
