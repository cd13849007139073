package dev.securetag.train;

/**
 * Learning-rate schedules with linear warmup, with transformers' formulas ({@code optimization.py}); {@code step}
 * counts optimizer steps (after gradient accumulation), starting at 0 for the first update.
 */
public enum Scheduler {
  /** Half-cosine decay from the peak to 0 after warmup. */
  COSINE,
  /** Linear decay from the peak to 0 after warmup. */
  LINEAR,
  /** The peak rate after warmup. */
  CONSTANT;

  /** Multiplier of the peak learning rate at {@code step} of {@code total} with {@code warmup} warmup steps. */
  public double factor(long step, long warmup, long total) {
    if (step < warmup) {
      return (double) step / Math.max(1, warmup);
    }
    return switch (this) {
      case CONSTANT -> 1.0;
      case LINEAR -> Math.max(0.0, (double) (total - step) / Math.max(1, total - warmup));
      case COSINE -> {
        double progress = (double) (step - warmup) / Math.max(1, total - warmup);
        yield Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * 2.0 * 0.5 * progress)));
      }
    };
  }
}
