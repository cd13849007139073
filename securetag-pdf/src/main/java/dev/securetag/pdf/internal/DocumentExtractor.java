package dev.securetag.pdf.internal;

import dev.securetag.core.SourceRef;
import dev.securetag.core.TextBlock;
import dev.securetag.pdf.DocumentReport;
import dev.securetag.pdf.ExtractedDocument;
import dev.securetag.pdf.OcrMode;
import dev.securetag.pdf.PageIssue;
import dev.securetag.pdf.PdfErrorKind;
import dev.securetag.pdf.PdfExtractionException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;
import java.awt.image.BufferedImage;
import java.lang.Character.UnicodeScript;
import java.util.function.Supplier;
import net.sourceforge.tess4j.TesseractException;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.io.MemoryUsageSetting;
import org.apache.pdfbox.io.RandomAccessReadBufferedFile;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.encryption.InvalidPasswordException;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.destination.PDDestination;
import org.apache.pdfbox.pdmodel.interactive.action.PDActionGoTo;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.destination.PDNamedDestination;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.destination.PDPageDestination;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.destination.PDPageFitWidthDestination;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.destination.PDPageFitRectangleDestination;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.destination.PDPageXYZDestination;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.outline.PDDocumentOutline;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.outline.PDOutlineItem;
import org.apache.pdfbox.pdmodel.interactive.documentnavigation.outline.PDOutlineNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Extracts one PDF into {@link TextBlock}s: load (file-backed, temp-file stream cache), permission check, one
 * content-stream pass per page (glyphs, drawn lines, images), OCR routing, ruled tables, then document-level
 * running header/footer removal, column-aware reading order, paragraphs, lists, headings and section paths.
 * Bad input never escapes as an exception: it becomes the report's typed error. One instance per document (it
 * keeps per-document state); not thread-safe.
 */
public final class DocumentExtractor {

  private static final Logger LOG = LoggerFactory.getLogger(DocumentExtractor.class);

  /** Per-run settings. */
  public record Options(OcrMode ocrMode, String password, boolean allowRestricted, long maxFileBytes, int maxPages,
      List<String> languages, Map<UnicodeScript, List<String>> scriptLanguages) {
    public Options {
      languages = List.copyOf(languages);
      scriptLanguages = Map.copyOf(scriptLanguages);
    }
  }

  private final Options opt;
  private final Supplier<OcrEngine> ocr;
  private final IntConsumer pageDone;
  private final ExecutorService helper;
  private final OcrScheduler scheduler;
  private final int parts;
  private final Set<UnicodeScript> covered;

  /** Large documents are split into page ranges of at least this many pages when helper threads are given. */
  static final int MIN_PAGES_PER_PART = 32;

  /**
   * @param helper runs the extra page ranges of a large document; must have {@code parts - 1} threads free
   * @param parts how many page ranges one document may be split into (1 = no splitting)
   */
  public DocumentExtractor(Options opt, Supplier<OcrEngine> ocr, IntConsumer pageDone, ExecutorService helper,
      OcrScheduler scheduler, int parts) {
    this.opt = opt;
    this.ocr = ocr;
    this.pageDone = pageDone;
    this.helper = helper;
    this.scheduler = scheduler;
    this.parts = parts;
    this.covered = Scripts.covered(opt.languages());
  }

  /** One page after the content pass: body segments, tables, or OCR paragraphs. */
  record PageLayout(int pageNo, float width, float height, List<Segment> segments, List<TableRegion> tables,
      List<String> ocrParagraphs, float[] gutters) {
    PageLayout(int pageNo, float width, float height, List<Segment> segments, List<TableRegion> tables,
        List<String> ocrParagraphs) {
      this(pageNo, width, height, segments, tables, ocrParagraphs, new float[0]);
    }
  }

  /** Flattened outline entry; top is in top-left page coordinates, or NaN when the destination has none. */
  record OutlineEntry(String title, int level, int page, float top) {}

  public ExtractedDocument extract(Path file) {
    long t0 = System.nanoTime();
    List<PageIssue> issues = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    int[] pages = {0};
    PdfBoxLogFactory.Scope quiet = PdfBoxLogFactory.capture(pdfboxLog);
    try {
      List<TextBlock> blocks = run(file, issues, warnings, pages);
      summarisePdfBoxLog(file, warnings);
      List<Integer> ocrPages = new ArrayList<>();
      int tables = 0;
      for (TextBlock b : blocks) {
        if (b.table().isPresent()) {
          tables++;
        }
      }
      ocrPages.addAll(ocrPageNumbers);
      return new ExtractedDocument(blocks, new DocumentReport(file, pages[0], blocks.size(), tables, ocrPages,
          Duration.ofNanos(System.nanoTime() - t0), issues, warnings, Optional.empty()));
    } catch (PdfExtractionException e) {
      summarisePdfBoxLog(file, warnings);
      LOG.warn("Skipping {}", e.getMessage());
      return new ExtractedDocument(List.of(), new DocumentReport(file, pages[0], 0, 0, List.of(),
          Duration.ofNanos(System.nanoTime() - t0), issues, warnings, Optional.of(e)));
    } finally {
      quiet.close();
    }
  }

  private final List<Integer> ocrPageNumbers = new ArrayList<>();
  private final PdfBoxLogFactory.Capture pdfboxLog = new PdfBoxLogFactory.Capture();

  /** One line per document for PDFBox's warnings (each is at DEBUG under its PDFBox logger), and a report warning. */
  private void summarisePdfBoxLog(Path file, List<String> warnings) {
    int n = pdfboxLog.count();
    if (n == 0) {
      return;
    }
    String first = pdfboxLog.first();
    if (first != null && first.length() > 160) {
      first = first.substring(0, 160) + "...";
    }
    String line = "PDFBox reported " + n + " problem" + (n == 1 ? "" : "s") + " while reading it (first: " + first
        + "); each is logged at DEBUG under org.apache.pdfbox / org.apache.fontbox";
    LOG.info("{}: {}", file.getFileName(), line);
    warnings.add(line);
  }

  private List<TextBlock> run(Path file, List<PageIssue> issues, List<String> warnings, int[] pageCount) {
    ocrPageNumbers.clear();
    String name = file.getFileName().toString();
    String loc = file.toString();
    long size;
    byte[] head = new byte[1024];
    byte[] tail = new byte[1024];
    int headLen;
    int tailLen;
    try {
      size = Files.size(file);
      if (size == 0) {
        throw new PdfExtractionException(PdfErrorKind.EMPTY, loc, "file is empty (0 bytes)");
      }
      if (size > opt.maxFileBytes()) {
        throw new PdfExtractionException(PdfErrorKind.TOO_LARGE, loc,
            "file has " + size + " bytes, more than the limit of " + opt.maxFileBytes());
      }
      try (InputStream in = Files.newInputStream(file)) {
        headLen = in.readNBytes(head, 0, head.length);
      }
      try (SeekableByteChannel ch = Files.newByteChannel(file)) {
        ch.position(Math.max(0, size - tail.length));
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(tail);
        while (bb.hasRemaining() && ch.read(bb) > 0) {
          // fill
        }
        tailLen = bb.position();
      }
    } catch (IOException e) {
      throw new PdfExtractionException(PdfErrorKind.UNREADABLE_FILE, loc, "cannot read file: " + e.getMessage(), e);
    }
    if (!new String(head, 0, headLen, StandardCharsets.ISO_8859_1).contains("%PDF-")) {
      throw new PdfExtractionException(PdfErrorKind.NOT_PDF, loc, "no %PDF- header in the first 1024 bytes");
    }
    boolean noEof = !new String(tail, 0, tailLen, StandardCharsets.ISO_8859_1).contains("%%EOF");
    PDDocument doc = load(file, loc, noEof);
    try (doc) {
      if (noEof) {
        warnings.add("no %%EOF marker: the file looks truncated; PDFBox repaired what it could");
      }
      if (doc.isEncrypted() && !doc.getCurrentAccessPermission().canExtractContent() && !opt.allowRestricted()) {
        throw new PdfExtractionException(PdfErrorKind.EXTRACTION_RESTRICTED, loc,
            "the document's permissions forbid content extraction (opt in with PdfCorpus.Builder.allowRestricted)");
      }
      int n = doc.getNumberOfPages();
      pageCount[0] = n;
      if (n == 0) {
        throw new PdfExtractionException(PdfErrorKind.EMPTY, loc, "the document has no pages");
      }
      if (n > opt.maxPages()) {
        throw new PdfExtractionException(PdfErrorKind.TOO_LARGE, loc,
            n + " pages, more than the limit of " + opt.maxPages());
      }
      List<OutlineEntry> outline = outline(doc);
      int k = Math.max(1, Math.min(parts, n / MIN_PAGES_PER_PART));
      List<Part> results = new ArrayList<>(k);
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 0; i < k; i++) {
        int from = 1 + (int) ((long) n * i / k);
        int to = (int) ((long) n * (i + 1) / k);
        Part part = new Part();
        results.add(part);
        if (i > 0) {
          // Other page ranges of a large document get their own PDDocument: PDFBox documents are not thread-safe.
          futures.add(helper.submit(() -> {
            PdfBoxLogFactory.Scope rangeQuiet = PdfBoxLogFactory.capture(pdfboxLog);
            try (PDDocument other = load(file, loc, noEof)) {
              collectRange(other, from, to, part);
            } catch (IOException e) {
              throw new PdfExtractionException(PdfErrorKind.CORRUPT, loc, "failed while closing: " + e.getMessage(), e);
            } finally {
              rangeQuiet.close();
            }
            return null;
          }));
        } else {
          collectRange(doc, from, to, part);
        }
      }
      for (Future<?> f : futures) {
        await(f);
      }
      Set<String> vocabulary = new HashSet<>();
      List<PageLayout> layouts = new ArrayList<>(n);
      for (Part part : results) {
        vocabulary.addAll(part.vocabulary);
        layouts.addAll(part.layouts);
        issues.addAll(part.issues);
        ocrPageNumbers.addAll(part.ocrPages);
      }
      List<TextBlock> blocks = new Assembler(name, outline, vocabulary).assemble(layouts);
      if (blocks.isEmpty()) {
        // A scanned document on a machine without OCR is not bad input: report it as skipped, with the install hint.
        Optional<PageIssue> noOcr = issues.stream().filter(i -> i.kind() == PageIssue.Kind.OCR_UNAVAILABLE).findFirst();
        boolean onlyNoOcr = issues.stream().allMatch(i -> i.kind() == PageIssue.Kind.OCR_UNAVAILABLE
            || i.kind() == PageIssue.Kind.BLANK);
        if (noOcr.isPresent() && onlyNoOcr) {
          throw new PdfExtractionException(PdfErrorKind.OCR_UNAVAILABLE, loc, "all " + n + " pages need OCR; "
              + noOcr.get().message());
        }
        throw new PdfExtractionException(PdfErrorKind.EMPTY, loc, "no text could be extracted from any of its " + n
            + " pages" + (issues.isEmpty() ? "" : " (" + issues.get(0).message() + ")"));
      }
      return blocks;
    } catch (IOException e) {
      // Only PDDocument.close can throw here; the content has already been extracted.
      LOG.debug("closing {} failed: {}", loc, e.toString());
      throw new PdfExtractionException(PdfErrorKind.CORRUPT, loc, "failed while closing: " + e.getMessage(), e);
    }
  }

  /** What one page range produced. */
  private static final class Part {
    final List<PageLayout> layouts = new ArrayList<>();
    /** Pages whose OCR is queued, in page order, with the layouts collected so far. */
    final List<Object> slots = new ArrayList<>();
    final List<PageIssue> issues = new ArrayList<>();
    final Set<String> vocabulary = new HashSet<>();
    final List<Integer> ocrPages = new ArrayList<>();
  }

  private PDDocument load(Path file, String loc, boolean noEof) {
    try {
      return Loader.loadPDF(new RandomAccessReadBufferedFile(file.toFile()), opt.password(), null, null,
          MemoryUsageSetting.setupTempFileOnly().streamCache);
    } catch (InvalidPasswordException e) {
      if (opt.password() == null) {
        throw new PdfExtractionException(PdfErrorKind.ENCRYPTED, loc,
            "encrypted and needs a password (supply one with PdfCorpus.Builder.password)", e);
      }
      throw new PdfExtractionException(PdfErrorKind.WRONG_PASSWORD, loc, "the supplied password is wrong", e);
    } catch (IOException | RuntimeException e) {
      // PDFBox signals unrecoverable structure damage with IOException and, on some malformed inputs, with
      // runtime exceptions from its parser; both mean the file cannot be read.
      throw new PdfExtractionException(noEof ? PdfErrorKind.TRUNCATED : PdfErrorKind.CORRUPT, loc,
          (noEof ? "truncated (no %%EOF marker) and unparseable: " : "corrupt PDF: ") + e.getMessage(), e);
    }
  }

  private static void await(Future<?> f) {
    try {
      f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while extracting a PDF", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException re) {
        throw re;
      }
      if (c instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException("page range extraction failed", c);
    }
  }

  private void collectRange(PDDocument doc, int from, int to, Part part) {
    PageCollector collector = new PageCollector();
    int next = from;
    while (next <= to) {
      try {
        collector.collect(doc, next, to, raw -> {
          Object slot = page(doc, raw, part);
          if (slot != null) {
            part.slots.add(slot);
          }
          pageDone.accept(raw.pageNo());
        });
        next = to + 1;
      } catch (IOException | RuntimeException e) {
        // A broken content stream on one page must not lose the other pages: report it and resume after it.
        int failed = collector.nextPage();
        part.issues.add(new PageIssue(failed, PageIssue.Kind.PAGE_FAILED, "content stream could not be parsed: " + e));
        pageDone.accept(failed);
        next = failed + 1;
      }
    }
    for (Object slot : part.slots) {
      PageLayout layout = slot instanceof PendingOcr pending ? resolve(pending, part) : (PageLayout) slot;
      if (layout != null) {
        part.layouts.add(layout);
      }
    }
    part.slots.clear();
  }

  /** A page whose OCR is queued; {@code fallback} is its text layer when that is usable (OcrMode.ALWAYS). */
  private record PendingOcr(int pageNo, float width, float height, Future<OcrPage> result, PageLayout fallback) {}

  /** What OCR made of one page: the gate's outcome, and the script OSD saw when the first attempt failed. */
  private record OcrPage(OcrGate.Outcome outcome, List<String> languages, UnicodeScript script) {}

  /** At most this many rendered pages of one document wait for OCR at a time (8 MB each at 300 dpi). */
  private int maxPendingOcr() {
    return 2 + Math.max(2, parts * 2);
  }

  private Object page(PDDocument doc, RawPage raw, Part part) {
    int p = raw.pageNo();
    List<PageIssue> issues = part.issues;
    int bad = 0;
    int visible = 0;
    for (Glyph g : raw.glyphs()) {
      String t = g.text();
      for (int i = 0; i < t.length(); i++) {
        char c = t.charAt(i);
        if (c == '\uFFFD' || (c >= '\uE000' && c <= '\uF8FF') || (Character.isISOControl(c) && c != '\n')) {
          bad++;
        } else if (!Character.isWhitespace(c)) {
          visible++;
        }
      }
    }
    TextQuality.Verdict verdict = TextQuality.judge(TextNormalizer.normalize(spaced(raw.glyphs())), bad);
    boolean noText = visible == 0;
    boolean scanLike = raw.imageCoverage() > 0.2 && (noText || (visible < 40 && raw.imageCoverage() > 0.5));
    UnicodeScript script = verdict.script();
    boolean scriptCovered = noText || covered.contains(script);
    List<String> mapped = opt.scriptLanguages().get(script);
    boolean textUsable = !noText && verdict.usable();
    boolean needOcr = switch (opt.ocrMode()) {
      // A well-formed text layer in a script no OCR language reads is never replaced: OCR could only make it worse.
      case ALWAYS -> !(textUsable && !scriptCovered && mapped == null);
      case AUTO -> scanLike || !verdict.usable() || (noText && raw.edges().size() > 200);
      case OFF -> false;
    };
    if (needOcr && !scanLike && !noText && !scriptCovered && mapped == null && !verdict.usable()) {
      // A broken text layer in a script the OCR languages do not read: OCR would only produce look-alike noise.
      issues.add(new PageIssue(p, PageIssue.Kind.UNREADABLE, "text layer is unusable (" + verdict.reason()
          + ") and its script " + script + " is not covered by the OCR languages " + String.join("+", opt.languages())
          + "; map it to a Tesseract language with PdfCorpus.Builder.scriptLanguages (e.g. "
          + exampleLanguage(script) + ")"));
      return null;
    }
    if (needOcr) {
      OcrEngine engine = ocr.get();
      List<String> langs = !scriptCovered && mapped != null ? mapped : opt.languages();
      Optional<String> why = engine.unavailableReason(langs);
      if (why.isPresent()) {
        issues.add(new PageIssue(p, PageIssue.Kind.OCR_UNAVAILABLE, "needs OCR ("
            + (scanLike ? "image-only page" : noText ? "no text layer" : verdict.usable() ? "OCR mode ALWAYS"
                : verdict.reason()) + ") but " + why.get()));
        if (opt.ocrMode() != OcrMode.ALWAYS || !verdict.usable() || noText) {
          return null;
        }
      } else {
        try {
          BufferedImage img = OcrEngine.render(doc, p);
          boolean knownScript = !scriptCovered && mapped != null;
          // Glyphs without Unicode are typical of fonts for scripts other than Latin; asking OSD first is cheaper
          // than reading a page of Arabic or Devanagari with Latin models (several seconds of noise).
          boolean detectFirst = !knownScript && !noText && bad > 10;
          Future<OcrPage> result = scheduler.submit(() -> recognise(engine, img, langs, knownScript, detectFirst));
          PageLayout fallback = textUsable ? textLayout(raw, part.vocabulary) : null;
          // Bound the rendered pages in flight: help with queued OCR (of any document) until this one's drop.
          waitForRoom(part);
          return new PendingOcr(p, raw.width(), raw.height(), result, fallback);
        } catch (IOException | RuntimeException e) {
          // Rendering failed for this page only; report it instead of dropping it silently.
          issues.add(new PageIssue(p, PageIssue.Kind.UNREADABLE, "OCR failed: " + e));
          return null;
        }
      }
    } else if (noText) {
      if (raw.imageCoverage() > 0.2 || raw.edges().size() > 200) {
        issues.add(new PageIssue(p, PageIssue.Kind.LOW_QUALITY_TEXT,
            "page has no text layer (image or drawn text only) and OCR is off"));
      } else {
        issues.add(new PageIssue(p, PageIssue.Kind.BLANK, "page has no text"));
      }
      return null;
    } else if (!verdict.usable()) {
      issues.add(new PageIssue(p, PageIssue.Kind.LOW_QUALITY_TEXT,
          "text layer looks unusable (" + verdict.reason() + ") and OCR is off; page text not emitted"));
      return null;
    }
    return textLayout(raw, part.vocabulary);
  }

  private void waitForRoom(Part part) {
    while (true) {
      Future<?> oldest = null;
      int pending = 0;
      for (Object slot : part.slots) {
        if (slot instanceof PendingOcr po && !po.result().isDone()) {
          pending++;
          if (oldest == null) {
            oldest = po.result();
          }
        }
      }
      if (pending < maxPendingOcr() || oldest == null) {
        return;
      }
      try {
        scheduler.helpOrWait(oldest);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for OCR", e);
      }
    }
  }

  /** Runs on any worker thread: recognise, gate, and when that fails try the language mapped to the script OSD sees. */
  private OcrPage recognise(OcrEngine engine, BufferedImage img, List<String> langs, boolean knownScript,
      boolean detectFirst) throws TesseractException {
    if (detectFirst) {
      UnicodeScript seen = engine.detectScript(img);
      if (seen != UnicodeScript.UNKNOWN && !covered.contains(seen)) {
        List<String> mapped = opt.scriptLanguages().get(seen);
        if (mapped != null && engine.unavailableReason(mapped).isEmpty()) {
          return new OcrPage(OcrGate.gate(engine.recognize(img, mapped)), mapped, seen);
        }
        return new OcrPage(new OcrGate.Outcome(List.of(), 0, 0, 0, 0, false, "the text layer has glyphs without "
            + "Unicode"), langs, seen);
      }
    }
    OcrGate.Outcome first = OcrGate.gate(engine.recognize(img, langs));
    if (first.usable() || knownScript) {
      return new OcrPage(first, langs, UnicodeScript.UNKNOWN);
    }
    UnicodeScript seen = engine.detectScript(img);
    if (opt.scriptLanguages().isEmpty()) {
      return new OcrPage(first, langs, seen);
    }
    // Script detection is unsure on pages that mix scripts, so each mapped language set is tried, the one for the
    // detected script first, and the best reading that passes the gate wins.
    List<Map.Entry<UnicodeScript, List<String>>> candidates = new ArrayList<>(opt.scriptLanguages().entrySet());
    candidates.sort(Comparator.comparing(e -> e.getKey() == seen ? 0 : 1));
    OcrPage best = new OcrPage(first, langs, seen);
    int tried = 0;
    for (Map.Entry<UnicodeScript, List<String>> e : candidates) {
      List<String> mapped = e.getValue();
      if (mapped.equals(langs) || engine.unavailableReason(mapped).isPresent() || tried++ >= 3) {
        continue;
      }
      OcrGate.Outcome o = OcrGate.gate(engine.recognize(img, mapped));
      if (o.usable() && (!best.outcome().usable() || o.keptLetters() > best.outcome().keptLetters())) {
        best = new OcrPage(o, mapped, e.getKey());
      }
    }
    return best;
  }

  private PageLayout resolve(PendingOcr pending, Part part) {
    int p = pending.pageNo();
    OcrPage page;
    try {
      page = scheduler.await(pending.result());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for OCR", e);
    } catch (ExecutionException e) {
      part.issues.add(new PageIssue(p, PageIssue.Kind.UNREADABLE, "OCR failed: " + e.getCause()));
      return pending.fallback();
    }
    OcrGate.Outcome o = page.outcome();
    if (!o.usable()) {
      if (pending.fallback() != null) {
        // OcrMode.ALWAYS on a page whose own text layer is fine: keep that rather than emit nothing.
        return pending.fallback();
      }
      UnicodeScript s = page.script();
      String hint = s != UnicodeScript.UNKNOWN && s != UnicodeScript.LATIN && s != UnicodeScript.COMMON
          ? "; Tesseract's script detection sees " + s + " script, which " + String.join("+", page.languages())
              + " does not read: map it with PdfCorpus.Builder.scriptLanguages (e.g. " + exampleLanguage(s) + ")"
          : "; the page's script may not be covered by " + String.join("+", page.languages());
      part.issues.add(new PageIssue(p, PageIssue.Kind.UNREADABLE, o.reason() + hint));
      return null;
    }
    if (o.dropped() > 0) {
      part.issues.add(new PageIssue(p, PageIssue.Kind.PARTLY_UNREADABLE, "dropped OCR lines that failed the "
          + "confidence gate (" + o.stats() + ")"));
    }
    part.ocrPages.add(p);
    return new PageLayout(p, pending.width(), pending.height(), List.of(), List.of(),
        paragraphs(o.text(), part.vocabulary));
  }

  private static String exampleLanguage(UnicodeScript s) {
    return switch (s) {
      case CYRILLIC -> "CYRILLIC -> \"rus\"";
      case HAN -> "HAN -> \"chi_sim\"";
      case ARABIC -> "ARABIC -> \"ara\"";
      case GREEK -> "GREEK -> \"ell\"";
      case HEBREW -> "HEBREW -> \"heb\"";
      case HIRAGANA, KATAKANA -> "HIRAGANA -> \"jpn\"";
      case HANGUL -> "HANGUL -> \"kor\"";
      case DEVANAGARI -> "DEVANAGARI -> \"hin\"";
      default -> s + " -> its Tesseract language";
    };
  }

  private static PageLayout textLayout(RawPage raw, Set<String> vocabulary) {
    TableFinder.Found found = TableFinder.find(raw.edges(), raw.glyphs());
    List<Segment> segs = new ArrayList<>();
    List<List<Glyph>> lines = LineBuilder.lines(found.rest());
    float[] gutters = Columns.gutters(lines, raw.width());
    for (List<Glyph> line : lines) {
      for (Segment s : LineBuilder.segments(line, LineBuilder.SEGMENT_GAP_EM, gutters)) {
        if (!s.text().isBlank()) {
          segs.add(s);
          TextNormalizer.collectHyphenated(s.text(), vocabulary);
        }
      }
    }
    return new PageLayout(raw.pageNo(), raw.width(), raw.height(), segs, found.tables(), null, gutters);
  }

  private static String spaced(List<Glyph> glyphs) {
    StringBuilder sb = new StringBuilder(glyphs.size() * 2);
    Glyph prev = null;
    for (Glyph g : glyphs) {
      if (prev != null && (g.x() < prev.x() || g.x() - prev.right() > 0.2f * g.fontSize())) {
        sb.append(' ');
      }
      sb.append(g.text());
      prev = g;
    }
    return sb.toString();
  }

  static List<String> paragraphs(String ocrText, Set<String> vocabulary) {
    List<String> out = new ArrayList<>();
    for (String para : ocrText.split("\\n\\s*\\n")) {
      StringBuilder sb = new StringBuilder();
      for (String line : para.split("\\n")) {
        String l = TextNormalizer.normalize(line).trim();
        if (l.isEmpty()) {
          continue;
        }
        TextNormalizer.collectHyphenated(l, vocabulary);
        // OCR loses font cues, so a numbered heading line is set apart from the text around it by pattern alone.
        boolean heading = Blocks.numberedLevel(l) > 0 && Blocks.headingShaped(l, true) && l.split("\\s+").length <= 12;
        if (heading) {
          if (sb.length() > 0) {
            out.add(sb.toString());
            sb.setLength(0);
          }
          out.add(l);
          continue;
        }
        TextNormalizer.appendLine(sb, l, vocabulary);
      }
      if (sb.length() > 0) {
        out.add(sb.toString());
      }
    }
    return out;
  }

  private static List<OutlineEntry> outline(PDDocument doc) {
    List<OutlineEntry> out = new ArrayList<>();
    try {
      PDDocumentOutline root = doc.getDocumentCatalog().getDocumentOutline();
      if (root != null) {
        Map<PDPage, Integer> index = new HashMap<>();
        walk(doc, root, 1, out, index, new HashSet<>());
      }
    } catch (IOException | RuntimeException e) {
      // A broken outline only costs us the bookmarks; numbered headings and font cues still give section paths.
      LOG.debug("ignoring unreadable outline: {}", e.toString());
      out.clear();
    }
    return out;
  }

  private static void walk(PDDocument doc, PDOutlineNode node, int level, List<OutlineEntry> out,
      Map<PDPage, Integer> index, Set<PDOutlineItem> seen) throws IOException {
    for (PDOutlineItem item : node.children()) {
      if (!seen.add(item) || out.size() > 10_000) {
        return;
      }
      String title = item.getTitle() == null ? "" : TextNormalizer.normalize(item.getTitle()).trim();
      PDPageDestination dest = destination(doc, item);
      PDPage page = dest == null ? null : dest.getPage();
      if (page == null && dest != null && dest.getPageNumber() >= 0 && dest.getPageNumber() < doc.getNumberOfPages()) {
        page = doc.getPage(dest.getPageNumber());
      }
      if (page != null && !title.isEmpty()) {
        int pageNo = index.computeIfAbsent(page, pg -> doc.getPages().indexOf(pg)) + 1;
        float top = Float.NaN;
        float destTop = destinationTop(dest);
        if (destTop >= 0) {
          top = page.getCropBox().getUpperRightY() - destTop;
        }
        if (pageNo > 0) {
          out.add(new OutlineEntry(title, level, pageNo, top));
        }
      }
      walk(doc, item, level + 1, out, index, seen);
    }
  }

  /**
   * The page destination of an outline item, from its /Dest or from a GoTo action's /D (what LaTeX's hyperref
   * writes), named destinations resolved; null when it has none.
   */
  private static PDPageDestination destination(PDDocument doc, PDOutlineItem item) throws IOException {
    PDDestination dest = item.getDestination();
    if (dest == null && item.getAction() instanceof PDActionGoTo goTo) {
      dest = goTo.getDestination();
    }
    if (dest instanceof PDNamedDestination named) {
      dest = doc.getDocumentCatalog().findNamedDestinationPage(named);
    }
    return dest instanceof PDPageDestination pd ? pd : null;
  }

  /** The destination's top in PDF user space, or -1 when it has none (Fit, FitV, a null top). */
  private static float destinationTop(PDPageDestination dest) {
    if (dest instanceof PDPageXYZDestination xyz) {
      return xyz.getTop();
    }
    if (dest instanceof PDPageFitWidthDestination fh) {
      return fh.getTop();
    }
    if (dest instanceof PDPageFitRectangleDestination fr) {
      return fr.getTop();
    }
    return -1;
  }
}
