package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.internal.Json;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Validation of the configuration value types: PollPolicy, Timeouts, JobRequest (RetryPolicy is in core). */
class PollPolicyTest {

  @Test
  void defaultsAreSaneAndInvalidValuesAreRejected() {
    assertThat(PollPolicy.defaults().maxInterval()).isGreaterThanOrEqualTo(PollPolicy.defaults().initialInterval());
    assertThatThrownBy(() -> PollPolicy.builder().initialInterval(Duration.ofSeconds(10)).maxInterval(Duration.ofSeconds(1))
        .build()).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Timeouts.builder().deadline(Duration.ZERO).build()).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void jobRequestNeedsAnObjectInputAndPositivePolicy() {
    assertThatThrownBy(() -> JobRequest.of(Json.mapper().getNodeFactory().textNode("x")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("input");
    assertThatThrownBy(() -> JobRequest.builder().input(Json.object()).ttl(Duration.ofSeconds(-1)).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ttl");
    assertThat(JobRequest.of(Json.object()).lowPriority()).isFalse();
  }
}
