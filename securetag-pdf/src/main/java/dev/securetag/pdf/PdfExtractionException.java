package dev.securetag.pdf;

import dev.securetag.core.InvalidInputException;

/**
 * A PDF could not be extracted. {@link PdfCorpus} records it in the {@link CorpusReport} and carries on with the
 * other documents; {@link PdfCorpus#extract(java.nio.file.Path)} throws it. The message names the file.
 */
public class PdfExtractionException extends InvalidInputException {
  private static final long serialVersionUID = 1L;

  private final PdfErrorKind kind;

  public PdfExtractionException(PdfErrorKind kind, String location, String message) {
    super(location, message);
    this.kind = kind;
  }

  public PdfExtractionException(PdfErrorKind kind, String location, String message, Throwable cause) {
    super(location, message, cause);
    this.kind = kind;
  }

  /** What went wrong, for programmatic handling. */
  public PdfErrorKind kind() {
    return kind;
  }
}
