package dev.securetag.runpod.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class SlidingWindowLimiterTest {

  @Test
  void allowsPermitsPerWindowThenSpacesFurtherStarts() {
    SlidingWindowLimiter l = new SlidingWindowLimiter(2, Duration.ofNanos(100));
    assertThat(l.reserve(0)).isZero();
    assertThat(l.reserve(10)).isZero();
    assertThat(l.reserve(20)).isEqualTo(80);   // slot at 100, when the start at 0 leaves the window
    assertThat(l.reserve(20)).isEqualTo(90);   // slot at 110
    assertThat(l.reserve(300)).isZero();       // window long past: free again
  }

  @Test
  void rejectsNonsenseLimits() {
    assertThatThrownBy(() -> new SlidingWindowLimiter(0, Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new SlidingWindowLimiter(1, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
  }
}
