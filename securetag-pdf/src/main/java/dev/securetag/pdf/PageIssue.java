package dev.securetag.pdf;

/**
 * A problem with one page that did not stop the document: a page sent to OCR that could not be read, a page
 * whose text layer looks like garbage while OCR is off, a page whose content stream failed to parse.
 *
 * @param page 1-based page number
 */
public record PageIssue(int page, Kind kind, String message) {

  /** What kind of page problem. */
  public enum Kind {
    /** The text layer failed the quality check and OCR was off; its text was not emitted. */
    LOW_QUALITY_TEXT,
    /** The page needed OCR but OCR is unavailable or failed; nothing was emitted for it. */
    UNREADABLE,
    /** The page's content could not be parsed; nothing was emitted for it. */
    PAGE_FAILED,
    /** The page has neither text nor images. */
    BLANK
  }
}
