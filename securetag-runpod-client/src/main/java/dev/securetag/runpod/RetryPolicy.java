package dev.securetag.runpod;

import dev.securetag.core.SecuretagStyle;
import java.time.Duration;
import org.immutables.value.Value;

/**
 * How HTTP calls are retried on connect failures, dropped connections, timeouts, 429 and 5xx: exponential backoff
 * with jitter, a server {@code Retry-After} honoured when present (capped by {@link #maxRetryAfter()}). A submit
 * ({@code /run}, {@code /runsync}) is only retried when it provably did not reach the server (connect refused, 429)
 * unless {@link #retryNonIdempotent()} is set, because a retried submit can create a second job.
 */
@Value.Immutable
@SecuretagStyle
public interface RetryPolicy {

  /** Total attempts including the first; 1 disables retries. */
  default int maxAttempts() {
    return 5;
  }

  default Duration initialBackoff() {
    return Duration.ofMillis(500);
  }

  default Duration maxBackoff() {
    return Duration.ofSeconds(30);
  }

  default double multiplier() {
    return 2.0;
  }

  /** Relative jitter: each delay is scaled by a random factor in {@code [1 - jitter, 1 + jitter]}. */
  default double jitter() {
    return 0.2;
  }

  /** Longest server-requested wait honoured; a longer Retry-After fails the call instead. */
  default Duration maxRetryAfter() {
    return Duration.ofMinutes(2);
  }

  /** Also retry submits after failures that may have reached the server (5xx, timeouts, dropped connections). */
  default boolean retryNonIdempotent() {
    return false;
  }

  @Value.Check
  default void check() {
    if (maxAttempts() < 1) {
      throw new IllegalArgumentException("RetryPolicy.maxAttempts must be >= 1");
    }
    if (multiplier() < 1.0) {
      throw new IllegalArgumentException("RetryPolicy.multiplier must be >= 1");
    }
    if (jitter() < 0 || jitter() > 1) {
      throw new IllegalArgumentException("RetryPolicy.jitter must be within [0, 1]");
    }
    if (initialBackoff().isNegative() || maxBackoff().isNegative()) {
      throw new IllegalArgumentException("RetryPolicy backoffs must not be negative");
    }
  }

  /** The defaults: 5 attempts, 0.5 s doubling to 30 s, 20 % jitter. */
  static RetryPolicy defaults() {
    return builder().build();
  }

  /** A policy that never retries. */
  static RetryPolicy none() {
    return builder().maxAttempts(1).build();
  }

  static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link RetryPolicy}. */
  final class Builder extends ImmutableRetryPolicy.Builder {}
}
