package dev.securetag.runpod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.securetag.core.RemoteServiceException;
import dev.securetag.runpod.internal.OutputText;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * One job as RunPod reports it from {@code /run}, {@code /runsync}, {@code /status}, {@code /cancel} or
 * {@code /retry}: id, status, queue and run times, {@code output} as raw JSON (object, list or string, depending on
 * the worker) and {@code error} as the opaque string RunPod returns (often JSON inside a string).
 */
public final class JobResult {
  private final String id;
  private final JobStatus status;
  private final String rawStatus;
  private final Duration delayTime;
  private final Duration executionTime;
  private final JsonNode output;
  private final String error;
  private final String workerId;

  public JobResult(
      String id,
      JobStatus status,
      String rawStatus,
      Duration delayTime,
      Duration executionTime,
      JsonNode output,
      String error,
      String workerId) {
    this.id = Objects.requireNonNull(id, "id");
    this.status = Objects.requireNonNull(status, "status");
    this.rawStatus = rawStatus == null ? status.name() : rawStatus;
    this.delayTime = delayTime;
    this.executionTime = executionTime;
    this.output = output == null ? MissingNode.getInstance() : output;
    this.error = error;
    this.workerId = workerId;
  }

  /** Parses a RunPod job JSON body; unknown fields are ignored. */
  public static JobResult fromJson(JsonNode node) {
    JsonNode id = node.get("id");
    if (id == null || !id.isTextual()) {
      throw new IllegalArgumentException("RunPod job JSON has no string id: " + OutputText.snippet(node.toString()));
    }
    JsonNode st = node.get("status");
    String raw = st == null || st.isNull() ? null : st.asText();
    JsonNode err = node.get("error");
    String error = err == null || err.isNull() ? null : (err.isTextual() ? err.asText() : err.toString());
    JsonNode worker = node.get("workerId");
    return new JobResult(
        id.asText(),
        JobStatus.parse(raw),
        raw,
        millis(node.get("delayTime")),
        millis(node.get("executionTime")),
        node.get("output"),
        error,
        worker == null || worker.isNull() ? null : worker.asText());
  }

  private static Duration millis(JsonNode n) {
    return n != null && n.isNumber() ? Duration.ofMillis(n.asLong()) : null;
  }

  public String id() {
    return id;
  }

  public JobStatus status() {
    return status;
  }

  /** The status string exactly as RunPod sent it (useful when {@link #status()} is UNKNOWN). */
  public String rawStatus() {
    return rawStatus;
  }

  public boolean isTerminal() {
    return status.isTerminal();
  }

  /** Time in queue before a worker took the job, cold start included. */
  public Optional<Duration> delayTime() {
    return Optional.ofNullable(delayTime);
  }

  /** Time the worker spent running the job. */
  public Optional<Duration> executionTime() {
    return Optional.ofNullable(executionTime);
  }

  /** The output JSON, or a missing node when RunPod sent none. */
  public JsonNode output() {
    return output;
  }

  public boolean hasOutput() {
    return !output.isMissingNode() && !output.isNull();
  }

  /** The error string of a FAILED job (opaque; see {@link #errorJson()}). */
  public Optional<String> error() {
    return Optional.ofNullable(error);
  }

  /** The error parsed as JSON when it holds JSON (runpod-python workers put {@code error_message} etc. in it). */
  public Optional<JsonNode> errorJson() {
    return error == null ? Optional.empty() : OutputText.tryParseJson(error);
  }

  /** The most readable error message: {@code error_message} from a runpod-python error, else the raw string. */
  public Optional<String> errorMessage() {
    if (error == null) {
      return Optional.empty();
    }
    return Optional.of(
        errorJson()
            .map(j -> j.hasNonNull("error_message") ? j.get("error_message").asText()
                : j.hasNonNull("error") ? j.get("error").asText() : error)
            .orElse(error));
  }

  public Optional<String> workerId() {
    return Optional.ofNullable(workerId);
  }

  /**
   * The generated text for the Ollama-worker output shapes: the seed's {@code {response, model}}, a chat
   * {@code {message:{content}}}, a list of such objects or of NDJSON strings ({@code return_aggregate_stream}), or a
   * plain string.
   */
  public String outputText() {
    return OutputText.text(output);
  }

  /** The model named in an Ollama-worker output, if any. */
  public Optional<String> outputModel() {
    return OutputText.model(output);
  }

  /**
   * Returns this result if COMPLETED, otherwise throws a {@link RunPodException} with kind JOB_FAILED
   * (FAILED, CANCELLED), TIMEOUT (TIMED_OUT) or BAD_RESPONSE (not terminal).
   */
  public JobResult requireCompleted() {
    switch (status) {
      case COMPLETED:
        return this;
      case FAILED:
        throw new RunPodException(RemoteServiceException.Kind.JOB_FAILED, 0,
            "RunPod job " + id + " FAILED: " + OutputText.snippet(errorMessage().orElse("(no error message)")),
            null, null, id, status);
      case TIMED_OUT:
        throw new RunPodException(RemoteServiceException.Kind.TIMEOUT, 0,
            "RunPod job " + id + " TIMED_OUT (queue TTL or execution timeout)", null, null, id, status);
      case CANCELLED:
        throw new RunPodException(RemoteServiceException.Kind.JOB_FAILED, 0,
            "RunPod job " + id + " was CANCELLED", null, null, id, status);
      default:
        throw new RunPodException(RemoteServiceException.Kind.BAD_RESPONSE, 0,
            "RunPod job " + id + " is not finished (" + rawStatus + ")", null, null, id, status);
    }
  }

  @Override
  public String toString() {
    return "JobResult{id=" + id + ", status=" + rawStatus
        + (delayTime != null ? ", delayTime=" + delayTime.toMillis() + "ms" : "")
        + (executionTime != null ? ", executionTime=" + executionTime.toMillis() + "ms" : "")
        + (hasOutput() ? ", output=" + OutputText.snippet(output.toString()) : "")
        + (error != null ? ", error=" + OutputText.snippet(error) : "") + "}";
  }
}
