package dev.securetag.pdf;

import dev.securetag.core.InvalidInputException;
import dev.securetag.core.ProgressListener;
import dev.securetag.core.TextBlock;
import dev.securetag.core.internal.DaemonThreads;
import dev.securetag.pdf.internal.DocumentExtractor;
import dev.securetag.pdf.internal.OcrEngine;
import dev.securetag.pdf.internal.OcrScheduler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.EnumMap;
import java.util.Map;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Turns a set of PDF files (security standards, policies) into {@link TextBlock}s in reading order: paragraphs,
 * list items, headings, tables and OCR text, each with its file, 1-based page and section path. Several files are
 * processed at once; a document that cannot be read becomes a typed error in the {@link CorpusReport} and the rest
 * of the corpus goes on.
 *
 * <pre>{@code
 * try (PdfCorpus corpus = PdfCorpus.builder().add(Path.of("standards")).ocr(OcrMode.AUTO)
 *     .languages("spa", "eng").threads(2).build()) {
 *   CorpusReport report = corpus.forEach(block -> System.out.println(block.source().section()));
 * }
 * }</pre>
 *
 * <p>OCR needs Tesseract (Debian: tesseract-ocr, tesseract-ocr-eng, tesseract-ocr-spa) and runs about 4x faster with
 * {@code OMP_THREAD_LIMIT=1} in the environment before the JVM starts.
 */
public final class PdfCorpus implements AutoCloseable {

  private final List<Path> inputs;
  private final OcrMode ocrMode;
  private final List<String> languages;
  private final int threads;
  private final ProgressListener listener;
  private final String password;
  private final boolean allowRestricted;
  private final long maxFileBytes;
  private final int maxPages;
  private final Path tessdata;
  private final Map<Character.UnicodeScript, List<String>> scriptLanguages;
  private final ExecutorService pool;
  private final OcrScheduler scheduler;
  private volatile OcrEngine ocrEngine;
  private volatile CorpusReport lastReport;
  private volatile boolean closed;

  private PdfCorpus(Builder b) {
    this.inputs = List.copyOf(b.inputs);
    this.ocrMode = b.ocrMode;
    this.languages = List.copyOf(b.languages);
    this.threads = b.threads;
    this.listener = b.listener;
    this.password = b.password;
    this.allowRestricted = b.allowRestricted;
    this.maxFileBytes = b.maxFileBytes;
    this.maxPages = b.maxPages;
    this.tessdata = b.tessdata;
    this.scriptLanguages = Map.copyOf(b.scriptLanguages);
    this.pool = DaemonThreads.fixedPool("securetag-pdf", threads);
    this.scheduler = new OcrScheduler(pool);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The PDF files this corpus will read, in processing order (directories expanded, sorted by path). */
  public List<Path> files() {
    List<Path> out = new ArrayList<>();
    for (Path in : inputs) {
      if (Files.isDirectory(in)) {
        try (Stream<Path> walk = Files.walk(in)) {
          walk.filter(Files::isRegularFile)
              .filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".pdf"))
              .sorted()
              .forEach(out::add);
        } catch (IOException e) {
          throw new InvalidInputException(in.toString(), "cannot list directory: " + e.getMessage(), e);
        }
      } else {
        out.add(in);
      }
    }
    return out;
  }

  /**
   * Extracts one document. Throws {@link PdfExtractionException} when it cannot be read (encrypted, corrupt, ...);
   * page-level problems are in the result's report.
   */
  public ExtractedDocument extract(Path file) {
    ensureOpen();
    ExtractedDocument d = newExtractor(new AtomicLong(), threads).extract(file);
    if (d.report().error().isPresent()) {
      throw d.report().error().get();
    }
    return d;
  }

  /**
   * All blocks of all documents in input order, each document in reading order. Documents are extracted ahead on
   * the worker threads (at most {@code threads + 1} documents held at once). When the stream is exhausted the
   * report is available from {@link #report()}.
   */
  public Stream<TextBlock> stream() {
    ensureOpen();
    return StreamSupport.stream(
        Spliterators.spliteratorUnknownSize(new BlockIterator(files()), Spliterator.ORDERED | Spliterator.NONNULL),
        false);
  }

  /** Sends every block to {@code action} in order and returns the report. */
  public CorpusReport forEach(Consumer<? super TextBlock> action) {
    Objects.requireNonNull(action, "action");
    try (Stream<TextBlock> s = stream()) {
      s.forEachOrdered(action);
    }
    return report();
  }

  /** The report of the last completed {@link #stream()} or {@link #forEach} run. */
  public CorpusReport report() {
    CorpusReport r = lastReport;
    if (r == null) {
      throw new IllegalStateException("no completed run yet: consume stream() or call forEach first");
    }
    return r;
  }

  private DocumentExtractor newExtractor(AtomicLong pages, int parts) {
    DocumentExtractor.Options opt = new DocumentExtractor.Options(ocrMode, password, allowRestricted, maxFileBytes,
        maxPages, languages, scriptLanguages);
    return new DocumentExtractor(opt, this::ocr,
        p -> listener.report("pdf-pages", pages.incrementAndGet(), -1, "pages"), pool, scheduler, parts);
  }

  private OcrEngine ocr() {
    OcrEngine e = ocrEngine;
    if (e == null) {
      synchronized (this) {
        e = ocrEngine;
        if (e == null) {
          e = OcrEngine.create(languages, tessdata);
          ocrEngine = e;
        }
      }
    }
    return e;
  }

  /**
   * Why OCR cannot run here for the configured languages (Tesseract or its language data not installed), with the
   * install hint; empty when it can. Pages that need OCR are then reported as
   * {@link PageIssue.Kind#OCR_UNAVAILABLE} and wholly scanned documents as skipped.
   */
  public Optional<String> ocrUnavailableReason() {
    ensureOpen();
    return ocrMode == OcrMode.OFF ? Optional.empty() : ocr().unavailableReason();
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("PdfCorpus is closed");
    }
  }

  /** Stops the worker threads and frees Tesseract's native memory. Idempotent. */
  @Override
  public void close() {
    closed = true;
    pool.shutdownNow();
    OcrEngine e = ocrEngine;
    if (e != null) {
      try {
        // Native Tesseract instances may only be freed once no worker is inside a recognition call.
        if (pool.awaitTermination(60, TimeUnit.SECONDS)) {
          e.close();
        }
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Pulls documents from the pool in input order, keeping a bounded window of work in flight. */
  private final class BlockIterator implements Iterator<TextBlock> {
    private final Iterator<Path> files;
    private final int total;
    private final Deque<Future<ExtractedDocument>> window = new ArrayDeque<>();
    private final List<DocumentReport> reports = new ArrayList<>();
    private final AtomicLong pages = new AtomicLong();
    // With fewer files than threads, large documents are split into page ranges so that all threads work; file
    // tasks times parts never exceeds the pool size, so a file task never waits for a queued range task forever.
    private final int parts;
    private Iterator<TextBlock> current = List.<TextBlock>of().iterator();
    private boolean finished;

    BlockIterator(List<Path> files) {
      this.files = files.iterator();
      this.total = files.size();
      this.parts = files.size() >= threads ? 1 : Math.max(1, threads / Math.max(1, files.size()));
      fill();
    }

    private void fill() {
      while (window.size() < threads + 1 && files.hasNext()) {
        Path f = files.next();
        window.add(pool.submit(() -> newExtractor(pages, parts).extract(f)));
      }
    }

    @Override
    public boolean hasNext() {
      while (!current.hasNext()) {
        if (window.isEmpty()) {
          if (!finished) {
            finished = true;
            lastReport = new CorpusReport(reports);
            listener.onPhaseEnd("pdf");
          }
          return false;
        }
        ExtractedDocument d = take(window.poll());
        reports.add(d.report());
        listener.onProgress(new ProgressListener.Progress("pdf", reports.size(), total, "documents",
            d.report().document()));
        fill();
        current = d.blocks().iterator();
      }
      return true;
    }

    private ExtractedDocument take(Future<ExtractedDocument> f) {
      try {
        return f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while extracting PDFs", e);
      } catch (ExecutionException e) {
        // DocumentExtractor turns bad input into report errors; anything reaching here is a bug or an Error.
        Throwable c = e.getCause();
        if (c instanceof RuntimeException re) {
          throw re;
        }
        if (c instanceof Error err) {
          throw err;
        }
        throw new IllegalStateException("PDF extraction failed", c);
      }
    }

    @Override
    public TextBlock next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return current.next();
    }
  }

  /** Configures a {@link PdfCorpus}. */
  public static final class Builder {
    private final List<Path> inputs = new ArrayList<>();
    private OcrMode ocrMode = OcrMode.AUTO;
    private List<String> languages = List.of("spa", "eng");
    private int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    private ProgressListener listener = ProgressListener.NONE;
    private String password;
    private boolean allowRestricted;
    private long maxFileBytes = 2L << 30;
    private int maxPages = 20_000;
    private Path tessdata;
    private final Map<Character.UnicodeScript, List<String>> scriptLanguages =
        new EnumMap<>(Character.UnicodeScript.class);

    private Builder() {}

    /** Adds PDF files or directories (searched recursively for {@code *.pdf}). */
    public Builder add(Path... paths) {
      for (Path p : paths) {
        inputs.add(Objects.requireNonNull(p, "path"));
      }
      return this;
    }

    /** Adds PDF files or directories. */
    public Builder addAll(List<Path> paths) {
      return add(paths.toArray(Path[]::new));
    }

    /** When to OCR pages; default {@link OcrMode#AUTO}. */
    public Builder ocr(OcrMode mode) {
      this.ocrMode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /** Tesseract languages, e.g. {@code "spa", "eng"} (the default). */
    public Builder languages(String... langs) {
      if (langs.length == 0) {
        throw new IllegalArgumentException("at least one OCR language is required");
      }
      for (String l : langs) {
        if (l == null || !l.matches("[a-z_]{3,16}")) {
          throw new IllegalArgumentException("not a Tesseract language code: " + l);
        }
      }
      this.languages = Arrays.asList(langs.clone());
      return this;
    }

    /** How many documents are extracted at once (default: cores, at most 4). */
    public Builder threads(int n) {
      if (n < 1 || n > 256) {
        throw new IllegalArgumentException("threads must be in 1..256, was " + n);
      }
      this.threads = n;
      return this;
    }

    /** Receives per-document and per-page progress. */
    public Builder listener(ProgressListener l) {
      this.listener = Objects.requireNonNull(l, "listener");
      return this;
    }

    /** User or owner password for encrypted documents. Never logged. */
    public Builder password(String password) {
      this.password = password;
      return this;
    }

    /**
     * Extract documents whose permissions forbid content extraction. Off by default: PDFBox does not enforce
     * permissions, so the check is ours, and opting in is the caller's decision.
     */
    public Builder allowRestricted(boolean allow) {
      this.allowRestricted = allow;
      return this;
    }

    /** Files larger than this are reported as {@link PdfErrorKind#TOO_LARGE} (default 2 GiB). */
    public Builder maxFileBytes(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("maxFileBytes must be positive, was " + bytes);
      }
      this.maxFileBytes = bytes;
      return this;
    }

    /** Documents with more pages are reported as {@link PdfErrorKind#TOO_LARGE} (default 20,000). */
    public Builder maxPages(int pages) {
      if (pages < 1) {
        throw new IllegalArgumentException("maxPages must be positive, was " + pages);
      }
      this.maxPages = pages;
      return this;
    }

    /**
     * The Tesseract language-data directory holding {@code <lang>.traineddata}. By default it is found from
     * {@code TESSDATA_PREFIX}, then the usual install locations.
     */
    public Builder tessdata(Path dir) {
      this.tessdata = Objects.requireNonNull(dir, "dir");
      return this;
    }

    /**
     * Tesseract languages for pages in scripts the {@link #languages} do not read, e.g.
     * {@code Map.of(UnicodeScript.CYRILLIC, "rus", UnicodeScript.HAN, "chi_sim+eng")} ({@code +} joins languages).
     * A page is read with a script's languages when its text layer is in that script and must be OCR'd, or when OCR
     * with the default languages fails the quality gate and Tesseract's script detection names that script. By
     * default no script is mapped: a well-formed text layer in another script is kept as it is, and a page that
     * only OCR could read in another script is reported {@link PageIssue.Kind#UNREADABLE} instead of producing
     * look-alike noise. The languages' traineddata must be installed (e.g. {@code tesseract-ocr-rus}); where it is
     * not, such pages are reported {@link PageIssue.Kind#OCR_UNAVAILABLE}.
     */
    public Builder scriptLanguages(Map<Character.UnicodeScript, String> map) {
      scriptLanguages.clear();
      for (Map.Entry<Character.UnicodeScript, String> e : map.entrySet()) {
        Character.UnicodeScript script = Objects.requireNonNull(e.getKey(), "script");
        String value = Objects.requireNonNull(e.getValue(), "languages for " + script);
        List<String> langs = Arrays.asList(value.split("\\+"));
        for (String l : langs) {
          if (!l.matches("[a-z_]{3,16}")) {
            throw new IllegalArgumentException("not a Tesseract language code for " + script + ": " + l);
          }
        }
        scriptLanguages.put(script, List.copyOf(langs));
      }
      return this;
    }

    public PdfCorpus build() {
      return new PdfCorpus(this);
    }
  }

  @Override
  public String toString() {
    return "PdfCorpus[" + inputs.size() + " inputs, ocr=" + ocrMode + ", languages=" + languages
        + (scriptLanguages.isEmpty() ? "" : ", scriptLanguages=" + scriptLanguages) + ", threads="
        + threads + (password != null ? ", password=***" : "") + "]";
  }
}
