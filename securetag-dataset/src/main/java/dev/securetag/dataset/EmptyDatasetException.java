package dev.securetag.dataset;

import dev.securetag.core.SecuretagException;

/**
 * Generation produced no pair at all from non-empty input. A silent empty dataset would only surface at training
 * time, so this is an error; the message and {@link #report()} say what was dropped and why.
 */
public class EmptyDatasetException extends SecuretagException {
  private static final long serialVersionUID = 1L;

  private final transient GenerationReport report;

  public EmptyDatasetException(String message, GenerationReport report) {
    super(message + "\n" + report.format());
    this.report = report;
  }

  /** The report of the run that produced nothing. */
  public GenerationReport report() {
    return report;
  }
}
