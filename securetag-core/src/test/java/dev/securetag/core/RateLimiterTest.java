package dev.securetag.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RateLimiterTest {

  @Test
  void allowsPermitsPerWindowThenSpacesFurtherStarts() {
    RateLimiter l = RateLimiter.of(2, Duration.ofNanos(100));
    assertThat(l.reserve(0)).isZero();
    assertThat(l.reserve(10)).isZero();
    assertThat(l.reserve(20)).isEqualTo(80);   // slot at 100, when the start at 0 leaves the window
    assertThat(l.reserve(20)).isEqualTo(90);   // slot at 110
    assertThat(l.reserve(300)).isZero();       // window long past: free again
  }

  @Test
  void perMinuteSpacesStartsEvenly() {
    RateLimiter l = RateLimiter.perMinute(60);
    assertThat(l.reserve(0)).isZero();
    assertThat(l.reserve(0)).isEqualTo(1_000_000_000L);
    assertThat(l.reserve(500_000_000L)).isEqualTo(1_500_000_000L);
    assertThat(RateLimiter.perMinute(0).isUnlimited()).isTrue();
    assertThat(RateLimiter.unlimited().reserve(0)).isZero();
    assertThat(RateLimiter.of(3, Duration.ofSeconds(10))).hasToString("RateLimiter{3/10000ms}");
  }

  @Test
  void rejectsNonsenseLimits() {
    assertThatThrownBy(() -> RateLimiter.of(0, Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RateLimiter.of(1, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
  }
}
