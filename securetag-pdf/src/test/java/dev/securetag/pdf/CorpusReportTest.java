package dev.securetag.pdf;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CorpusReportTest {

  @Test
  void sumsDocumentsAndListsFailures() {
    DocumentReport ok = new DocumentReport(Path.of("/data/a.pdf"), 10, 40, 3, List.of(4), Duration.ofMillis(120),
        List.of(new PageIssue(7, PageIssue.Kind.BLANK, "page has no text")), List.of(), Optional.empty());
    DocumentReport bad = new DocumentReport(Path.of("/data/b.pdf"), 0, 0, 0, List.of(), Duration.ofMillis(3),
        List.of(), List.of(), Optional.of(new PdfExtractionException(PdfErrorKind.ENCRYPTED, "/data/b.pdf",
            "encrypted and needs a password")));
    CorpusReport r = new CorpusReport(List.of(ok, bad));
    assertThat(r.pages()).isEqualTo(10);
    assertThat(r.blocks()).isEqualTo(40);
    assertThat(r.tables()).isEqualTo(3);
    assertThat(r.ocrPages()).isEqualTo(1);
    assertThat(r.failures()).containsExactly(bad);
    assertThat(bad.errorKind()).contains(PdfErrorKind.ENCRYPTED);
    assertThat(ok.document()).isEqualTo("a.pdf");
    assertThat(r.summary()).isEqualTo("a.pdf: 10 pages, 40 blocks, 3 tables, 1 OCR pages, 1 page issues (120 ms)\n"
        + "b.pdf: FAILED ENCRYPTED - /data/b.pdf: encrypted and needs a password (3 ms)\n");
  }

  @Test
  void countsScannedDocumentWithoutOcrAsSkippedNotFailed() {
    DocumentReport scan = new DocumentReport(Path.of("/data/scan.pdf"), 1, 0, 0, List.of(), Duration.ofMillis(5),
        List.of(new PageIssue(1, PageIssue.Kind.OCR_UNAVAILABLE, "needs OCR (image-only page) but ...")), List.of(),
        Optional.of(new PdfExtractionException(PdfErrorKind.OCR_UNAVAILABLE, "/data/scan.pdf", "all 1 pages need OCR")));
    DocumentReport bad = new DocumentReport(Path.of("/data/b.pdf"), 0, 0, 0, List.of(), Duration.ofMillis(3),
        List.of(), List.of(), Optional.of(new PdfExtractionException(PdfErrorKind.CORRUPT, "/data/b.pdf", "broken")));
    CorpusReport r = new CorpusReport(List.of(scan, bad));
    assertThat(scan.skipped()).isTrue();
    assertThat(scan.ok()).isFalse();
    assertThat(bad.skipped()).isFalse();
    assertThat(r.failures()).containsExactly(bad);
    assertThat(r.skipped()).containsExactly(scan);
    assertThat(r.ocrUnavailablePages()).isEqualTo(1);
    assertThat(r.summary()).startsWith("scan.pdf: skipped: OCR unavailable - /data/scan.pdf: all 1 pages need OCR");
  }
}
