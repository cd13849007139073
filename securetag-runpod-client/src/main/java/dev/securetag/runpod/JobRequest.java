package dev.securetag.runpod;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.SecuretagStyle;
import java.time.Duration;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * What to submit to {@code /run} or {@code /runsync}: the handler {@code input} (passed verbatim to the worker as
 * {@code job["input"]}), an optional completion webhook and the per-job execution policy.
 */
@Value.Immutable
@SecuretagStyle
public interface JobRequest {

  /** The worker's input object. */
  JsonNode input();

  /** URL RunPod POSTs the final status JSON to. */
  Optional<String> webhook();

  /** Maximum run time once a worker takes the job ({@code policy.executionTimeout}, 5 s to 7 days). */
  Optional<Duration> executionTimeout();

  /** Total lifespan from submission, queue included ({@code policy.ttl}, 10 s to 7 days); the job is deleted after it. */
  Optional<Duration> ttl();

  /** When true the job does not trigger worker scale-up. */
  default boolean lowPriority() {
    return false;
  }

  /** Passed through to the worker as {@code s3Config}. */
  Optional<JsonNode> s3Config();

  @Value.Check
  default void check() {
    if (!input().isObject()) {
      throw new IllegalArgumentException("JobRequest.input must be a JSON object, got " + input().getNodeType());
    }
    executionTimeout().ifPresent(d -> {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("JobRequest.executionTimeout must be positive");
      }
    });
    ttl().ifPresent(d -> {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("JobRequest.ttl must be positive");
      }
    });
  }

  /** A request with only an input. */
  static JobRequest of(JsonNode input) {
    return builder().input(input).build();
  }

  static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link JobRequest}. */
  final class Builder extends ImmutableJobRequest.Builder {}
}
