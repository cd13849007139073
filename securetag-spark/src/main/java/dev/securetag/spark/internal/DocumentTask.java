package dev.securetag.spark.internal;

import dev.securetag.core.Chunk;
import dev.securetag.core.LlmClient;
import dev.securetag.core.QaPair;
import dev.securetag.core.SecuretagException;
import dev.securetag.core.internal.Json;
import dev.securetag.dataset.Chunker;
import dev.securetag.dataset.EmptyDatasetException;
import dev.securetag.dataset.GenerationReport;
import dev.securetag.dataset.GenerationResult;
import dev.securetag.dataset.OfflineQaGenerator;
import dev.securetag.dataset.QaGenerator;
import dev.securetag.dataset.TokenCounter;
import dev.securetag.pdf.ExtractedDocument;
import dev.securetag.pdf.PdfCorpus;
import dev.securetag.pdf.PdfExtractionException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.input.PortableDataStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * One Spark task: the PDFs of one partition, one at a time. For each file it copies the bytes from the cluster file
 * system to a local temp file (streamed, never a byte array), extracts it with {@link PdfCorpus}, chunks the blocks,
 * drops the blocks, generates pairs (offline rules, or a {@link QaGenerator} with this document's attempt cache),
 * deletes the temp file and emits a {@link DocumentOutput}. Outputs are produced lazily as Spark pulls them, so the
 * task holds at most one document's text at any time; the engines (PDF reader, tokenizer, LLM client) are built once
 * per task and closed when it ends, failed or not.
 */
public final class DocumentTask
    implements FlatMapFunction<Iterator<Tuple2<String, PortableDataStream>>, DocumentOutput> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(DocumentTask.class);

  private final TaskSettings settings;

  public DocumentTask(TaskSettings settings) {
    this.settings = settings;
  }

  @Override
  public Iterator<DocumentOutput> call(Iterator<Tuple2<String, PortableDataStream>> files) {
    Engines engines = new Engines(settings);
    TaskContext ctx = TaskContext.get();
    String attempt = settings.runId() + "-" + (ctx == null ? "driver" : ctx.taskAttemptId());
    if (ctx != null) {
      ctx.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) c -> engines.close());
    }
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        boolean more = files.hasNext();
        if (!more && ctx == null) {
          engines.close();
        }
        return more;
      }

      @Override
      public DocumentOutput next() {
        if (!files.hasNext()) {
          throw new NoSuchElementException();
        }
        Tuple2<String, PortableDataStream> f = files.next();
        return engines.process(f._1(), f._2(), attempt);
      }
    };
  }

  /** The file name of a Hadoop path string ({@code file:/a/b.pdf}, {@code s3a://bucket/b.pdf}). */
  static String fileName(String path) {
    String p = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    return p.substring(p.lastIndexOf('/') + 1);
  }

  /** Per-task engines; not serialized. */
  private static final class Engines {
    private final TaskSettings s;
    private final PdfCorpus corpus;
    private final TokenCounter counter;
    private final Chunker chunker;
    private final OfflineQaGenerator offline;
    private LlmClient llm;
    private int inMemory;
    private boolean closed;

    Engines(TaskSettings s) {
      this.s = s;
      this.corpus = PdfCorpus.builder().ocr(s.ocr()).languages(s.ocrLanguages().toArray(String[]::new))
          .threads(s.pdfThreads()).build();
      this.counter = s.tokenizer() != null ? TokenCounter.huggingFace(Path.of(s.tokenizer())) : TokenCounter.estimate();
      // The same chunker settings as DatasetPipeline, so chunk ids and texts match the single-machine run.
      Chunker.Builder cb = Chunker.builder().tokenCounter(counter).maxTokens(s.maxTokens()).language(s.language());
      if (s.overlapTokens() >= 0) {
        cb.overlapTokens(s.overlapTokens());
      }
      this.chunker = cb.build();
      this.offline = OfflineQaGenerator.builder().language(s.language()).build();
    }

    DocumentOutput process(String path, PortableDataStream data, String attempt) {
      DocumentOutput out = new DocumentOutput();
      out.path = path;
      out.document = fileName(path);
      Path dir = null;
      Path local = null;
      inMemory++;
      out.documentsInMemory = inMemory;
      try {
        long t0 = System.nanoTime();
        dir = Files.createTempDirectory("securetag-spark-");
        local = dir.resolve(out.document);
        try (InputStream in = data.open()) {
          Files.copy(in, local);
        }
        List<Chunk> chunks;
        try {
          ExtractedDocument doc = corpus.extract(local);
          out.pages = doc.report().pages();
          out.blocks = doc.blocks().size();
          chunks = chunker.chunk(doc.blocks());
          // doc (the blocks) goes out of scope here: only the chunks of this one document stay reachable.
        } catch (PdfExtractionException e) {
          out.errorKind = e.kind().name();
          out.error = e.getMessage().replace(local.toString(), path);
          out.skipped = e.kind() == dev.securetag.pdf.PdfErrorKind.OCR_UNAVAILABLE;
          LOG.warn("{} ({})", out.error, out.errorKind);
          return out;
        }
        out.chunks = chunks.size();
        long t1 = System.nanoTime();
        out.extractMillis = (t1 - t0) / 1_000_000;
        GenerationResult gen = generate(path, chunks, attempt);
        List<String> pairs = new ArrayList<>(gen.pairs().size());
        for (QaPair p : gen.pairs()) {
          pairs.add(Json.write(p));
        }
        out.pairs = pairs;
        ReportSum.fill(out, gen.report());
        out.generateMillis = (System.nanoTime() - t1) / 1_000_000;
        return out;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot copy " + path + " to a local temp file: " + e.getMessage(), e);
      } finally {
        inMemory--;
        deleteQuietly(local);
        deleteQuietly(dir);
      }
    }

    private GenerationResult generate(String path, List<Chunk> chunks, String attempt) {
      if (chunks.isEmpty()) {
        return new GenerationResult(List.of(), new GenerationReport(0, 0, 0, 0, 0, 0, 0, 0, java.util.Map.of(), 0, 0,
            java.util.Map.of()));
      }
      try {
        if (s.llm() == null) {
          return offline.generate(chunks);
        }
        QaGenerator.Builder b = QaGenerator.builder().llm(llm());
        if (s.qa() != null) {
          s.qa().configure(b);
        }
        if (s.cacheDir() != null) {
          b.cache(AttemptCache.prepare(Path.of(s.cacheDir()), path, attempt));
        }
        try (QaGenerator gen = b.build()) {
          return gen.generate(chunks);
        }
      } catch (EmptyDatasetException e) {
        // One document without pairs is not an error for the corpus; the driver decides on the whole.
        return new GenerationResult(List.of(), e.report());
      }
    }

    private LlmClient llm() {
      if (llm == null) {
        llm = s.llm().create();
        if (llm == null) {
          throw new SecuretagException("the LlmFactory returned null");
        }
      }
      return llm;
    }

    synchronized void close() {
      if (closed) {
        return;
      }
      closed = true;
      corpus.close();
      chunker.close();
      counter.close();
      if (llm != null) {
        try {
          llm.close();
        } catch (Exception e) {
          LOG.debug("closing the LLM client: {}", e.getMessage());
        }
      }
    }

    private static void deleteQuietly(Path p) {
      if (p == null) {
        return;
      }
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        LOG.debug("cannot delete temp file {}: {}", p, e.getMessage());
      }
    }
  }
}
