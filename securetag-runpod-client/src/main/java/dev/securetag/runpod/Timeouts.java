package dev.securetag.runpod;

import dev.securetag.core.SecuretagStyle;
import java.time.Duration;
import org.immutables.value.Value;

/**
 * Per-request, per-call and whole-job time limits. {@link #call()} bounds one API call of {@link RunPodClient}
 * ({@code run}, {@code status}, {@code cancel}, {@code retry}, {@code purgeQueue}, {@code health}, one
 * {@code /stream} or {@code /status} poll) including its retries, so a server that accepts and never answers, or
 * answers a byte at a time, fails the call in bounded time. {@link #deadline()} bounds a whole job operation
 * ({@code runSync}, {@code runAsync}, {@code stream}, polling included) unless a method takes its own deadline. A
 * {@code /runsync} request gets {@code wait + runSyncMargin} as its read timeout, so that the server's wait never
 * looks like a network stall, and {@code wait + call} as its whole-call limit.
 */
@Value.Immutable
@SecuretagStyle
public interface Timeouts {

  default Duration connect() {
    return Duration.ofSeconds(10);
  }

  /** Read timeout of an ordinary request. */
  default Duration read() {
    return Duration.ofSeconds(30);
  }

  /** Extra read time on top of a {@code /runsync} wait. */
  default Duration runSyncMargin() {
    return Duration.ofSeconds(15);
  }

  /**
   * Limit for one API call including its retries and backoff (default 30 s). With the default 30 s read timeout a
   * server that never answers costs one attempt; faster failures (connect refused, 429, 5xx) are retried within it.
   */
  default Duration call() {
    return Duration.ofSeconds(30);
  }

  /** Default limit for a whole job operation ({@code runSync}, {@code runAsync}, {@code stream}), polling included. */
  default Duration deadline() {
    return Duration.ofMinutes(15);
  }

  @Value.Check
  default void check() {
    if (connect().isNegative() || connect().isZero() || read().isNegative() || read().isZero()
        || deadline().isNegative() || deadline().isZero() || call().isNegative() || call().isZero()
        || runSyncMargin().isNegative()) {
      throw new IllegalArgumentException("Timeouts must be positive");
    }
  }

  static Timeouts defaults() {
    return builder().build();
  }

  static Builder builder() {
    return new Builder();
  }

  /** Builds {@link Timeouts}. */
  final class Builder extends ImmutableTimeouts.Builder {}
}
