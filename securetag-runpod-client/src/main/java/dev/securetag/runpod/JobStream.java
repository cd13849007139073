package dev.securetag.runpod;

import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.runpod.internal.Deadline;
import dev.securetag.runpod.internal.Sleeper;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * The partial outputs of one job, read by polling {@code /stream/{id}} with the client's poll policy (reset to the
 * initial interval whenever chunks arrive). Iteration ends when the job is terminal and no chunks are left; a
 * deadline bounds it. Not thread-safe; use one stream per consumer.
 */
public final class JobStream implements Iterator<StreamChunk>, AutoCloseable {
  private final RunPodClient client;
  private final String jobId;
  private final Deadline deadline;
  private final ArrayDeque<StreamChunk> buffer = new ArrayDeque<>();
  private Duration interval;
  private JobStatus lastStatus;
  private String error;
  private boolean finished;
  private boolean closed;
  private boolean polledOnce;

  JobStream(RunPodClient client, String jobId, Deadline deadline) {
    this.client = client;
    this.jobId = jobId;
    this.deadline = deadline;
    this.interval = client.pollPolicy().initialInterval();
  }

  public String jobId() {
    return jobId;
  }

  @Override
  public boolean hasNext() {
    if (closed) {
      throw new IllegalStateException("JobStream is closed");
    }
    while (buffer.isEmpty() && !finished) {
      if (polledOnce) {
        if (interval.compareTo(deadline.remaining()) >= 0) {
          throw new RunPodException(Kind.TIMEOUT, 0, "RunPod stream of job " + jobId + " still "
              + lastStatus + " when the deadline of " + deadline.total().toMillis() + " ms passed", null, null, jobId,
              lastStatus);
        }
        Sleeper.sleep(interval);
      }
      polledOnce = true;
      RunPodClient.StreamPoll p = client.pollStream(jobId, deadline);
      JobStatus status = p.status();
      if (p.error() != null) {
        error = p.error();
      }
      buffer.addAll(p.chunks());
      if (p.chunks().isEmpty()) {
        if (status == null) {
          // A bare-array reply carries no status; ask /status whether the job is over.
          status = client.statusFor(jobId, deadline).status();
        }
        if (status.isTerminal()) {
          finished = true;
        }
        interval = client.next(interval);
      } else {
        interval = client.pollPolicy().initialInterval();
      }
      if (status != null) {
        lastStatus = status;
      }
    }
    return !buffer.isEmpty();
  }

  @Override
  public StreamChunk next() {
    if (!hasNext()) {
      throw new NoSuchElementException("stream of job " + jobId + " is finished");
    }
    return buffer.poll();
  }

  /** The last status seen; terminal once {@link #hasNext()} returned false. */
  public Optional<JobStatus> lastStatus() {
    return Optional.ofNullable(lastStatus);
  }

  /** The error string the stream reported, if any. */
  public Optional<String> error() {
    return Optional.ofNullable(error);
  }

  /** Cancels the job on RunPod. */
  public JobResult cancel() {
    return client.cancel(jobId);
  }

  /** Stops iterating; does not cancel the job. Idempotent. */
  @Override
  public void close() {
    closed = true;
  }
}
