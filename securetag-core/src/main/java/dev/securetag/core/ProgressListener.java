package dev.securetag.core;

/**
 * Receives progress of long work (PDF extraction, QA generation, training, quantization). Called from worker
 * threads, so implementations must be thread-safe and fast. {@link ConsoleProgressBar} draws it on a terminal.
 */
@FunctionalInterface
public interface ProgressListener {

  /** A listener that ignores everything. */
  ProgressListener NONE = p -> {};

  /**
   * Reports that {@code done} of {@code total} units of {@code phase} are complete.
   *
   * @param progress total is -1 when unknown
   */
  void onProgress(Progress progress);

  /** Called once when a phase finishes (successfully or not). */
  default void onPhaseEnd(String phase) {}

  /** Convenience for {@code onProgress(new Progress(phase, done, total, unit, ""))}. */
  default void report(String phase, long done, long total, String unit) {
    onProgress(new Progress(phase, done, total, unit, ""));
  }

  /** One progress report: phase name, units done, total (-1 if unknown), unit name and a short detail line. */
  record Progress(String phase, long done, long total, String unit, String detail) {
    public Progress {
      if (phase == null || unit == null || detail == null) {
        throw new IllegalArgumentException("Progress.phase, unit and detail must not be null");
      }
    }

    /** Fraction done in [0, 1], or -1 when the total is unknown. */
    public double fraction() {
      return total <= 0 ? -1 : Math.min(1.0, (double) done / total);
    }
  }
}
