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
 * The partial outputs of one job, read by polling {@code /stream/{id}} with the client's poll policy or the one given
 * to {@link RunPodClient#stream(String, Duration, PollPolicy)} (reset to the initial interval whenever chunks
 * arrive). Iteration ends when the job is terminal and no chunks are left; a
 * deadline bounds it. Not thread-safe; use one stream per consumer.
 */
public final class JobStream implements Iterator<StreamChunk>, AutoCloseable {
  private final RunPodClient client;
  private final String jobId;
  private final Deadline deadline;
  private final PollPolicy poll;
  private final ArrayDeque<StreamChunk> buffer = new ArrayDeque<>();
  private Duration interval;
  private JobStatus lastStatus;
  private String error;
  private boolean finished;
  private boolean closed;
  private boolean polledOnce;
  private long nextPollAt;

  JobStream(RunPodClient client, String jobId, Deadline deadline, PollPolicy poll) {
    this.client = client;
    this.jobId = jobId;
    this.deadline = deadline;
    this.poll = poll;
    this.interval = poll.initialInterval();
  }

  public String jobId() {
    return jobId;
  }

  @Override
  public boolean hasNext() {
    ensureOpen();
    fill(Long.MAX_VALUE);
    return !buffer.isEmpty();
  }

  /**
   * Waits at most {@code maxWait} for the next chunk: empty when none arrived in time or the stream is over (tell
   * the two apart with {@link #isFinished()}). Lets a relay do other work, such as keep-alive writes, while a job
   * sits in the queue.
   */
  public Optional<StreamChunk> poll(Duration maxWait) {
    ensureOpen();
    long now = System.nanoTime();
    long wait = Math.max(0, Math.min(maxWait.toNanos(), Long.MAX_VALUE / 4));
    fill(now + wait);
    return Optional.ofNullable(buffer.poll());
  }

  /** True when the job is terminal and every chunk has been consumed. */
  public boolean isFinished() {
    return finished && buffer.isEmpty();
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("JobStream is closed");
    }
  }

  /** Polls until a chunk is buffered, the job is over, or {@code untilNanos} (System.nanoTime) passes. */
  private void fill(long untilNanos) {
    while (buffer.isEmpty() && !finished) {
      if (polledOnce) {
        long now = System.nanoTime();
        if (nextPollAt - now >= deadline.remainingNanos()) {
          throw new RunPodException(Kind.TIMEOUT, 0, "RunPod stream of job " + jobId + " still "
              + lastStatus + " when the deadline of " + deadline.total().toMillis() + " ms passed", null, null, jobId,
              lastStatus);
        }
        if (now - untilNanos >= 0) {
          return;
        }
        long wakeAt = nextPollAt - untilNanos < 0 ? nextPollAt : untilNanos;
        Sleeper.sleep(Duration.ofNanos(Math.max(0, wakeAt - now)));
        if (System.nanoTime() - nextPollAt < 0) {
          return; // woke for the caller's time limit, not for the next poll
        }
      }
      polledOnce = true;
      RunPodClient.StreamPoll p;
      try {
        p = client.pollStream(jobId, deadline);
      } catch (RunPodException e) {
        throw withStatus(e);
      }
      JobStatus status = p.status();
      if (p.error() != null) {
        error = p.error();
      }
      buffer.addAll(p.chunks());
      if (p.chunks().isEmpty()) {
        if (status == null) {
          // A bare-array reply carries no status; ask /status whether the job is over.
          try {
            status = client.statusFor(jobId, deadline).status();
          } catch (RunPodException e) {
            throw withStatus(e);
          }
        }
        if (status.isTerminal()) {
          finished = true;
        }
        interval = RunPodClient.next(interval, poll);
      } else {
        interval = poll.initialInterval();
      }
      nextPollAt = System.nanoTime() + interval.toNanos();
      if (status != null) {
        lastStatus = status;
      }
    }
  }

  /** Adds the last seen status to a failure from a poll, so callers know where the job was when we gave up. */
  private RunPodException withStatus(RunPodException e) {
    if (e.jobStatus().isPresent() || lastStatus == null) {
      return e;
    }
    return new RunPodException(e.kind(), e.httpStatus(), e.getMessage(), e.retryAfter().orElse(null), e, jobId,
        lastStatus);
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
