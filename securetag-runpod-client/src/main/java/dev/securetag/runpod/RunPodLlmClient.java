package dev.securetag.runpod;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.ChatMessage;
import dev.securetag.core.LlmClient;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.core.RetryPolicy;
import dev.securetag.core.internal.Json;
import dev.securetag.core.ollama.OllamaMessage;
import dev.securetag.runpod.internal.OutputText;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * An {@link LlmClient} over a RunPod Serverless endpoint running the seed's Ollama handler contract: input
 * {@code {"prompt", "model", "system"?, "options"?, "format"?, "stream": false}}, output {@code {"response", "model"}}
 * (list-shaped aggregated outputs and NDJSON strings are unwrapped too); {@link #chat} sends {@code "messages"}
 * instead of {@code "prompt"}, which the Ollama worker forwards to {@code /api/chat}. Uses {@code /runsync} and keeps
 * polling when RunPod answers before the job is done, so long generations and cold starts work. Its HTTP calls are
 * retried by the {@link RunPodClient}'s policy ({@link #retryPolicy()}); a job that FAILED or TIMED_OUT on RunPod is
 * not resubmitted.
 *
 * <pre>{@code
 * try (RunPodLlmClient llm = RunPodLlmClient.builder()
 *     .runPod(RunPodClient.builder().endpointId("abc123").apiKey(System.getenv("RUNPOD_API_KEY")).build())
 *     .model("securetag")
 *     .build()) {
 *   String answer = llm.generate("What does ISO 27001 A.8.2 require?");
 * }
 * }</pre>
 *
 * Failures are {@link RunPodException}s (a {@code RemoteServiceException}): FAILED jobs are JOB_FAILED, TIMED_OUT and
 * deadline expiry are TIMEOUT (retriable), transport errors keep their HTTP kind.
 */
public final class RunPodLlmClient implements LlmClient {
  private final RunPodClient runPod;
  private final boolean ownsRunPod;
  private final String model;
  private final Duration wait;
  private final Duration deadline;
  private final Duration executionTimeout;

  private RunPodLlmClient(Builder b) {
    this.runPod = b.runPod;
    this.ownsRunPod = b.closeRunPod;
    this.model = b.model;
    this.wait = b.wait;
    this.deadline = b.deadline != null ? b.deadline : runPod.timeouts().deadline();
    this.executionTimeout = b.executionTimeout;
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String modelName() {
    return model;
  }

  /** Ollama workers pass {@code format} through, so JSON schemas are honoured. */
  @Override
  public boolean supportsJsonSchema() {
    return true;
  }

  /** The retries of the underlying {@link RunPodClient} (5 attempts by default, submits only when safe). */
  @Override
  public RetryPolicy retryPolicy() {
    return runPod.retryPolicy();
  }

  @Override
  public LlmResponse generate(LlmRequest request) {
    return run(input(request, model));
  }

  /**
   * A conversation as one job: {@code "messages"} (with {@code settings}' system message first, when given) instead of
   * {@code "prompt"}; model, sampling and format from {@code settings} (may be null). The reply arrives whole, so
   * {@code onToken} (may be null) receives it once.
   */
  @Override
  public LlmResponse chat(List<ChatMessage> messages, LlmRequest settings, Consumer<String> onToken) {
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("chat needs at least one message");
    }
    ObjectNode input = input(settings == null ? LlmRequest.of("") : settings, model);
    input.remove("prompt");
    input.remove("system");
    ArrayNode msgs = input.putArray("messages");
    if (settings != null) {
      settings.system().ifPresent(s -> msgs.add(Json.mapper().valueToTree(OllamaMessage.of("system", s))));
    }
    messages.forEach(m -> msgs.add(Json.mapper().valueToTree(OllamaMessage.of(m))));
    LlmResponse r = run(input);
    if (onToken != null && !r.text().isEmpty()) {
      onToken.accept(r.text());
    }
    return r;
  }

  private LlmResponse run(ObjectNode input) {
    long start = System.nanoTime();
    JobRequest.Builder job = JobRequest.builder().input(input);
    if (executionTimeout != null) {
      job.executionTimeout(executionTimeout);
    }
    JobResult result = runPod.runSync(job.build(), wait, deadline).requireCompleted();
    if (!result.hasOutput()) {
      throw new RunPodException(Kind.BAD_RESPONSE, 200, "RunPod job " + result.id() + " COMPLETED without output",
          null, null, result.id(), result.status());
    }
    String text = result.outputText();
    if (!OutputText.hasTextShape(result.output())) {
      throw new RunPodException(Kind.BAD_RESPONSE, 200, "RunPod job " + result.id()
          + " output has no text in a known shape: " + OutputText.snippet(result.output().toString()),
          null, null, result.id(), result.status());
    }
    return LlmResponse.builder()
        .text(text)
        .model(result.outputModel().orElse(input.path("model").asText()))
        .duration(Duration.ofNanos(System.nanoTime() - start))
        .build();
  }

  /** The job input for a request, in the seed handler's contract. */
  static ObjectNode input(LlmRequest request, String defaultModel) {
    ObjectNode input = Json.object();
    input.put("prompt", request.prompt());
    input.put("model", request.model().orElse(defaultModel));
    request.system().ifPresent(s -> input.put("system", s));
    input.put("stream", false);
    ObjectNode opts = Json.object();
    request.temperature().ifPresent(t -> opts.put("temperature", t));
    request.topP().ifPresent(t -> opts.put("top_p", t));
    request.maxTokens().ifPresent(t -> opts.put("num_predict", t));
    request.seed().ifPresent(s -> opts.put("seed", s));
    if (!request.stop().isEmpty()) {
      ArrayNode stop = opts.putArray("stop");
      request.stop().forEach(stop::add);
    }
    if (!opts.isEmpty()) {
      input.set("options", opts);
    }
    if (request.jsonSchema().isPresent()) {
      input.set("format", request.jsonSchema().get());
    } else if (request.jsonMode()) {
      input.put("format", "json");
    }
    return input;
  }

  /** Closes the RunPod client if this instance was told to own it. Idempotent. */
  @Override
  public void close() {
    if (ownsRunPod) {
      runPod.close();
    }
  }

  @Override
  public String toString() {
    return "RunPodLlmClient{model=" + model + ", runPod=" + runPod + "}";
  }

  /** Configures a {@link RunPodLlmClient}; {@code runPod} and {@code model} are required. */
  public static final class Builder {
    private RunPodClient runPod;
    private boolean closeRunPod = true;
    private String model;
    private Duration wait = Duration.ofSeconds(90);
    private Duration deadline;
    private Duration executionTimeout;

    private Builder() {}

    /** The endpoint client; closed with this client unless {@link #shareRunPod(boolean)} says otherwise. */
    public Builder runPod(RunPodClient v) {
      this.runPod = v;
      return this;
    }

    /** When true the RunPod client is shared and not closed by {@link RunPodLlmClient#close()}. */
    public Builder shareRunPod(boolean shared) {
      this.closeRunPod = !shared;
      return this;
    }

    /** The Ollama model name the worker serves. */
    public Builder model(String v) {
      this.model = v;
      return this;
    }

    /** The {@code /runsync} wait (1 to 300 s, default 90 s). */
    public Builder wait(Duration v) {
      this.wait = v;
      return this;
    }

    /** Whole-call limit per generation; defaults to the RunPod client's deadline. */
    public Builder deadline(Duration v) {
      this.deadline = v;
      return this;
    }

    /** Per-job {@code policy.executionTimeout}. */
    public Builder executionTimeout(Duration v) {
      this.executionTimeout = v;
      return this;
    }

    public RunPodLlmClient build() {
      if (runPod == null) {
        throw new IllegalArgumentException("RunPodLlmClient.runPod is required");
      }
      if (model == null || model.isBlank()) {
        throw new IllegalArgumentException("RunPodLlmClient.model is required");
      }
      if (wait == null || wait.compareTo(Duration.ofSeconds(1)) < 0 || wait.compareTo(Duration.ofSeconds(300)) > 0) {
        throw new IllegalArgumentException("RunPodLlmClient.wait must be between 1 and 300 seconds");
      }
      return new RunPodLlmClient(this);
    }
  }
}
