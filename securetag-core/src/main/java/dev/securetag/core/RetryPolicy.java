package dev.securetag.core;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.immutables.value.Value;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a failed remote call is repeated, the one policy every securetag client uses: up to {@link #maxAttempts()}
 * attempts (the first included), exponential backoff from {@link #initialBackoff()} by {@link #multiplier()} up to
 * {@link #maxBackoff()}, each delay scaled by a random factor in {@code [1 - jitter, 1 + jitter]}, and a server's
 * {@code Retry-After} honoured instead when it sent one (capped by {@link #maxRetryAfter()}). Only failures whose
 * {@link SecuretagException#isRetriable()} is true are retried (connection failures, timeouts, 429, 5xx).
 *
 * <p>A call that may have had an effect on the server (a submit that reached it and then failed with 5xx, a timeout
 * or a dropped connection) is retried only with {@link #retryNonIdempotent()}, because a repeated submit can create a
 * second job; HTTP clients decide which calls are idempotent.
 *
 * <p>Retries do not stack: a component that calls an {@link LlmClient} asks {@link LlmClient#retryPolicy()} whether
 * the client already retries, and adds no attempts of its own when it does (see securetag-dataset's QaGenerator).
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

  /** Longest server-requested wait honoured; a longer Retry-After is shortened to this. */
  default Duration maxRetryAfter() {
    return Duration.ofMinutes(2);
  }

  /** Also retry calls that may have reached the server (submits after 5xx, timeouts, dropped connections). */
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
    if (initialBackoff().isNegative() || maxBackoff().isNegative() || maxRetryAfter().isNegative()) {
      throw new IllegalArgumentException("RetryPolicy durations must not be negative");
    }
    if (maxBackoff().compareTo(initialBackoff()) < 0) {
      throw new IllegalArgumentException("RetryPolicy.maxBackoff must be >= initialBackoff");
    }
  }

  /**
   * The wait before retry number {@code retry} (1 for the wait after the first attempt): the server's Retry-After
   * when given (at most {@link #maxRetryAfter()}), else {@code initialBackoff · multiplier^(retry-1)} capped at
   * {@link #maxBackoff()} and jittered.
   */
  default Duration delayBefore(int retry, Optional<Duration> retryAfter) {
    if (retryAfter.isPresent()) {
      Duration ra = retryAfter.get();
      return ra.compareTo(maxRetryAfter()) > 0 ? maxRetryAfter() : ra;
    }
    double base = initialBackoff().toNanos() * Math.pow(multiplier(), Math.max(0, retry - 1));
    base = Math.min(base, maxBackoff().toNanos());
    double factor = 1 + jitter() * (ThreadLocalRandom.current().nextDouble() * 2 - 1);
    return Duration.ofNanos((long) (base * factor));
  }

  /** Whether to try again after {@code attemptsMade} attempts ended in {@code failure}. */
  default boolean shouldRetry(SecuretagException failure, int attemptsMade) {
    return failure.isRetriable() && attemptsMade < maxAttempts();
  }

  /** One attempt of a call run by {@link #execute}. */
  @FunctionalInterface
  interface Attempt<T> {
    /** Runs attempt number {@code attempt} (1-based). */
    T run(int attempt) throws InterruptedException;
  }

  /** Told about each retry before its wait. */
  @FunctionalInterface
  interface RetryListener {
    void onRetry(int attemptsMade, RemoteServiceException failure, Duration delay);
  }

  /**
   * Runs {@code call} until it returns, fails with a non-retriable {@link RemoteServiceException}, or the attempts
   * are spent (the last failure is thrown). Other exceptions pass through at once.
   */
  default <T> T execute(Attempt<T> call, RetryListener listener) throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        return call.run(attempt);
      } catch (RemoteServiceException e) {
        if (!shouldRetry(e, attempt)) {
          throw e;
        }
        Duration delay = delayBefore(attempt, e.retryAfter());
        Logger log = LoggerFactory.getLogger(RetryPolicy.class);
        log.debug("attempt {} of {} failed ({}), retrying in {} ms", attempt, maxAttempts(), e.kind(),
            delay.toMillis());
        listener.onRetry(attempt, e, delay);
        Thread.sleep(delay.toMillis(), (int) (delay.toNanos() % 1_000_000));
      }
    }
  }

  /** The defaults: 5 attempts, 0.5 s doubling to 30 s, 20 % jitter, Retry-After honoured up to 2 min. */
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
