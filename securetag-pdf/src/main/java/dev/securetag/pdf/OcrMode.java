package dev.securetag.pdf;

/** When {@link PdfCorpus} sends a page to OCR. Decisions are made per page. */
public enum OcrMode {
  /** Never OCR; pages without usable text are reported in {@link DocumentReport#pageIssues()}. */
  OFF,
  /** OCR pages that have no text layer or whose text layer fails the quality check. */
  AUTO,
  /** OCR every page, ignoring the text layer. */
  ALWAYS
}
