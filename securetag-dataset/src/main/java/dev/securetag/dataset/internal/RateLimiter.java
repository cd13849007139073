package dev.securetag.dataset.internal;

/** Spaces requests evenly to at most {@code perMinute} a minute across all threads (0 = unlimited). */
public final class RateLimiter {
  private final long intervalNanos;
  private long next;

  public RateLimiter(int perMinute) {
    this.intervalNanos = perMinute <= 0 ? 0 : 60_000_000_000L / perMinute;
  }

  /** Blocks until this caller's slot. */
  public void acquire() throws InterruptedException {
    if (intervalNanos == 0) {
      return;
    }
    long wait;
    synchronized (this) {
      long now = System.nanoTime();
      long slot = Math.max(now, next);
      next = slot + intervalNanos;
      wait = slot - now;
    }
    if (wait > 0) {
      Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
    }
  }
}
