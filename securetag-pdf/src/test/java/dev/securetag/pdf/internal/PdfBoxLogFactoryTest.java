package dev.securetag.pdf.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.junit.jupiter.api.Test;

/** PDFBox's warnings while a document is extracted: counted and demoted to DEBUG; elsewhere untouched. */
class PdfBoxLogFactoryTest {

  @Test
  void isTheFactoryCommonsLoggingFinds() {
    assertThat(LogFactory.getFactory()).isInstanceOf(PdfBoxLogFactory.class);
  }

  @Test
  void countsAndDemotesPdfBoxWarningsOnlyDuringCapture() {
    Log pdfbox = LogFactory.getLog("org.apache.pdfbox.pdmodel.font.PDSimpleFont");
    Log other = LogFactory.getLog("com.example.Other");
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PdfBoxLogFactory.Capture capture = new PdfBoxLogFactory.Capture();
    // slf4j-simple (the test binding) writes WARN and above to System.err at each call.
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      PdfBoxLogFactory.Scope scope = PdfBoxLogFactory.capture(capture);
      try {
        pdfbox.warn("No Unicode mapping for a1 (1) in font F1");
        pdfbox.error("Could not read ToUnicode CMap in font F2");
        other.warn("an application warning");
      } finally {
        scope.close();
      }
      pdfbox.warn("outside any extraction");
    } finally {
      System.setErr(saved);
    }
    String log = err.toString(StandardCharsets.UTF_8);
    assertThat(capture.count()).isEqualTo(2);
    assertThat(capture.first()).isEqualTo("No Unicode mapping for a1 (1) in font F1");
    assertThat(log).doesNotContain("No Unicode mapping").doesNotContain("Could not read ToUnicode")
        .contains("an application warning").contains("outside any extraction");
  }
}
