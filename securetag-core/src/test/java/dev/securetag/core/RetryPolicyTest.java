package dev.securetag.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.RemoteServiceException.Kind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
  private final RetryPolicy fast = RetryPolicy.builder().maxAttempts(4).initialBackoff(Duration.ofMillis(1))
      .maxBackoff(Duration.ofMillis(4)).build();

  @Test
  void defaultsAreSaneAndInvalidValuesAreRejected() {
    RetryPolicy d = RetryPolicy.defaults();
    assertThat(d.maxAttempts()).isEqualTo(5);
    assertThat(d.retryNonIdempotent()).isFalse();
    assertThat(RetryPolicy.none().maxAttempts()).isEqualTo(1);
    assertThatThrownBy(() -> RetryPolicy.builder().maxAttempts(0).build()).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RetryPolicy.builder().jitter(2).build()).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RetryPolicy.builder().initialBackoff(Duration.ofSeconds(5)).maxBackoff(Duration.ofSeconds(1))
        .build()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxBackoff");
  }

  @Test
  void backoffGrowsExponentiallyWithinJitterAndCap() {
    RetryPolicy p = RetryPolicy.builder().initialBackoff(Duration.ofMillis(100)).maxBackoff(Duration.ofMillis(1000))
        .multiplier(2).jitter(0.2).build();
    for (int i = 0; i < 50; i++) {
      assertThat(p.delayBefore(1, Optional.empty()).toMillis()).isBetween(80L, 120L);
      assertThat(p.delayBefore(3, Optional.empty()).toMillis()).isBetween(320L, 480L);
      assertThat(p.delayBefore(10, Optional.empty()).toMillis()).isBetween(800L, 1200L);
    }
  }

  @Test
  void retryAfterWinsButIsCapped() {
    RetryPolicy p = RetryPolicy.builder().maxRetryAfter(Duration.ofSeconds(10)).build();
    assertThat(p.delayBefore(1, Optional.of(Duration.ofSeconds(3)))).isEqualTo(Duration.ofSeconds(3));
    assertThat(p.delayBefore(1, Optional.of(Duration.ofMinutes(5)))).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void executeRetriesRetriableFailuresUpToMaxAttemptsAndThrowsTheLast() {
    AtomicInteger calls = new AtomicInteger();
    List<Integer> retries = new ArrayList<>();
    assertThatThrownBy(() -> fast.execute(attempt -> {
      calls.incrementAndGet();
      throw new RemoteServiceException(Kind.SERVER_ERROR, 503, "down " + attempt, null, null);
    }, (made, e, delay) -> retries.add(made))).isInstanceOf(RemoteServiceException.class).hasMessage("down 4");
    assertThat(calls).hasValue(4);
    assertThat(retries).containsExactly(1, 2, 3);
  }

  @Test
  void executeStopsAtANonRetriableFailureAndReturnsASuccess() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(() -> fast.execute(attempt -> {
      calls.incrementAndGet();
      throw new RemoteServiceException(Kind.AUTHENTICATION, "no");
    }, (made, e, delay) -> { })).isInstanceOf(RemoteServiceException.class);
    assertThat(calls).hasValue(1);
    String r = fast.execute(attempt -> {
      if (attempt < 3) {
        throw new RemoteServiceException(Kind.RATE_LIMITED, 429, "slow", Duration.ofMillis(1), null);
      }
      return "ok after " + attempt;
    }, (made, e, delay) -> assertThat(delay).isEqualTo(Duration.ofMillis(1)));
    assertThat(r).isEqualTo("ok after 3");
    assertThat(RetryPolicy.none().shouldRetry(new RemoteServiceException(Kind.TIMEOUT, "t"), 1)).isFalse();
  }
}
