package dev.securetag.runpod;

import static dev.securetag.runpod.TestSupport.client;
import static dev.securetag.runpod.TestSupport.fake;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.testing.FakeRunPodEndpoint;
import dev.securetag.testing.Operation;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RateLimitsTest {

  @Test
  void documentedLimitsCoverThePublishedOperations() {
    assertThat(RateLimits.runPodDocumented().operations())
        .containsExactlyInAnyOrder("run", "runsync", "status", "stream", "cancel", "purge-queue");
    assertThat(RateLimits.runPodDocumented().toString()).contains("purge-queue=2/10000ms").contains("cancel=100/10000ms");
    assertThat(RateLimits.none().operations()).isEmpty();
  }

  @Test
  void pacedCallsWaitForASlotAndFailFastWhenItIsPastTheDeadline() {
    try (FakeRunPodEndpoint fake = fake().build();
        RunPodClient c = client(fake).rateLimits(RateLimits.none().with("purge-queue", 2, Duration.ofMillis(300))
            .with("health", 1, Duration.ofMinutes(5))).build()) {
      long start = System.nanoTime();
      for (int i = 0; i < 3; i++) {
        assertThat(c.purgeQueue()).isZero();
      }
      // Correctness of the pacing, not speed: the third purge can only start once the first left the window.
      assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(250);
      assertThat(fake.requestCount(Operation.PURGE_QUEUE)).isEqualTo(3);
      c.health();
      assertThatThrownBy(c::health).isInstanceOfSatisfying(RunPodException.class, e -> {
        assertThat(e.kind()).isEqualTo(Kind.RATE_LIMITED);
        assertThat(e.getMessage()).contains("client-side rate limit");
        assertThat(e.retryAfter()).isPresent();
      });
      assertThat(fake.requestCount(Operation.HEALTH)).isEqualTo(1);
    }
  }
}
