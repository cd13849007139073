package dev.securetag.runpod;

import dev.securetag.core.RemoteServiceException;
import java.time.Duration;
import java.util.Optional;

/**
 * A RunPod call failed. Adds the job id (when the failure concerns a job, so callers can resume polling or cancel)
 * and the job's last known status to {@link RemoteServiceException}. Messages never contain the API key.
 */
public class RunPodException extends RemoteServiceException {
  private static final long serialVersionUID = 1L;

  private final String jobId;
  private final JobStatus jobStatus;

  public RunPodException(
      Kind kind, int httpStatus, String message, Duration retryAfter, Throwable cause, String jobId, JobStatus jobStatus) {
    super(kind, httpStatus, message, retryAfter, cause);
    this.jobId = jobId;
    this.jobStatus = jobStatus;
  }

  /** The job this failure concerns, if any. */
  public Optional<String> jobId() {
    return Optional.ofNullable(jobId);
  }

  /** The job's last known status, if one was seen. */
  public Optional<JobStatus> jobStatus() {
    return Optional.ofNullable(jobStatus);
  }
}
