package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JobStatusTest {

  @Test
  void cancelledAndTimedOutAreTerminalLikeCompletedAndFailed() {
    assertThat(JobStatus.COMPLETED.isTerminal()).isTrue();
    assertThat(JobStatus.FAILED.isTerminal()).isTrue();
    assertThat(JobStatus.CANCELLED.isTerminal()).isTrue();
    assertThat(JobStatus.TIMED_OUT.isTerminal()).isTrue();
    assertThat(JobStatus.IN_QUEUE.isTerminal()).isFalse();
    assertThat(JobStatus.IN_PROGRESS.isTerminal()).isFalse();
    assertThat(JobStatus.UNKNOWN.isTerminal()).isFalse();
  }

  @Test
  void parsesWireValuesIncludingTheRunningSynonym() {
    assertThat(JobStatus.parse("IN_QUEUE")).isEqualTo(JobStatus.IN_QUEUE);
    assertThat(JobStatus.parse("RUNNING")).isEqualTo(JobStatus.IN_PROGRESS);
    assertThat(JobStatus.parse("timed_out")).isEqualTo(JobStatus.TIMED_OUT);
    assertThat(JobStatus.parse("SOMETHING_NEW")).isEqualTo(JobStatus.UNKNOWN);
    assertThat(JobStatus.parse("UNKNOWN")).isEqualTo(JobStatus.UNKNOWN);
    assertThat(JobStatus.parse(null)).isEqualTo(JobStatus.UNKNOWN);
  }
}
