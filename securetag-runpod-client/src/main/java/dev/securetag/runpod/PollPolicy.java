package dev.securetag.runpod;

import dev.securetag.core.SecuretagStyle;
import java.time.Duration;
import org.immutables.value.Value;

/**
 * How often job status and stream are polled: starting at {@link #initialInterval()} and growing by
 * {@link #multiplier()} up to {@link #maxInterval()} while nothing changes. Keep the maximum well under the one
 * minute a {@code /runsync} result is retained.
 */
@Value.Immutable
@SecuretagStyle
public interface PollPolicy {

  default Duration initialInterval() {
    return Duration.ofMillis(500);
  }

  default Duration maxInterval() {
    return Duration.ofSeconds(5);
  }

  default double multiplier() {
    return 1.5;
  }

  @Value.Check
  default void check() {
    if (initialInterval().isNegative() || maxInterval().compareTo(initialInterval()) < 0) {
      throw new IllegalArgumentException("PollPolicy needs 0 <= initialInterval <= maxInterval");
    }
    if (multiplier() < 1.0) {
      throw new IllegalArgumentException("PollPolicy.multiplier must be >= 1");
    }
  }

  static PollPolicy defaults() {
    return builder().build();
  }

  static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link PollPolicy}. */
  final class Builder extends ImmutablePollPolicy.Builder {}
}
