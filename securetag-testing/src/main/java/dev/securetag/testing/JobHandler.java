package dev.securetag.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.function.Function;

/**
 * The worker code a {@link FakeRunPodEndpoint} runs for each job, with the contract of a RunPod Python handler:
 * <ul>
 *   <li>sync form: return the output (any JSON); a returned object with a string {@code error} marks the job
 *       FAILED with that error and the rest of the object as output;</li>
 *   <li>generator form: call {@link JobContext#emit(JsonNode)} for each partial output and return {@code null};
 *       the final output is the list of emitted values when the endpoint aggregates streams, else an empty list;</li>
 *   <li>throwing marks the job FAILED with a runpod-python style error string (JSON inside a string).</li>
 * </ul>
 */
@FunctionalInterface
public interface JobHandler {

  /** Runs one job. */
  JsonNode handle(JobContext job) throws Exception;

  /** A sync handler computed from the input alone. */
  static JobHandler sync(Function<JsonNode, JsonNode> fn) {
    return job -> fn.apply(job.input());
  }
}
