package dev.securetag.pdf;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What happened to one document: how many pages, blocks and tables came out, which pages were OCR'd, how long it
 * took, page-level issues, and the error that stopped it, if any.
 *
 * @param file the input file
 * @param pages page count (0 when the document could not be opened)
 * @param blocks number of {@link dev.securetag.core.TextBlock}s emitted
 * @param tables number of table blocks emitted (a table joined across pages counts once)
 * @param ocrPages 1-based numbers of the pages whose text came from OCR
 * @param time wall time spent on the document
 * @param pageIssues problems with single pages that did not stop the document
 * @param warnings document-level oddities that did not stop it (e.g. a truncated file that was repaired)
 * @param error the failure that stopped the document; blocks is 0 when present
 */
public record DocumentReport(
    Path file,
    int pages,
    int blocks,
    int tables,
    List<Integer> ocrPages,
    Duration time,
    List<PageIssue> pageIssues,
    List<String> warnings,
    Optional<PdfExtractionException> error) {

  public DocumentReport {
    ocrPages = List.copyOf(ocrPages);
    pageIssues = List.copyOf(pageIssues);
    warnings = List.copyOf(warnings);
  }

  /** The file name without its directory, as used in {@link dev.securetag.core.SourceRef#document()}. */
  public String document() {
    return file.getFileName().toString();
  }

  /** True when the document produced content and no error. */
  public boolean ok() {
    return error.isEmpty();
  }

  /**
   * True when the document yielded nothing only because an optional part is missing here (a scanned document and
   * no OCR, {@link PdfErrorKind#OCR_UNAVAILABLE}); such a document is not counted as a failure.
   */
  public boolean skipped() {
    return errorKind().filter(k -> k == PdfErrorKind.OCR_UNAVAILABLE).isPresent();
  }

  /** The error kind, if the document failed. */
  public Optional<PdfErrorKind> errorKind() {
    return error.map(PdfExtractionException::kind);
  }
}
