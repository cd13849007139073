package dev.securetag.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PdfLayoutWriterTest {

  @TempDir Path dir;

  @Test
  void writesHeadingsBookmarksTablesAndRunningFootersThatPdfBoxReadsBack() throws IOException {
    Path file = dir.resolve("doc.pdf");
    try (PdfLayoutWriter w = PdfLayoutWriter.standard14()) {
      w.footer("Page %d of %d");
      w.heading("1 Scope", 14, 1);
      w.paragraph("This policy applies to every information system.");
      w.table(List.of(List.of("Control", "Owner"), List.of("A.5.1", "CISO")), new float[] {0.5f, 0.5f}, true);
      w.newPage();
      w.heading("2 Roles", 14, 1);
      w.bullet("a)", "the owner approves the policy;");
      w.save(file);
    }
    try (PDDocument doc = Loader.loadPDF(file.toFile())) {
      assertThat(doc.getNumberOfPages()).isEqualTo(2);
      String text = new PDFTextStripper().getText(doc);
      assertThat(text).contains("1 Scope", "A.5.1", "CISO", "2 Roles", "a) the owner approves the policy;",
          "Page 1 of 2", "Page 2 of 2");
      assertThat(doc.getDocumentCatalog().getDocumentOutline().getFirstChild().getTitle()).isEqualTo("1 Scope");
    }
  }
}
