package dev.securetag.core;

import java.time.Duration;
import java.util.ArrayDeque;

/**
 * Client-side pacing shared by every securetag client: at most {@code permits} starts in any window of length
 * {@code window}, across all threads. {@link #perMinute(int)} spaces starts evenly (one permit per
 * {@code 60 s / n}); {@link #of(int, Duration)} allows bursts up to the permit count. Callers reserve a slot and wait
 * for it; a reservation is never given back, so a caller that gives up still counts against the window.
 */
public final class RateLimiter {
  private static final RateLimiter UNLIMITED = new RateLimiter(0, 0);

  private final int permits;
  private final long windowNanos;
  private final ArrayDeque<Long> starts = new ArrayDeque<>();

  private RateLimiter(int permits, long windowNanos) {
    this.permits = permits;
    this.windowNanos = windowNanos;
  }

  /** At most {@code permits} starts in any window of {@code window}. */
  public static RateLimiter of(int permits, Duration window) {
    if (permits < 1 || window == null || window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("a rate limit needs permits >= 1 and a positive window");
    }
    return new RateLimiter(permits, window.toNanos());
  }

  /** Starts spaced evenly to at most {@code n} a minute; {@code n <= 0} is {@link #unlimited()}. */
  public static RateLimiter perMinute(int n) {
    return n <= 0 ? UNLIMITED : new RateLimiter(1, 60_000_000_000L / n);
  }

  /** No pacing. */
  public static RateLimiter unlimited() {
    return UNLIMITED;
  }

  /** True when this limiter never makes anyone wait. */
  public boolean isUnlimited() {
    return permits == 0;
  }

  /** Reserves the next slot at or after {@code nowNanos} ({@link System#nanoTime()}); returns the wait before it. */
  public long reserve(long nowNanos) {
    if (permits == 0) {
      return 0;
    }
    synchronized (starts) {
      while (!starts.isEmpty() && nowNanos - starts.peekFirst() >= windowNanos) {
        starts.pollFirst();
      }
      if (starts.size() < permits) {
        starts.addLast(nowNanos);
        return 0;
      }
      // The slot frees when the permits-th most recent start leaves the window.
      long at = starts.pollFirst() + windowNanos;
      starts.addLast(at);
      return Math.max(0, at - nowNanos);
    }
  }

  /** Blocks until this caller's slot. */
  public void acquire() throws InterruptedException {
    long wait = reserve(System.nanoTime());
    if (wait > 0) {
      Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
    }
  }

  @Override
  public String toString() {
    return permits == 0 ? "RateLimiter{unlimited}" : "RateLimiter{" + permits + "/" + windowNanos / 1_000_000 + "ms}";
  }
}
