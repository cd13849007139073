package dev.securetag.pdf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.ProgressListener;
import dev.securetag.core.TextBlock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.encryption.AccessPermission;
import org.apache.pdfbox.pdmodel.encryption.StandardProtectionPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Corpus behaviour: bad input becomes typed errors while the rest is processed, threads, reports, lifecycle. */
class PdfCorpusTest {

  @TempDir Path dir;

  private Path good(String name, String marker) {
    return TestPdfs.writeStandard(dir.resolve(name), w -> {
      w.heading("1 Scope", 14, 0);
      w.paragraph("This document " + marker + " applies to all information systems of the organization.");
    });
  }

  private Path protect(Path src, String name, String user, AccessPermission perms) throws IOException {
    Path out = dir.resolve(name);
    try (PDDocument doc = Loader.loadPDF(src.toFile())) {
      StandardProtectionPolicy p = new StandardProtectionPolicy("owner-secret", user, perms);
      p.setEncryptionKeyLength(128);
      doc.protect(p);
      doc.save(out.toFile());
    }
    return out;
  }

  private static Map<String, DocumentReport> byName(CorpusReport r) {
    return r.documents().stream().collect(Collectors.toMap(DocumentReport::document, Function.identity()));
  }

  @Test
  void reportsEveryKindOfBadInputAndProcessesTheRest() throws IOException {
    Path ok = good("a-good.pdf", "alpha");
    Path base = good("base.pdf", "beta");
    protect(base, "b-encrypted.pdf", "user-secret", new AccessPermission());
    AccessPermission noExtract = new AccessPermission();
    noExtract.setCanExtractContent(false);
    protect(base, "c-restricted.pdf", "", noExtract);
    byte[] bytes = Files.readAllBytes(base);
    Files.write(dir.resolve("d-truncated.pdf"), Arrays.copyOf(bytes, bytes.length / 3));
    Files.writeString(dir.resolve("e-corrupt.pdf"), "%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\n"
        + "garbage garbage ] >> << [[ \nstartxref\n999999\n%%EOF\n", StandardCharsets.ISO_8859_1);
    try (PDDocument empty = new PDDocument()) {
      empty.save(dir.resolve("f-zero-pages.pdf").toFile());
    }
    Files.writeString(dir.resolve("g-not-a-pdf.pdf"), "Name,Control\nAC-2,Account Management\n");
    Files.write(dir.resolve("h-empty.pdf"), new byte[0]);
    Files.delete(base);

    List<TextBlock> blocks = new ArrayList<>();
    CorpusReport report;
    try (PdfCorpus c = PdfCorpus.builder().add(dir).ocr(OcrMode.OFF).threads(2).build()) {
      report = c.forEach(blocks::add);
    }
    Map<String, DocumentReport> r = byName(report);
    assertThat(r).hasSize(8);
    assertThat(r.get("a-good.pdf").ok()).isTrue();
    assertThat(r.get("a-good.pdf").blocks()).isEqualTo(2);
    assertThat(r.get("b-encrypted.pdf").errorKind()).contains(PdfErrorKind.ENCRYPTED);
    assertThat(r.get("c-restricted.pdf").errorKind()).contains(PdfErrorKind.EXTRACTION_RESTRICTED);
    assertThat(r.get("d-truncated.pdf").errorKind()).contains(PdfErrorKind.TRUNCATED);
    assertThat(r.get("e-corrupt.pdf").errorKind()).contains(PdfErrorKind.CORRUPT);
    assertThat(r.get("f-zero-pages.pdf").errorKind()).contains(PdfErrorKind.EMPTY);
    assertThat(r.get("g-not-a-pdf.pdf").errorKind()).contains(PdfErrorKind.NOT_PDF);
    assertThat(r.get("h-empty.pdf").errorKind()).contains(PdfErrorKind.EMPTY);
    assertThat(r.get("g-not-a-pdf.pdf").error().get().getMessage()).contains("g-not-a-pdf.pdf");
    assertThat(blocks).extracting(TextBlock::text).containsExactly("1 Scope",
        "This document alpha applies to all information systems of the organization.");
    assertThat(report.failures()).hasSize(7);
    assertThat(report.summary()).contains("b-encrypted.pdf: FAILED ENCRYPTED");
  }

  @Test
  void opensEncryptedFileWithPasswordAndRejectsWrongOne() throws IOException {
    Path base = good("base.pdf", "gamma");
    Path enc = protect(base, "enc.pdf", "user-secret", new AccessPermission());
    try (PdfCorpus c = PdfCorpus.builder().add(enc).password("user-secret").ocr(OcrMode.OFF).build()) {
      assertThat(c.extract(enc).blocks()).extracting(TextBlock::text)
          .contains("This document gamma applies to all information systems of the organization.");
    }
    try (PdfCorpus c = PdfCorpus.builder().add(enc).password("hunter2-xyz").ocr(OcrMode.OFF).build()) {
      assertThatThrownBy(() -> c.extract(enc)).isInstanceOf(PdfExtractionException.class)
          .satisfies(e -> assertThat(((PdfExtractionException) e).kind()).isEqualTo(PdfErrorKind.WRONG_PASSWORD))
          .hasMessageContaining("enc.pdf").hasMessageNotContaining("hunter2-xyz");
    }
  }

  @Test
  void refusesRestrictedFileUnlessCallerOptsIn() throws IOException {
    AccessPermission noExtract = new AccessPermission();
    noExtract.setCanExtractContent(false);
    Path restricted = protect(good("base.pdf", "delta"), "restricted.pdf", "", noExtract);
    try (PdfCorpus c = PdfCorpus.builder().add(restricted).ocr(OcrMode.OFF).build()) {
      assertThatThrownBy(() -> c.extract(restricted)).isInstanceOf(PdfExtractionException.class)
          .hasMessageContaining("permissions forbid content extraction");
    }
    try (PdfCorpus c = PdfCorpus.builder().add(restricted).allowRestricted(true).ocr(OcrMode.OFF).build()) {
      assertThat(c.extract(restricted).blocks()).hasSize(2);
    }
  }

  @Test
  void reportsFilesOverTheSizeOrPageLimitAsTooLarge() {
    Path f = good("big.pdf", "epsilon");
    try (PdfCorpus c = PdfCorpus.builder().add(f).maxFileBytes(100).ocr(OcrMode.OFF).build()) {
      assertThatThrownBy(() -> c.extract(f)).isInstanceOf(PdfExtractionException.class)
          .satisfies(e -> assertThat(((PdfExtractionException) e).kind()).isEqualTo(PdfErrorKind.TOO_LARGE));
    }
    Path pages = TestPdfs.writeStandard(dir.resolve("pages.pdf"), w -> {
      for (int i = 0; i < 3; i++) {
        w.paragraph("Page text " + i + ".");
        w.newPage();
      }
    });
    try (PdfCorpus c = PdfCorpus.builder().add(pages).maxPages(2).ocr(OcrMode.OFF).build()) {
      assertThatThrownBy(() -> c.extract(pages)).hasMessageContaining("more than the limit of 2");
    }
  }

  @Test
  void threadedRunGivesTheSameBlocksInInputOrder() {
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      files.add(good("doc-" + i + ".pdf", "number " + i));
    }
    List<String> one;
    List<String> two;
    try (PdfCorpus c = PdfCorpus.builder().addAll(files).ocr(OcrMode.OFF).threads(1).build()) {
      one = c.stream().map(b -> b.source().document() + ":" + b.text()).toList();
    }
    List<ProgressListener.Progress> progress = new CopyOnWriteArrayList<>();
    try (PdfCorpus c = PdfCorpus.builder().addAll(files).ocr(OcrMode.OFF).threads(3).listener(progress::add)
        .build()) {
      two = c.stream().map(b -> b.source().document() + ":" + b.text()).toList();
      assertThat(c.report().documents()).hasSize(6);
      assertThat(c.report().pages()).isEqualTo(6);
      assertThat(c.report().blocks()).isEqualTo(12);
    }
    assertThat(two).isEqualTo(one).hasSize(12);
    assertThat(one.get(1)).isEqualTo("doc-0.pdf:This document number 0 applies to all information systems of the "
        + "organization.");
    assertThat(progress).anyMatch(p -> p.phase().equals("pdf") && p.done() == 6 && p.total() == 6);
  }

  @Test
  void splitsLargeDocumentIntoPageRangesWithTheSameResult() {
    Path big = TestPdfs.writeStandard(dir.resolve("big.pdf"), w -> {
      w.header("Big Standard - Internal");
      w.footer("Page %d of %d");
      for (int c = 1; c <= 100; c++) {
        w.heading(c + " Clause " + c, 14, 0);
        w.paragraph("Clause " + c + " requires the organization to maintain documented information about the "
            + "controls in scope and to review it at planned intervals, keeping records of each review.");
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("Control", "Requirement"));
        for (int r = 1; r <= 20; r++) {
          rows.add(List.of(c + "." + r, "Control " + c + "." + r + " shall be implemented and monitored."));
        }
        w.table(rows, new float[] {0.2f, 0.8f}, true);
      }
    });
    List<TextBlock> one;
    List<TextBlock> three;
    try (PdfCorpus c = PdfCorpus.builder().add(big).ocr(OcrMode.OFF).threads(1).build()) {
      one = c.extract(big).blocks();
    }
    try (PdfCorpus c = PdfCorpus.builder().add(big).ocr(OcrMode.OFF).threads(3).build()) {
      ExtractedDocument d = c.extract(big);
      three = d.blocks();
      assertThat(d.report().pages()).isGreaterThanOrEqualTo(64);
    }
    assertThat(three).isEqualTo(one);
    assertThat(one.stream().filter(b -> b.table().isPresent()).count()).isEqualTo(100);
    assertThat(one.get(one.size() - 1).source().section()).isEqualTo("100 Clause 100");
  }

  @Test
  void closeIsIdempotentAndUseAfterCloseFails() {
    PdfCorpus c = PdfCorpus.builder().add(dir).build();
    c.close();
    c.close();
    assertThatThrownBy(c::stream).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> PdfCorpus.builder().threads(0)).isInstanceOf(IllegalArgumentException.class);
    assertThat(PdfCorpus.builder().password("s3cret").build().toString()).doesNotContain("s3cret");
  }

  @Test
  void reportIsUnavailableBeforeARun() {
    try (PdfCorpus c = PdfCorpus.builder().add(dir).build()) {
      assertThatThrownBy(c::report).isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void validatesScriptLanguagesAndShowsThemInToString() {
    assertThatThrownBy(() -> PdfCorpus.builder().scriptLanguages(Map.of(Character.UnicodeScript.CYRILLIC, "ru;rm")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CYRILLIC").hasMessageContaining("ru;rm");
    try (PdfCorpus c = PdfCorpus.builder().scriptLanguages(Map.of(Character.UnicodeScript.HAN, "chi_sim+eng"))
        .build()) {
      assertThat(c.toString()).contains("scriptLanguages={HAN=[chi_sim, eng]}");
    }
  }
}
