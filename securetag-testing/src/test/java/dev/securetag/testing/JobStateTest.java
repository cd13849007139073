package dev.securetag.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class JobStateTest {

  @Test
  void namesAreRunPodsWireStatusesAndOnlyEndStatesAreTerminal() {
    assertThat(Arrays.stream(JobState.values()).map(Enum::name))
        .containsExactly("IN_QUEUE", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT");
    assertThat(JobState.IN_QUEUE.isTerminal()).isFalse();
    assertThat(JobState.IN_PROGRESS.isTerminal()).isFalse();
    assertThat(JobState.COMPLETED.isTerminal()).isTrue();
    assertThat(JobState.FAILED.isTerminal()).isTrue();
    assertThat(JobState.CANCELLED.isTerminal()).isTrue();
    assertThat(JobState.TIMED_OUT.isTerminal()).isTrue();
  }
}
