package dev.securetag.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.securetag.testing.SampleCorpus;
import dev.securetag.pdf.internal.OcrEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.graphics.PDXObject;
import org.apache.pdfbox.pdmodel.graphics.image.PDImageXObject;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sample PDFs committed under examples/sample-pdfs are what {@link SampleCorpus} generates. */
class SamplePdfsTest {
  private static final Path SCANNED = Paths.get("sample-pdfs", "scanned-incident-procedure.pdf");

  @Test
  void committedSamplePdfsMatchTheGenerator(@TempDir Path dir) throws Exception {
    List<Path> generated = SampleCorpus.writeTo(dir);
    assertThat(generated).hasSameSizeAs(SampleCorpus.FILES);
    for (Path g : generated) {
      Path committed = Paths.get("sample-pdfs").resolve(g.getFileName());
      assertThat(committed).as("regenerate with SampleCorpus.writeTo(examples/sample-pdfs)").exists();
      if (g.getFileName().toString().startsWith("scanned")) {
        // The scan's pixels depend on which substitute font the machine offers for Helvetica, so its bytes are not
        // compared; its structure is, here and in the tests below.
        ScanPage want = imageOnlyPage(g);
        ScanPage got = imageOnlyPage(committed);
        assertThat(got).usingRecursiveComparison().ignoringFields("inkFraction").isEqualTo(want);
        // Substitute fonts differ a little in stroke weight, not in what is printed.
        assertThat(got.inkFraction()).isCloseTo(want.inkFraction(), within(0.01));
        continue;
      }
      assertThat(Files.readAllBytes(committed)).as(g.getFileName().toString()).isEqualTo(Files.readAllBytes(g));
    }
  }

  @Test
  void scannedSampleIsOneGrayImageAt300DpiWithNoTextLayer() throws IOException {
    ScanPage p = imageOnlyPage(SCANNED);
    // Letter paper (612 x 792 pt) scanned at 300 dpi, 8-bit gray, drawn over the whole page: 2550 x 3300 pixels
    // within one (PDFBox truncates 792 / 72 * 300 computed in float to 3299).
    assertThat(p.pageWidthPt()).isEqualTo(PDRectangle.LETTER.getWidth());
    assertThat(p.pageHeightPt()).isEqualTo(PDRectangle.LETTER.getHeight());
    assertThat((double) p.widthPx()).isCloseTo(p.pageWidthPt() / 72.0 * OcrEngine.DPI, within(1.0));
    assertThat((double) p.heightPx()).isCloseTo(p.pageHeightPt() / 72.0 * OcrEngine.DPI, within(1.0));
    assertThat(p.components()).isEqualTo(1);
    assertThat(p.bitsPerComponent()).isEqualTo(8);
    // Mostly white paper with dark type: some ink, but far from a blank or an inverted page.
    assertThat(p.inkFraction()).isBetween(0.005, 0.2);
  }

  @Test
  void ocrOfTheScannedSampleRecoversThePrintedWords() throws Exception {
    OcrEngine ocr = OcrEngine.create(List.of("eng"));
    Optional<String> unavailable = ocr.unavailableReason();
    assumeTrue(unavailable.isEmpty(), () -> "Tesseract is not available: " + unavailable.orElse(""));
    String text;
    try (PDDocument doc = Loader.loadPDF(SCANNED.toFile())) {
      text = ocr.ocrPage(doc, 1);
    }
    Set<String> seen = words(text).stream().collect(Collectors.toSet());
    List<String> printed = words(String.join(" ", SampleCorpus.SCANNED_TEXT));
    List<String> missed = printed.stream().filter(w -> !seen.contains(w)).toList();
    double recall = 1.0 - (double) missed.size() / printed.size();
    System.out.printf(Locale.ROOT, "OCR of %s: %d of %d printed words recovered (%.1f%%), missed %s%n", SCANNED,
        printed.size() - missed.size(), printed.size(), 100 * recall, missed);
    assertThat(printed).hasSizeGreaterThan(50);
    assertThat(recall).as("word recall, missed %s", missed).isGreaterThanOrEqualTo(0.95);
    assertThat(text).contains("Incident Response Procedure");
  }

  private static List<String> words(String s) {
    return Arrays.stream(s.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")).filter(w -> !w.isEmpty()).toList();
  }

  /** The structure of a one-page scan: page size, the single image's pixel format, and how much of it is ink. */
  record ScanPage(float pageWidthPt, float pageHeightPt, int widthPx, int heightPx, int components,
      int bitsPerComponent, double inkFraction) {}

  /** Asserts the file is one page holding exactly one image and no extractable text, and describes it. */
  private static ScanPage imageOnlyPage(Path pdf) throws IOException {
    try (PDDocument doc = Loader.loadPDF(pdf.toFile())) {
      assertThat(doc.getNumberOfPages()).as(pdf.toString()).isEqualTo(1);
      assertThat(new PDFTextStripper().getText(doc)).as(pdf + " text layer").isBlank();
      PDPage page = doc.getPage(0);
      List<PDImageXObject> images = new ArrayList<>();
      for (COSName name : page.getResources().getXObjectNames()) {
        PDXObject x = page.getResources().getXObject(name);
        assertThat(x).as(pdf + " XObject " + name.getName()).isInstanceOf(PDImageXObject.class);
        images.add((PDImageXObject) x);
      }
      assertThat(images).as(pdf + " images").hasSize(1);
      PDImageXObject img = images.get(0);
      var raster = img.getImage().getRaster();
      long ink = 0;
      int[] row = new int[raster.getWidth()];
      for (int y = 0; y < raster.getHeight(); y++) {
        raster.getSamples(0, y, raster.getWidth(), 1, 0, row);
        for (int v : row) {
          ink += v < 128 ? 1 : 0;
        }
      }
      PDRectangle box = page.getMediaBox();
      return new ScanPage(box.getWidth(), box.getHeight(), img.getWidth(), img.getHeight(),
          img.getColorSpace().getNumberOfComponents(), img.getBitsPerComponent(),
          (double) ink / ((long) raster.getWidth() * raster.getHeight()));
    }
  }
}
