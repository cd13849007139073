package dev.securetag.runpod;

import java.util.Optional;

/**
 * A training job on a RunPod pod did not finish: the pod vanished or died mid-run, never came up in time, or the job
 * itself failed. The pod has been terminated by the time this is thrown (or its id is named in the message when
 * terminating failed).
 */
public class PodJobException extends RunPodException {
  private static final long serialVersionUID = 1L;

  /** Why the job stopped. */
  public enum Reason {
    /** The pod disappeared or exited while the job ran (host failure, spot reclaim, manual terminate). */
    POD_LOST,
    /** The pod's job server did not answer within the start timeout (image pull, no capacity). */
    START_TIMEOUT,
    /** The job ran and reported a failure (bad options, bad data, out of memory). */
    JOB_FAILED,
    /** The job did not finish within the run timeout. */
    RUN_TIMEOUT
  }

  private final Reason reason;
  private final String podId;

  public PodJobException(Reason reason, String podId, String message, Throwable cause) {
    super(reason == Reason.JOB_FAILED ? Kind.INVALID_REQUEST : Kind.SERVER_ERROR, 0, message, null, cause, null, null);
    this.reason = reason;
    this.podId = podId;
  }

  public Reason reason() {
    return reason;
  }

  public Optional<String> podId() {
    return Optional.ofNullable(podId);
  }
}
