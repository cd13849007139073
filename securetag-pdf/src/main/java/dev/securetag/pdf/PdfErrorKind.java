package dev.securetag.pdf;

/** Why a whole document could not be extracted; see {@link PdfExtractionException#kind()}. */
public enum PdfErrorKind {
  /** The file does not start with a PDF header. */
  NOT_PDF,
  /** The file could not be read from disk. */
  UNREADABLE_FILE,
  /** Encrypted and no password was supplied (or it has no empty user password). */
  ENCRYPTED,
  /** Encrypted and the supplied password is wrong. */
  WRONG_PASSWORD,
  /** The document's permissions forbid content extraction and the caller did not opt in. */
  EXTRACTION_RESTRICTED,
  /** The PDF structure is broken beyond what the parser can repair. */
  CORRUPT,
  /** The file ends before its end-of-file marker and could not be parsed. */
  TRUNCATED,
  /** The document parses but has no pages, or yields no content at all from a non-empty file. */
  EMPTY,
  /**
   * Every page with content needs OCR (a scanned document) and OCR is not installed here. The document is skipped,
   * not failed: {@link CorpusReport#skipped()} lists it, and installing Tesseract recovers it.
   */
  OCR_UNAVAILABLE,
  /** Larger than the configured file-size or page-count limit. */
  TOO_LARGE
}
