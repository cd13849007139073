package dev.securetag.pdf;

import java.util.List;

/** Per-document outcome of a {@link PdfCorpus} run, in input order, with totals. */
public record CorpusReport(List<DocumentReport> documents) {

  public CorpusReport {
    documents = List.copyOf(documents);
  }

  /** Total pages over all documents that could be opened. */
  public int pages() {
    return documents.stream().mapToInt(DocumentReport::pages).sum();
  }

  /** Total blocks emitted. */
  public int blocks() {
    return documents.stream().mapToInt(DocumentReport::blocks).sum();
  }

  /** Total tables emitted. */
  public int tables() {
    return documents.stream().mapToInt(DocumentReport::tables).sum();
  }

  /** Total OCR'd pages. */
  public int ocrPages() {
    return documents.stream().mapToInt(d -> d.ocrPages().size()).sum();
  }

  /** The documents that failed (bad input), not counting {@link #skipped()} ones. */
  public List<DocumentReport> failures() {
    return documents.stream().filter(d -> !d.ok() && !d.skipped()).toList();
  }

  /**
   * The documents skipped because an optional part is not installed here (scanned documents without OCR); their
   * errors say what to install.
   */
  public List<DocumentReport> skipped() {
    return documents.stream().filter(DocumentReport::skipped).toList();
  }

  /** Total pages that needed OCR and were not read because OCR is not installed. */
  public int ocrUnavailablePages() {
    return (int) documents.stream().flatMap(d -> d.pageIssues().stream())
        .filter(i -> i.kind() == PageIssue.Kind.OCR_UNAVAILABLE).count();
  }

  /** A short human-readable summary, one line per document. */
  public String summary() {
    StringBuilder sb = new StringBuilder();
    for (DocumentReport d : documents) {
      sb.append(d.document()).append(": ");
      if (d.skipped()) {
        sb.append("skipped: OCR unavailable - ").append(d.error().get().getMessage());
      } else if (d.error().isPresent()) {
        sb.append("FAILED ").append(d.error().get().kind()).append(" - ").append(d.error().get().getMessage());
      } else {
        sb.append(d.pages()).append(" pages, ").append(d.blocks()).append(" blocks, ").append(d.tables())
            .append(" tables, ").append(d.ocrPages().size()).append(" OCR pages");
        if (!d.pageIssues().isEmpty()) {
          sb.append(", ").append(d.pageIssues().size()).append(" page issues");
        }
      }
      sb.append(" (").append(d.time().toMillis()).append(" ms)\n");
    }
    return sb.toString();
  }
}
