package dev.securetag.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sample corpus is deterministic; what securetag-pdf extracts from it is checked in its PdfCorpusSampleCorpusTest. */
class SampleCorpusTest {

  @TempDir Path dir;

  @Test
  void writesFourDeterministicPdfs() throws IOException {
    List<Path> a = SampleCorpus.writeTo(dir.resolve("a"));
    List<Path> b = SampleCorpus.writeTo(dir.resolve("b"));
    assertThat(a).extracting(p -> p.getFileName().toString()).containsExactlyElementsOf(SampleCorpus.FILES);
    for (int i = 0; i < a.size(); i++) {
      assertThat(Files.readAllBytes(a.get(i))).isEqualTo(Files.readAllBytes(b.get(i)));
      assertThat(Files.size(a.get(i))).isLessThan(1_500_000);
    }
  }

  @Test
  void textPagesCarryTheirTextAndTheScannedPageOnlyAnImage() throws IOException {
    List<Path> files = SampleCorpus.writeTo(dir);
    try (PDDocument iso = Loader.loadPDF(files.get(0).toFile())) {
      assertThat(new PDFTextStripper().getText(iso)).contains("A.5.1", "Information Security Policy", "Asset means any item");
    }
    try (PDDocument scan = Loader.loadPDF(files.get(3).toFile())) {
      assertThat(scan.getNumberOfPages()).isEqualTo(1);
      assertThat(new PDFTextStripper().getText(scan).strip()).isEmpty();
      assertThat(scan.getPage(0).getResources().getXObjectNames()).isNotEmpty();
    }
  }
}
