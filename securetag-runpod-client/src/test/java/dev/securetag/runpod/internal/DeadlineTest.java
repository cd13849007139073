package dev.securetag.runpod.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DeadlineTest {

  @Test
  void expiresAndSaturatesHugeBudgets() {
    assertThat(Deadline.after(Duration.ZERO).expired()).isTrue();
    Deadline far = Deadline.after(Duration.ofDays(365 * 1000L));
    assertThat(far.expired()).isFalse();
    assertThat(far.remaining()).isPositive();
    assertThat(Deadline.after(Duration.ofMinutes(1)).total()).isEqualTo(Duration.ofMinutes(1));
  }
}
