package dev.securetag.pdf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.core.BlockKind;
import dev.securetag.core.TextBlock;
import dev.securetag.pdf.internal.OcrEngine;
import dev.securetag.testing.PdfLayoutWriter;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.Character.UnicodeScript;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.rendering.ImageType;
import org.apache.pdfbox.rendering.PDFRenderer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OCR quality gate on real pages in scripts that spa+eng does not read (Arabic slides with a broken text layer,
 * scans of Cyrillic and Chinese pages): no look-alike noise is emitted, and a script mapped to its Tesseract
 * language is read. Skipped, with the reason, where Tesseract (or the language data a test maps to) is missing.
 */
class PdfCorpusRealPdfOcrTest {

  @TempDir Path dir;

  private static void assumeTesseract(String... langs) {
    OcrEngine engine = OcrEngine.create(List.of(langs));
    Assumptions.assumeTrue(engine.unavailableReason().isEmpty(),
        () -> "Tesseract not installed: " + engine.unavailableReason().orElse(""));
  }

  /**
   * A text page followed by an image-only copy of one page of a real PDF (what a scanner makes of the printed page).
   */
  private Path scanOf(String name, int page) throws IOException {
    BufferedImage img;
    try (PDDocument doc = Loader.loadPDF(RealPdfs.pdf(name).toFile())) {
      img = new PDFRenderer(doc).renderImageWithDPI(page - 1, 200, ImageType.GRAY);
    }
    return TestPdfs.writeStandard(dir.resolve("scan-of-" + name), w -> {
      w.paragraph("Cover page with a text layer.");
      w.imagePage(img, List.of());
    });
  }

  private static String text(ExtractedDocument d, int page) {
    return d.blocks().stream().filter(b -> b.source().page() == page).map(TextBlock::text)
        .collect(Collectors.joining("\n"));
  }

  @Test
  void dropsOcrNoiseFromArabicSlidesAndReportsThePageItCannotRead() {
    assumeTesseract("spa", "eng");
    // The Arabic glyphs of test_beamer.pdf have no Unicode: pages 1, 2 and 7 need OCR, which reads Arabic as
    // "(6 pled} & ple)" with Latin models.
    ExtractedDocument d;
    try (PdfCorpus c = PdfCorpus.builder().build()) {
      d = c.extract(RealPdfs.pdf("test_beamer.pdf"));
    }
    List<PageIssue> issues = d.report().pageIssues();
    assertThat(issues).filteredOn(i -> i.page() == 7).singleElement().satisfies(i -> {
      assertThat(i.kind()).isEqualTo(PageIssue.Kind.UNREADABLE);
      assertThat(i.message()).contains("scriptLanguages");
    });
    assertThat(text(d, 7)).isEmpty();
    assertThat(issues).filteredOn(i -> i.page() == 1).singleElement()
        .satisfies(i -> assertThat(i.kind()).isEqualTo(PageIssue.Kind.PARTLY_UNREADABLE));
    String page1 = text(d, 1);
    assertThat(page1).contains("Example Presentation Created with the Beamer Package").contains("December 4, 2006");
    // Every word OCR emitted for the slides is a word printed on them (the reference is pdftotext's reading).
    String ocr = d.blocks().stream().filter(b -> b.kind() == BlockKind.OCR_TEXT).map(TextBlock::text)
        .collect(Collectors.joining("\n"));
    assertThat(RealPdfs.wordPrecision(RealPdfs.pdftotext("test_beamer.pdf"), ocr)).as(ocr).isGreaterThanOrEqualTo(0.8);
    assertThat(d.blocks()).noneMatch(b -> b.kind() == BlockKind.HEADING && b.source().page() == 7);
  }

  @Test
  void emitsNoNoiseForScannedCyrillicAndChinesePagesWithSpanishAndEnglish() throws IOException {
    assumeTesseract("spa", "eng");
    // Measured: 1.00 on the Cyrillic scan; 0.89 on the Chinese one, whose dates (2022年11月29日) still come out as
    // "2022411 A 29H" (digits read with high confidence). Before the gate: 0.47 and 0.50, and no page issue.
    Map<String, Double> minPrecision = Map.of("numnameru.pdf", 0.95, "example-chinese.pdf", 0.85);
    for (String name : List.of("numnameru.pdf", "example-chinese.pdf")) {
      Path scan = scanOf(name, 1);
      ExtractedDocument d;
      try (PdfCorpus c = PdfCorpus.builder().languages("spa", "eng").build()) {
        d = c.extract(scan);
      }
      List<PageIssue> issues = d.report().pageIssues();
      assertThat(issues).as("issues for the scan of %s", name).singleElement().satisfies(i -> {
        assertThat(i.page()).isEqualTo(2);
        assertThat(i.kind()).isIn(PageIssue.Kind.UNREADABLE, PageIssue.Kind.PARTLY_UNREADABLE);
      });
      // What is emitted is the page's English, never Latin look-alikes of its Cyrillic or Chinese.
      String emitted = text(d, 2);
      double precision = RealPdfs.wordPrecision(RealPdfs.pdftotext(name), emitted);
      System.out.printf(java.util.Locale.ROOT, "scan of %s with spa+eng: word precision %.3f%n", name, precision);
      assertThat(precision).as("%s: %s", name, emitted).isGreaterThanOrEqualTo(minPrecision.get(name));
    }
  }

  @Test
  void readsAScannedCyrillicPageWithTheLanguageMappedToItsScript() throws IOException {
    assumeTesseract("spa", "eng");
    OcrEngine rus = OcrEngine.create(List.of("rus", "eng"));
    Assumptions.assumeTrue(rus.unavailableReason().isEmpty(),
        () -> "Russian traineddata not installed (Debian: tesseract-ocr-rus): " + rus.unavailableReason().orElse(""));
    Path scan = scanOf("numnameru.pdf", 1);
    ExtractedDocument d;
    try (PdfCorpus c = PdfCorpus.builder().languages("spa", "eng")
        .scriptLanguages(Map.of(UnicodeScript.CYRILLIC, "rus+eng")).build()) {
      d = c.extract(scan);
    }
    assertThat(d.report().ocrPages()).containsExactly(2);
    String emitted = text(d, 2);
    String reference = RealPdfs.pdftotext("numnameru.pdf");
    assertThat(emitted).contains("Внимание").contains("миллиарда");
    assertThat(RealPdfs.wordF1(reference, emitted)).as(emitted).isGreaterThanOrEqualTo(0.85);
  }

  @Test
  void ocrsScannedPagesOfSeveralDocumentsAndKeepsTheirOrder() throws IOException {
    assumeTesseract("spa", "eng");
    // Three scanned pages in one document, one in another, and a text document between them: the pages are OCR'd
    // on all threads at once, and blocks still come out document by document, page by page.
    List<BufferedImage> pages = new ArrayList<>();
    try (PDDocument doc = Loader.loadPDF(RealPdfs.pdf("slides.pdf").toFile())) {
      for (int p = 1; p <= 3; p++) {
        pages.add(new PDFRenderer(doc).renderImageWithDPI(p, 200, ImageType.GRAY));
      }
    }
    Path a = TestPdfs.writeStandard(dir.resolve("docs/a-scan.pdf"), w -> pages.forEach(img -> w.imagePage(img,
        List.of())));
    TestPdfs.writeStandard(dir.resolve("docs/b-text.pdf"), w -> w.paragraph("A page with a text layer."));
    Path c2 = TestPdfs.writeStandard(dir.resolve("docs/c-scan.pdf"), w -> w.imagePage(PdfLayoutWriter.renderScan(
        PdfCorpusOcrTest.ENGLISH, 12f), List.of()));
    List<TextBlock> blocks = new ArrayList<>();
    CorpusReport report;
    try (PdfCorpus c = PdfCorpus.builder().add(dir.resolve("docs")).threads(2).build()) {
      report = c.forEach(blocks::add);
    }
    assertThat(report.documents()).extracting(DocumentReport::document)
        .containsExactly("a-scan.pdf", "b-text.pdf", "c-scan.pdf");
    assertThat(report.documents().get(0).ocrPages()).containsExactly(1, 2, 3);
    assertThat(report.documents().get(2).ocrPages()).containsExactly(1);
    List<String> order = blocks.stream().map(b -> b.source().document() + "#" + b.source().page()).distinct().toList();
    assertThat(order).containsExactly("a-scan.pdf#1", "a-scan.pdf#2", "a-scan.pdf#3", "b-text.pdf#1", "c-scan.pdf#1");
    String scanned = blocks.stream().filter(b -> b.source().document().equals(a.getFileName().toString()))
        .map(TextBlock::text).collect(Collectors.joining("\n"));
    assertThat(scanned).contains("Prepare before the incident").contains("Detection and analysis")
        .contains("Containment");
    assertThat(blocks.stream().filter(b -> b.source().document().equals(c2.getFileName().toString()))
        .map(TextBlock::text).collect(Collectors.joining(" "))).contains("incident manager");
  }
}
