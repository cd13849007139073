package dev.securetag.pdf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.core.BlockKind;
import dev.securetag.core.TextBlock;
import dev.securetag.pdf.internal.OcrEngine;
import dev.securetag.testing.PdfLayoutWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OCR routing: an image-only page and a page whose text layer is garbage are OCR'd with Tesseract (spa+eng) at
 * 300 dpi. Tests that need Tesseract are skipped, with the reason, only when it is not installed.
 */
class PdfCorpusOcrTest {

  @TempDir Path dir;

  static final List<String> SPANISH = List.of(
      "Requisito 8.3.1 Autenticación de usuarios",
      "Todo acceso de los usuarios a los componentes del sistema se autentica mediante al menos uno de los "
          + "siguientes factores: algo que el usuario sabe, como una contraseña o frase de paso.",
      "Las contraseñas deben tener una longitud mínima de doce caracteres y contener letras y números.");

  static final List<String> ENGLISH = List.of(
      "Incident response procedures shall be documented, tested at least annually and updated after every "
          + "major security incident affecting customer data.",
      "The security team reviews audit logs daily and escalates suspicious events to the incident manager.");

  /** Caesar-shifted copy of the English text: what a font with a broken encoding looks like when extracted. */
  static List<String> garbage(List<String> lines) {
    return lines.stream().map(l -> l.chars().mapToObj(c -> Character.isLetter(c)
        ? String.valueOf((char) ('a' + (Character.toLowerCase(c) - 'a' + 7) % 26)) : String.valueOf((char) c))
        .collect(Collectors.joining())).toList();
  }

  private static void assumeTesseract() {
    OcrEngine engine = OcrEngine.create(List.of("spa", "eng"));
    Assumptions.assumeTrue(engine.unavailableReason().isEmpty(),
        () -> "Tesseract not installed: " + engine.unavailableReason().orElse(""));
  }

  static double wordRecall(List<String> expected, String actual) {
    Map<String, Integer> got = new HashMap<>();
    for (String w : words(actual)) {
      got.merge(w, 1, Integer::sum);
    }
    int total = 0;
    int hit = 0;
    for (String line : expected) {
      for (String w : words(line)) {
        total++;
        Integer n = got.get(w);
        if (n != null && n > 0) {
          hit++;
          got.put(w, n - 1);
        }
      }
    }
    return total == 0 ? 0 : (double) hit / total;
  }

  private static List<String> words(String s) {
    return Arrays.stream(s.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}.]+"))
        .map(w -> w.replaceAll("^\\.+|\\.+$", "")).filter(w -> !w.isEmpty()).toList();
  }

  @Test
  void ocrsImageOnlyPageAndGarbageTextLayerWithSpanishAndEnglish() {
    assumeTesseract();
    Path f = TestPdfs.writeStandard(dir.resolve("scan.pdf"), w -> {
      w.imagePage(PdfLayoutWriter.renderScan(SPANISH, 12f), List.of());
      w.imagePage(PdfLayoutWriter.renderScan(ENGLISH, 12f), garbage(ENGLISH));
    });
    ExtractedDocument d;
    try (PdfCorpus c = PdfCorpus.builder().add(f).ocr(OcrMode.AUTO).languages("spa", "eng").build()) {
      d = c.extract(f);
    }
    assertThat(d.report().ocrPages()).containsExactly(1, 2);
    String page1 = d.blocks().stream().filter(b -> b.source().page() == 1).map(TextBlock::text)
        .collect(Collectors.joining("\n"));
    String page2 = d.blocks().stream().filter(b -> b.source().page() == 2).map(TextBlock::text)
        .collect(Collectors.joining("\n"));
    assertThat(wordRecall(SPANISH, page1)).isGreaterThanOrEqualTo(0.95);
    assertThat(wordRecall(ENGLISH, page2)).isGreaterThanOrEqualTo(0.95);
    assertThat(page1).contains("contraseñas");
    assertThat(d.blocks()).allMatch(b -> b.kind() == BlockKind.OCR_TEXT || b.kind() == BlockKind.HEADING);
    TextBlock heading = d.blocks().get(0);
    assertThat(heading.kind()).isEqualTo(BlockKind.HEADING);
    assertThat(heading.text()).isEqualTo("Requisito 8.3.1 Autenticación de usuarios");
    assertThat(d.blocks().get(1).source().section()).isEqualTo("Requisito 8.3.1 Autenticación de usuarios");
  }

  @Test
  void reportsGarbageAndImageOnlyPagesWhenOcrIsOff() {
    Path f = TestPdfs.writeStandard(dir.resolve("mixed.pdf"), w -> {
      w.paragraph("This page has a normal text layer that is perfectly usable for the dataset.");
      w.imagePage(PdfLayoutWriter.renderScan(List.of("Scanned text."), 12f), List.of());
      w.imagePage(PdfLayoutWriter.renderScan(List.of("Hidden."), 12f), garbage(ENGLISH));
    });
    ExtractedDocument d;
    try (PdfCorpus c = PdfCorpus.builder().add(f).ocr(OcrMode.OFF).build()) {
      d = c.extract(f);
    }
    assertThat(d.blocks()).extracting(TextBlock::text)
        .containsExactly("This page has a normal text layer that is perfectly usable for the dataset.");
    assertThat(d.report().pageIssues()).extracting(PageIssue::page, PageIssue::kind).containsExactly(
        org.assertj.core.groups.Tuple.tuple(2, PageIssue.Kind.LOW_QUALITY_TEXT),
        org.assertj.core.groups.Tuple.tuple(3, PageIssue.Kind.LOW_QUALITY_TEXT));
    assertThat(d.report().pageIssues().get(1).message()).contains("text layer looks unusable");
  }

  @Test
  void reportsPageAsOcrUnavailableWhenOcrLanguageIsMissing() {
    // Holds with and without Tesseract installed: either the language data or Tesseract itself is missing.
    Path f = TestPdfs.writeStandard(dir.resolve("nolang.pdf"), w -> {
      w.paragraph("Readable first page.");
      w.imagePage(PdfLayoutWriter.renderScan(List.of("Scanned text."), 12f), List.of());
    });
    ExtractedDocument d;
    try (PdfCorpus c = PdfCorpus.builder().add(f).ocr(OcrMode.AUTO).languages("zzz").build()) {
      assertThat(c.ocrUnavailableReason()).hasValueSatisfying(r -> assertThat(r).contains("zzz"));
      d = c.extract(f);
    }
    assertThat(d.blocks()).extracting(TextBlock::text).containsExactly("Readable first page.");
    assertThat(d.report().ok()).isTrue();
    assertThat(d.report().pageIssues()).singleElement().satisfies(i -> {
      assertThat(i.page()).isEqualTo(2);
      assertThat(i.kind()).isEqualTo(PageIssue.Kind.OCR_UNAVAILABLE);
      assertThat(i.message()).contains("image-only page").contains("zzz").contains("tesseract-ocr-zzz");
    });
  }

  @Test
  void skipsScannedDocumentAndSaysWhatToInstallWhenTesseractDataIsAbsent() throws Exception {
    Path emptyTessdata = java.nio.file.Files.createDirectories(dir.resolve("empty-tessdata"));
    Path scan = TestPdfs.writeStandard(dir.resolve("docs/scan.pdf"), w ->
        w.imagePage(PdfLayoutWriter.renderScan(ENGLISH, 12f), List.of()));
    Path text = TestPdfs.writeStandard(dir.resolve("docs/text.pdf"), w ->
        w.paragraph("A page with a text layer needs no OCR at all."));
    List<TextBlock> blocks = new java.util.ArrayList<>();
    CorpusReport report;
    try (PdfCorpus c = PdfCorpus.builder().add(dir.resolve("docs")).ocr(OcrMode.AUTO).languages("spa", "eng")
        .tessdata(emptyTessdata).build()) {
      assertThat(c.ocrUnavailableReason()).hasValueSatisfying(r -> assertThat(r)
          .contains(emptyTessdata.toString()).contains("[spa, eng]").contains("tesseract-ocr-spa"));
      report = c.forEach(blocks::add);
      assertThat(org.assertj.core.api.Assertions.catchThrowableOfType(() -> c.extract(scan),
          PdfExtractionException.class).kind()).isEqualTo(PdfErrorKind.OCR_UNAVAILABLE);
    }
    assertThat(blocks).extracting(TextBlock::text).containsExactly("A page with a text layer needs no OCR at all.");
    assertThat(report.failures()).isEmpty();
    assertThat(report.skipped()).singleElement().satisfies(d -> {
      assertThat(d.file()).isEqualTo(scan);
      assertThat(d.errorKind()).contains(PdfErrorKind.OCR_UNAVAILABLE);
      assertThat(d.pageIssues()).extracting(PageIssue::kind).containsExactly(PageIssue.Kind.OCR_UNAVAILABLE);
      assertThat(d.error().orElseThrow().getMessage()).contains("scan.pdf").contains("needs OCR (image-only page)")
          .contains("tesseract-ocr-spa");
    });
    assertThat(report.ocrUnavailablePages()).isEqualTo(1);
    assertThat(report.summary()).contains("scan.pdf: skipped: OCR unavailable").doesNotContain("FAILED")
        .contains(text.getFileName() + ": 1 pages, 1 blocks");
  }

  @Test
  void ocrUnavailableReasonIsEmptyWhenOcrIsOffOrTesseractIsInstalled() {
    try (PdfCorpus off = PdfCorpus.builder().ocr(OcrMode.OFF).languages("zzz").build()) {
      assertThat(off.ocrUnavailableReason()).isEmpty();
    }
    OcrEngine engine = OcrEngine.create(List.of("spa", "eng"));
    try (PdfCorpus auto = PdfCorpus.builder().languages("spa", "eng").build()) {
      assertThat(auto.ocrUnavailableReason()).isEqualTo(engine.unavailableReason());
    }
  }

  @Test
  void findsNoOcrWhereCiHidTesseract() {
    // .ci/without-optional sets this while it hides Tesseract: proves the JDK-only run really ran without OCR.
    Assumptions.assumeTrue("true".equals(System.getenv("SECURETAG_WITHOUT_OPTIONAL")),
        "only in CI's run with the optional native parts hidden");
    assertThat(OcrEngine.create(List.of("spa", "eng")).unavailableReason())
        .hasValueSatisfying(r -> assertThat(r).contains("traineddata missing").contains("tesseract-ocr-spa"));
  }
}
