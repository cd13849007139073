package dev.securetag.runpod.internal;

import java.time.Duration;
import java.util.concurrent.CancellationException;

/** Sleeps for backoff and polling; an interrupt becomes a {@link CancellationException} with the flag restored. */
public final class Sleeper {
  private Sleeper() {}

  public static void sleep(Duration d) {
    if (d.isZero() || d.isNegative()) {
      return;
    }
    try {
      Thread.sleep(d.toMillis(), (int) (d.toNanos() % 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      CancellationException ce = new CancellationException("interrupted while waiting");
      ce.initCause(e);
      throw ce;
    }
  }
}
