package dev.securetag.testing;

/**
 * A job's state in {@link FakeRunPodEndpoint}, named as RunPod writes it on the wire ({@code IN_QUEUE},
 * {@code IN_PROGRESS}, {@code COMPLETED}, {@code FAILED}, {@code CANCELLED}, {@code TIMED_OUT}).
 */
public enum JobState {
  IN_QUEUE,
  IN_PROGRESS,
  COMPLETED,
  FAILED,
  CANCELLED,
  TIMED_OUT;

  /** True for states a job never leaves (except through {@code /retry} for FAILED and TIMED_OUT). */
  public boolean isTerminal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED || this == TIMED_OUT;
  }
}
