package dev.securetag.runpod;

import java.util.Locale;

/**
 * The state of a RunPod Serverless job. {@link #CANCELLED} and {@link #TIMED_OUT} are terminal like
 * {@link #COMPLETED} and {@link #FAILED}: the official Python SDK forgets {@code CANCELLED} and polls such a stream
 * forever; this client does not.
 */
public enum JobStatus {
  /** Waiting for a worker (includes cold start time). */
  IN_QUEUE(false),
  /** A worker is running it; the docs also call this {@code RUNNING}. */
  IN_PROGRESS(false),
  /** Finished with output. */
  COMPLETED(true),
  /** The handler raised or returned an error. */
  FAILED(true),
  /** Cancelled through {@code /cancel} or purged. */
  CANCELLED(true),
  /** Expired before a worker took it, or ran past its execution timeout. */
  TIMED_OUT(true),
  /** A status string this client does not know; treated as non-terminal so callers keep polling until a deadline. */
  UNKNOWN(false);

  private final boolean terminal;

  JobStatus(boolean terminal) {
    this.terminal = terminal;
  }

  /** True for states a job never leaves (except through {@code /retry} for FAILED and TIMED_OUT). */
  public boolean isTerminal() {
    return terminal;
  }

  /** Parses the wire value ({@code "IN_QUEUE"}, {@code "RUNNING"}, ...); unknown or missing values give {@link #UNKNOWN}. */
  public static JobStatus parse(String wire) {
    if (wire == null) {
      return UNKNOWN;
    }
    String s = wire.trim().toUpperCase(Locale.ROOT);
    if (s.equals("RUNNING")) {
      return IN_PROGRESS;
    }
    for (JobStatus status : values()) {
      if (status != UNKNOWN && status.name().equals(s)) {
        return status;
      }
    }
    return UNKNOWN;
  }
}
