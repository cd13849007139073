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

  @Test
  void withinTakesTheEarlierOfTheTwoLimits() {
    Deadline job = Deadline.after(Duration.ofMinutes(15));
    Deadline call = job.within(Duration.ofSeconds(30));
    assertThat(call.total()).isEqualTo(Duration.ofSeconds(30));
    assertThat(call.remaining()).isLessThanOrEqualTo(Duration.ofSeconds(30));
    Deadline nearlyOver = Deadline.after(Duration.ofMillis(100));
    assertThat(nearlyOver.within(Duration.ofSeconds(30))).isSameAs(nearlyOver);
    assertThat(Deadline.after(Duration.ofDays(365 * 1000L)).within(Duration.ofDays(365 * 2000L)).expired()).isFalse();
  }
}
