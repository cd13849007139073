package dev.securetag.runpod.internal;

import java.time.Duration;
import java.util.ArrayDeque;

/** At most {@code permits} starts in any window of length {@code window}; callers reserve a slot and wait for it. */
public final class SlidingWindowLimiter {
  private final int permits;
  private final long windowNanos;
  private final ArrayDeque<Long> starts = new ArrayDeque<>();

  public SlidingWindowLimiter(int permits, Duration window) {
    if (permits < 1 || window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("a rate limit needs permits >= 1 and a positive window");
    }
    this.permits = permits;
    this.windowNanos = window.toNanos();
  }

  /** Reserves the next slot at or after {@code nowNanos}; returns how long to wait before using it. */
  public synchronized long reserve(long nowNanos) {
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
