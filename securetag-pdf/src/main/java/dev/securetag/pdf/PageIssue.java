package dev.securetag.pdf;

/**
 * A problem with one page that did not stop the document: a page that needs OCR where OCR is not installed, a page
 * sent to OCR that could not be read, a page
 * whose text layer looks like garbage while OCR is off, a page whose content stream failed to parse.
 *
 * @param page 1-based page number
 */
public record PageIssue(int page, Kind kind, String message) {

  /** What kind of page problem. */
  public enum Kind {
    /** The text layer failed the quality check and OCR was off; its text was not emitted. */
    LOW_QUALITY_TEXT,
    /**
     * The page needed OCR but OCR is not installed here (no Tesseract, or no language data for the configured
     * languages); nothing was emitted for it. The message names the languages and how to install them. Installing
     * Tesseract and extracting again recovers the page.
     */
    OCR_UNAVAILABLE,
    /**
     * The page needed OCR and nothing was emitted for it: OCR failed, its output failed the quality gate (low word
     * confidence, not language-like; typically a script the OCR languages do not cover), or the page's broken text
     * layer is in a script no OCR language reads. The message names the script when it is known and how to map it
     * to a Tesseract language ({@link PdfCorpus.Builder#scriptLanguages}).
     */
    UNREADABLE,
    /**
     * The page was OCR'd and emitted, but some of its lines failed the quality gate (low word confidence: a stamp,
     * handwriting, a logo, or text in a script the OCR languages do not cover) and were dropped; the message says
     * how many.
     */
    PARTLY_UNREADABLE,
    /** The page's content could not be parsed; nothing was emitted for it. */
    PAGE_FAILED,
    /** The page has neither text nor images. */
    BLANK
  }
}
