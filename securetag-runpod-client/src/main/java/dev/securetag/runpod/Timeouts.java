package dev.securetag.runpod;

import dev.securetag.core.SecuretagStyle;
import java.time.Duration;
import org.immutables.value.Value;

/**
 * Per-request and whole-call time limits. {@link #deadline()} bounds a whole operation (retries and polling
 * included) unless a method takes its own deadline. A {@code /runsync} request gets {@code wait + runSyncMargin} as
 * its read timeout so that the server's wait never looks like a network stall.
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

  /** Default limit for a whole call including retries and polling. */
  default Duration deadline() {
    return Duration.ofMinutes(15);
  }

  @Value.Check
  default void check() {
    if (connect().isNegative() || connect().isZero() || read().isNegative() || read().isZero()
        || deadline().isNegative() || deadline().isZero() || runSyncMargin().isNegative()) {
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
