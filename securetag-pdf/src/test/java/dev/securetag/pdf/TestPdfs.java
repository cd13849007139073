package dev.securetag.pdf;

import dev.securetag.testing.PdfLayoutWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.font.PDType0Font;

/** Generates test PDFs with PDFBox and the DejaVu fonts copied into the test resources (embedded subsets). */
final class TestPdfs {

  private TestPdfs() {}

  /** Writes a PDF with embedded DejaVu Sans / DejaVu Sans Bold to {@code target}. */
  static Path write(Path target, Consumer<PdfLayoutWriter> content) {
    PDDocument doc = new PDDocument();
    try (PdfLayoutWriter w = new PdfLayoutWriter(doc, font(doc, "DejaVuSans.ttf"), font(doc, "DejaVuSans-Bold.ttf"))) {
      content.accept(w);
      w.save(target);
    }
    return target;
  }

  /** Writes a PDF with the Standard 14 Helvetica fonts. */
  static Path writeStandard(Path target, Consumer<PdfLayoutWriter> content) {
    try (PdfLayoutWriter w = PdfLayoutWriter.standard14()) {
      content.accept(w);
      w.save(target);
    }
    return target;
  }

  private static PDType0Font font(PDDocument doc, String name) {
    try (InputStream in = TestPdfs.class.getResourceAsStream("/fonts/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing test font " + name);
      }
      return PDType0Font.load(doc, in, true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
