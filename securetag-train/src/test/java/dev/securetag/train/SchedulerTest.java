package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SchedulerTest {
  @Test
  void schedulersFollowTransformersFormulas() {
    assertThat(Scheduler.LINEAR.factor(0, 10, 110)).isEqualTo(0.0);
    assertThat(Scheduler.LINEAR.factor(5, 10, 110)).isEqualTo(0.5);
    assertThat(Scheduler.LINEAR.factor(10, 10, 110)).isEqualTo(1.0);
    assertThat(Scheduler.LINEAR.factor(60, 10, 110)).isEqualTo(0.5);
    assertThat(Scheduler.LINEAR.factor(110, 10, 110)).isEqualTo(0.0);
    assertThat(Scheduler.COSINE.factor(10, 10, 110)).isEqualTo(1.0);
    assertThat(Scheduler.COSINE.factor(60, 10, 110)).isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(Scheduler.COSINE.factor(35, 10, 110)).isCloseTo(0.5 * (1 + Math.cos(Math.PI * 0.25)),
        org.assertj.core.data.Offset.offset(1e-12));
    assertThat(Scheduler.CONSTANT.factor(3, 4, 100)).isEqualTo(0.75);
    assertThat(Scheduler.CONSTANT.factor(99, 4, 100)).isEqualTo(1.0);
  }
}
