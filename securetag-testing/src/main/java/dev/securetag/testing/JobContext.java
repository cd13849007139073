package dev.securetag.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;

/**
 * What a {@link JobHandler} running inside {@link FakeRunPodEndpoint} sees of its job, mirroring a RunPod Python
 * worker: the job id and {@code input}, a way to yield partial output (a generator handler) and to post progress.
 */
public interface JobContext {

  /** The job id ({@code sync-} prefixed for {@code /runsync} jobs). */
  String id();

  /** The {@code input} object exactly as submitted. */
  JsonNode input();

  /**
   * Yields one partial output, like a Python generator handler's {@code yield}: it becomes one {@code {"output": v}}
   * element on {@code /stream/{id}}, and, when the endpoint aggregates streams, one element of the final output list.
   */
  void emit(JsonNode chunk);

  /** Posts a progress update that shows up as {@code output} of {@code /status} while the job is IN_PROGRESS. */
  void progress(JsonNode update);

  /** True once the job was cancelled, timed out or expired; handlers doing long work should check it. */
  boolean isCancelled();

  /** Sleeps, returning early (by throwing) when the job is cancelled. */
  void sleep(Duration duration) throws InterruptedException;
}
