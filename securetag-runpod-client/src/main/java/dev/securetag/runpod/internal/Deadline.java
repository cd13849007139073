package dev.securetag.runpod.internal;

import java.time.Duration;

/** A point in monotonic time by which a whole operation must finish. */
public final class Deadline {
  private final long deadlineNanos;
  private final Duration total;

  private Deadline(Duration total) {
    this(total, System.nanoTime() + saturatedNanos(total));
  }

  private Deadline(Duration total, long deadlineNanos) {
    this.total = total;
    this.deadlineNanos = deadlineNanos;
  }

  public static Deadline after(Duration d) {
    return new Deadline(d);
  }

  /**
   * The earlier of this deadline and {@code limit} from now: one call inside a longer operation gets at most its own
   * budget. {@link #total()} is the budget that applies.
   */
  public Deadline within(Duration limit) {
    long now = System.nanoTime();
    long end = now + saturatedNanos(limit);
    return end - deadlineNanos < 0 ? new Deadline(limit, end) : this;
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE / 4;
    }
  }

  public long remainingNanos() {
    return deadlineNanos - System.nanoTime();
  }

  public Duration remaining() {
    return Duration.ofNanos(Math.max(0, remainingNanos()));
  }

  public boolean expired() {
    return remainingNanos() <= 0;
  }

  /** The budget this deadline was created with. */
  public Duration total() {
    return total;
  }
}
