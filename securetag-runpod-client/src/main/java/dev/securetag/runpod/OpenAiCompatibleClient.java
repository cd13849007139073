package dev.securetag.runpod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.ChatMessage;
import dev.securetag.core.LlmClient;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.core.RemoteServiceException;
import dev.securetag.core.RetryPolicy;
import dev.securetag.core.internal.Json;
import dev.securetag.runpod.internal.Deadline;
import dev.securetag.runpod.internal.HttpSupport;
import dev.securetag.runpod.internal.OutputText;
import dev.securetag.runpod.internal.Secret;
import dev.securetag.runpod.internal.Transport;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * Client for OpenAI-style chat completions ({@code POST {base}/chat/completions}, plain JSON or SSE streaming) as an
 * {@link LlmClient}: RunPod's vLLM worker route ({@link Builder#runPodEndpoint(String)}), Ollama's {@code /v1}, vLLM,
 * or any compatible server. Structured output uses {@code response_format} ({@code json_schema} or
 * {@code json_object}).
 *
 * <pre>{@code
 * try (OpenAiCompatibleClient vllm = OpenAiCompatibleClient.builder()
 *     .runPodEndpoint("abc123")
 *     .apiKey(System.getenv("RUNPOD_API_KEY"))
 *     .model("securetag/qwen2.5-7b-securetag")
 *     .build()) {
 *   System.out.println(vllm.generate(LlmRequest.builder().prompt("Hello").maxTokens(64).build()).text());
 * }
 * }</pre>
 */
public final class OpenAiCompatibleClient implements LlmClient {
  private final HttpUrl baseUrl;
  private final String model;
  private final Secret apiKey;
  private final Timeouts timeouts;
  private final OkHttpClient http;
  private final boolean ownsHttp;
  private final Transport transport;
  private final AtomicBoolean closed = new AtomicBoolean();

  private OpenAiCompatibleClient(Builder b) {
    HttpUrl url = HttpUrl.parse(b.baseUrl);
    if (url == null) {
      throw new IllegalArgumentException("OpenAiCompatibleClient.baseUrl is not an http(s) URL: " + b.baseUrl);
    }
    this.baseUrl = url;
    this.model = b.model;
    this.apiKey = new Secret(b.apiKey == null ? "" : b.apiKey);
    this.timeouts = b.timeouts;
    this.http = HttpSupport.withBearer(HttpSupport.derive(b.httpClient, timeouts.connect(), timeouts.read()), apiKey);
    this.ownsHttp = b.httpClient == null;
    this.transport = new Transport(http, b.retry, apiKey, "OpenAI-compatible server",
        (kind, status, msg, ra, cause, jobId) -> new RemoteServiceException(kind, status, msg, ra, cause));
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String modelName() {
    return model;
  }

  @Override
  public boolean supportsJsonSchema() {
    return true;
  }

  /** The retries this client makes by itself for one call (the builder's {@code retry}, 3 attempts by default). */
  @Override
  public RetryPolicy retryPolicy() {
    return transport.retryPolicy();
  }

  /** Non-streaming chat completion of the prompt (plus system message). */
  @Override
  public LlmResponse generate(LlmRequest request) {
    return chat(messagesOf(request), request, null);
  }

  /** Streaming chat completion over SSE; each content delta goes to {@code onToken}. */
  @Override
  public LlmResponse generateStreaming(LlmRequest request, Consumer<String> onToken) {
    return chat(messagesOf(request), request, Objects.requireNonNull(onToken, "onToken"));
  }

  private static List<ChatMessage> messagesOf(LlmRequest request) {
    List<ChatMessage> msgs = new ArrayList<>();
    request.system().ifPresent(s -> msgs.add(ChatMessage.system(s)));
    msgs.add(ChatMessage.user(request.prompt()));
    return msgs;
  }

  /**
   * A chat completion. {@code settings} (may be null) gives model and sampling options (its prompt and system are
   * ignored here); streams over SSE when {@code onToken} is given.
   */
  @Override
  public LlmResponse chat(List<ChatMessage> messages, LlmRequest settings, Consumer<String> onToken) {
    ensureOpen();
    long start = System.nanoTime();
    ObjectNode body = Json.object();
    String m = settings != null && settings.model().isPresent() ? settings.model().get() : model;
    body.put("model", m);
    ArrayNode msgs = body.putArray("messages");
    for (ChatMessage cm : messages) {
      msgs.addObject().put("role", cm.role()).put("content", cm.content());
    }
    if (settings != null) {
      settings.temperature().ifPresent(t -> body.put("temperature", t));
      settings.topP().ifPresent(t -> body.put("top_p", t));
      // vLLM defaults to 16 tokens without max_tokens; callers should always set it.
      settings.maxTokens().ifPresent(t -> body.put("max_tokens", t));
      settings.seed().ifPresent(s -> body.put("seed", s));
      if (!settings.stop().isEmpty()) {
        ArrayNode stop = body.putArray("stop");
        settings.stop().forEach(stop::add);
      }
      if (settings.jsonSchema().isPresent()) {
        ObjectNode rf = body.putObject("response_format").put("type", "json_schema");
        rf.putObject("json_schema").put("name", "response").put("strict", true).set("schema", settings.jsonSchema().get());
      } else if (settings.jsonMode()) {
        body.putObject("response_format").put("type", "json_object");
      }
    }
    Deadline deadline = Deadline.after(timeouts.deadline());
    String what = "chat/completions";
    if (onToken == null) {
      Request req = new Request.Builder().url(url("chat", "completions")).post(HttpSupport.jsonBody(body)).build();
      JsonNode n = HttpSupport.parse(transport, transport.call(req, true, deadline, what, null).body(), what, null);
      checkError(n, what);
      JsonNode choice = n.path("choices").path(0);
      if (choice.isMissingNode()) {
        throw transport.failure(Kind.BAD_RESPONSE, 200, what + " reply has no choices: " + OutputText.snippet(n.toString()),
            null, null, null);
      }
      return response(choice.path("message").path("content").asText(""), n, start);
    }
    body.put("stream", true);
    body.putObject("stream_options").put("include_usage", true);
    Request req = new Request.Builder().url(url("chat", "completions")).header("Accept", "text/event-stream")
        .post(HttpSupport.jsonBody(body)).build();
    try (Response r = transport.open(http, req, true, deadline, what, null)) {
      return readSse(r, what, onToken, start);
    }
  }

  private LlmResponse readSse(Response r, String what, Consumer<String> onToken, long start) {
    StringBuilder text = new StringBuilder();
    JsonNode last = Json.object();
    String modelSeen = null;
    JsonNode usage = null;
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(r.body().byteStream(), StandardCharsets.UTF_8))) {
      String line;
      StringBuilder data = new StringBuilder();
      while ((line = reader.readLine()) != null) {
        if (line.startsWith("data:")) {
          // SSE allows one optional space after the colon; multi-line data fields are joined by newlines.
          String payload = line.substring(5);
          if (payload.startsWith(" ")) {
            payload = payload.substring(1);
          }
          data.append(data.length() > 0 ? "\n" : "").append(payload);
          continue;
        }
        if (!line.isEmpty() || data.length() == 0) {
          continue; // comments (":"), event/id/retry fields, or blank keep-alives
        }
        String event = data.toString();
        data.setLength(0);
        if (event.equals("[DONE]")) {
          return responseFrom(text, modelSeen, usage, start);
        }
        JsonNode n = HttpSupport.parse(transport, event, what + " SSE event", null);
        checkError(n, what);
        last = n;
        if (n.hasNonNull("model")) {
          modelSeen = n.get("model").asText();
        }
        if (n.path("usage").isObject()) {
          usage = n.get("usage");
        }
        for (JsonNode c : n.path("choices")) {
          String piece = c.path("delta").path("content").asText("");
          if (!piece.isEmpty()) {
            text.append(piece);
            onToken.accept(piece);
          }
        }
      }
    } catch (InterruptedIOException e) {
      throw transport.failure(Kind.TIMEOUT, 200, what + " stream timed out", null, e, null);
    } catch (IOException e) {
      throw transport.failure(Kind.CONNECTION, 200, what + " stream broke: " + e.getMessage(), null, e, null);
    }
    throw transport.failure(Kind.CONNECTION, 200, what + " stream ended without [DONE] after "
        + OutputText.snippet(last.toString()), null, null, null);
  }

  private LlmResponse responseFrom(StringBuilder text, String modelSeen, JsonNode usage, long start) {
    ObjectNode n = Json.object();
    if (modelSeen != null) {
      n.put("model", modelSeen);
    }
    if (usage != null) {
      n.set("usage", usage);
    }
    return response(text.toString(), n, start);
  }

  private LlmResponse response(String text, JsonNode n, long start) {
    LlmResponse.Builder b = LlmResponse.builder().text(text).model(n.path("model").asText(model))
        .duration(Duration.ofNanos(System.nanoTime() - start));
    JsonNode usage = n.path("usage");
    if (usage.path("prompt_tokens").isNumber()) {
      b.promptTokens(usage.get("prompt_tokens").asInt());
    }
    if (usage.path("completion_tokens").isNumber()) {
      b.completionTokens(usage.get("completion_tokens").asInt());
    }
    return b.build();
  }

  private void checkError(JsonNode n, String what) {
    JsonNode e = n.path("error");
    if (e.isObject() || e.isTextual()) {
      String msg = e.isTextual() ? e.asText() : e.path("message").asText(e.toString());
      throw transport.failure(Kind.SERVER_ERROR, 200, what + " failed: " + OutputText.snippet(msg), null, null, null);
    }
  }

  /** Model ids the server lists ({@code GET {base}/models}). */
  public List<String> models() {
    ensureOpen();
    Request req = new Request.Builder().url(url("models")).get().build();
    JsonNode n = HttpSupport.parse(transport,
        transport.call(req, true, Deadline.after(timeouts.deadline()), "models", null).body(), "models", null);
    List<String> out = new ArrayList<>();
    n.path("data").forEach(m -> out.add(m.path("id").asText()));
    return out;
  }

  private HttpUrl url(String... segments) {
    HttpUrl.Builder b = baseUrl.newBuilder();
    for (String s : segments) {
      b.addPathSegment(s);
    }
    return b.build();
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException("OpenAiCompatibleClient is closed");
    }
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true) && ownsHttp) {
      HttpSupport.shutdownOwned(http);
    }
  }

  @Override
  public String toString() {
    return "OpenAiCompatibleClient{baseUrl=" + baseUrl + ", model=" + model + (apiKey.isEmpty() ? "" : ", apiKey=" + apiKey)
        + "}";
  }

  /** Configures an {@link OpenAiCompatibleClient}; {@code baseUrl} (ending in {@code /v1}) and {@code model} are required. */
  public static final class Builder {
    private String baseUrl;
    private String model;
    private String apiKey;
    private Timeouts timeouts = Timeouts.builder().read(Duration.ofMinutes(5)).deadline(Duration.ofMinutes(15)).build();
    private RetryPolicy retry = RetryPolicy.builder().maxAttempts(3).build();
    private OkHttpClient httpClient;

    private Builder() {}

    /** E.g. {@code http://localhost:11434/v1} or {@code http://localhost:8000/v1}. */
    public Builder baseUrl(String v) {
      this.baseUrl = v;
      return this;
    }

    /** Targets RunPod's OpenAI route of a vLLM (or compatible) worker: {@code https://api.runpod.ai/v2/{id}/openai/v1}. */
    public Builder runPodEndpoint(String endpointId) {
      return runPodEndpoint(RunPodClient.DEFAULT_BASE_URL, endpointId);
    }

    /** Like {@link #runPodEndpoint(String)} with another job API base (a fake or a proxy). */
    public Builder runPodEndpoint(String runPodBaseUrl, String endpointId) {
      String base = runPodBaseUrl.endsWith("/") ? runPodBaseUrl : runPodBaseUrl + "/";
      this.baseUrl = base + endpointId + "/openai/v1";
      return this;
    }

    public Builder model(String v) {
      this.model = v;
      return this;
    }

    /** Sent as {@code Authorization: Bearer ..} (for RunPod: the RunPod API key). */
    public Builder apiKey(String v) {
      this.apiKey = v;
      return this;
    }

    public Builder timeouts(Timeouts v) {
      this.timeouts = v;
      return this;
    }

    public Builder retry(RetryPolicy v) {
      this.retry = v;
      return this;
    }

    public Builder httpClient(OkHttpClient v) {
      this.httpClient = v;
      return this;
    }

    public OpenAiCompatibleClient build() {
      if (baseUrl == null || timeouts == null || retry == null) {
        throw new IllegalArgumentException("OpenAiCompatibleClient baseUrl, timeouts and retry must not be null");
      }
      if (baseUrl == null || baseUrl.isBlank()) {
        throw new IllegalArgumentException("OpenAiCompatibleClient.baseUrl is required");
      }
      if (model == null || model.isBlank()) {
        throw new IllegalArgumentException("OpenAiCompatibleClient.model is required");
      }
      return new OpenAiCompatibleClient(this);
    }

    @Override
    public String toString() {
      return "OpenAiCompatibleClient.Builder{baseUrl=" + baseUrl + ", model=" + model + "}";
    }
  }
}
