package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TimeoutsTest {

  @Test
  void defaultsBoundEachCallToThirtySecondsAndEachJobToFifteenMinutes() {
    Timeouts t = Timeouts.defaults();
    assertThat(t.connect()).isEqualTo(Duration.ofSeconds(10));
    assertThat(t.read()).isEqualTo(Duration.ofSeconds(30));
    assertThat(t.call()).isEqualTo(Duration.ofSeconds(30));
    assertThat(t.runSyncMargin()).isEqualTo(Duration.ofSeconds(15));
    assertThat(t.deadline()).isEqualTo(Duration.ofMinutes(15));
    assertThat(Timeouts.builder().call(Duration.ofSeconds(5)).build().call()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void rejectsNonPositiveLimits() {
    assertThatThrownBy(() -> Timeouts.builder().call(Duration.ZERO).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive");
    assertThatThrownBy(() -> Timeouts.builder().read(Duration.ofSeconds(-1)).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Timeouts.builder().deadline(Duration.ZERO).build())
        .isInstanceOf(IllegalArgumentException.class);
  }
}
