package dev.securetag.runpod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.Json;
import dev.securetag.core.LlmClient;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.core.RemoteServiceException;
import dev.securetag.core.RemoteServiceException.Kind;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * Client for the Ollama REST API ({@code /api/generate}, {@code /api/chat} with and without NDJSON streaming,
 * {@code /api/tags}, {@code /api/show}, {@code /api/version}), usable as an {@link LlmClient}. It also talks to
 * anything speaking the Ollama API, such as {@link OllamaRunPodProxy}; an optional bearer token supports Ollama
 * behind an authenticating reverse proxy.
 *
 * <pre>{@code
 * try (OllamaClient ollama = OllamaClient.builder()
 *     .baseUrl("http://localhost:11434")
 *     .model("llama3.2")
 *     .keepAlive("10m")
 *     .option("num_ctx", 8192)
 *     .build()) {
 *   String answer = ollama.generate("Summarise ISO 27001 A.5.1 in one sentence.");
 *   ollama.generateStreaming(LlmRequest.of("Count to 5"), System.out::print);
 * }
 * }</pre>
 *
 * <p>Errors are {@link RemoteServiceException}s: 404 unknown model (NOT_FOUND), 400 bad request, 429/503 (retriable),
 * and an {@code {"error":..}} line in the middle of a stream (SERVER_ERROR, although the HTTP status was 200).
 */
public final class OllamaClient implements LlmClient {
  public static final String DEFAULT_BASE_URL = "http://localhost:11434";

  private final HttpUrl baseUrl;
  private final String model;
  private final Secret token;
  private final String keepAlive;
  private final Map<String, Object> options;
  private final Timeouts timeouts;
  private final OkHttpClient http;
  private final boolean ownsHttp;
  private final Transport transport;
  private final AtomicBoolean closed = new AtomicBoolean();

  private OllamaClient(Builder b) {
    HttpUrl url = HttpUrl.parse(b.baseUrl);
    if (url == null) {
      throw new IllegalArgumentException("OllamaClient.baseUrl is not an http(s) URL: " + b.baseUrl);
    }
    this.baseUrl = url;
    this.model = b.model;
    this.token = new Secret(b.bearerToken == null ? "" : b.bearerToken);
    this.keepAlive = b.keepAlive;
    this.options = Map.copyOf(b.options);
    this.timeouts = b.timeouts;
    this.http = HttpSupport.withBearer(HttpSupport.derive(b.httpClient, timeouts.connect(), timeouts.read()), token);
    this.ownsHttp = b.httpClient == null;
    this.transport = new Transport(http, b.retry, token, "Ollama",
        (kind, status, msg, ra, cause, jobId) -> new RemoteServiceException(kind, status, msg, ra, cause));
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String modelName() {
    return model;
  }

  /** Ollama's {@code format} honours JSON schemas. */
  @Override
  public boolean supportsJsonSchema() {
    return true;
  }

  // ------------------------------------------------------------------ LlmClient

  /** Non-streaming {@code /api/generate}. */
  @Override
  public LlmResponse generate(LlmRequest request) {
    long start = System.nanoTime();
    OllamaResponse r = generate(request, null);
    return toLlm(r, start);
  }

  static LlmResponse toLlm(OllamaResponse r, long startNanos) {
    LlmResponse.Builder b = LlmResponse.builder().text(r.text()).model(r.model())
        .duration(Duration.ofNanos(System.nanoTime() - startNanos));
    r.promptEvalCount().ifPresent(b::promptTokens);
    r.evalCount().ifPresent(b::completionTokens);
    return b.build();
  }

  /**
   * {@code /api/generate}; streams NDJSON when {@code onToken} is given (each partial {@code response} is passed to it
   * as it arrives), otherwise asks for one JSON object.
   */
  public OllamaResponse generate(LlmRequest request, Consumer<String> onToken) {
    ObjectNode body = Json.object();
    body.put("model", request.model().orElse(requireModel()));
    body.put("prompt", request.prompt());
    request.system().ifPresent(s -> body.put("system", s));
    applyCommon(body, request);
    return send("/api/generate", body, onToken == null ? null : chunk -> onToken.accept(chunk.path("response").asText("")));
  }

  /** Streaming {@code /api/generate}: tokens go to {@code onToken} as they arrive. */
  public OllamaResponse generateStreaming(LlmRequest request, Consumer<String> onToken) {
    return generate(request, Objects.requireNonNull(onToken, "onToken"));
  }

  /** Non-streaming {@code /api/chat} with this client's model and default options. */
  public OllamaResponse chat(List<ChatMessage> messages) {
    return chat(messages, null, null);
  }

  /**
   * {@code /api/chat}. {@code settings} (may be null) supplies model, format and sampling options; its prompt is
   * ignored. Streams when {@code onToken} is given.
   */
  public OllamaResponse chat(List<ChatMessage> messages, LlmRequest settings, Consumer<String> onToken) {
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("chat needs at least one message");
    }
    ObjectNode body = Json.object();
    body.put("model", settings != null && settings.model().isPresent() ? settings.model().get() : requireModel());
    ArrayNode msgs = body.putArray("messages");
    if (settings != null) {
      settings.system().ifPresent(s -> msgs.addObject().put("role", "system").put("content", s));
    }
    for (ChatMessage m : messages) {
      msgs.addObject().put("role", m.role()).put("content", m.content());
    }
    applyCommon(body, settings);
    return send("/api/chat", body,
        onToken == null ? null : chunk -> onToken.accept(chunk.path("message").path("content").asText("")));
  }

  /**
   * Sends a raw Ollama body to {@code /api/generate} or {@code /api/chat} (any field Ollama knows: {@code tools},
   * {@code think}, {@code images}, ...). Streams when {@code onChunk} is given and the body does not say
   * {@code "stream": false}; each NDJSON object goes to it.
   */
  public OllamaResponse send(String path, ObjectNode body, Consumer<JsonNode> onChunk) {
    ensureOpen();
    boolean stream = onChunk != null && body.path("stream").asBoolean(true);
    ObjectNode copy = body.deepCopy();
    copy.put("stream", stream);
    Deadline deadline = Deadline.after(timeouts.deadline());
    Request req = new Request.Builder().url(url(path)).post(HttpSupport.jsonBody(copy)).build();
    if (!stream) {
      String reply = transport.call(req, true, deadline, path, null).body();
      JsonNode n = HttpSupport.parse(transport, reply, path, null);
      checkError(n, path);
      return fromFinal(n, OutputText.text(n), n.path("thinking").asText(n.path("message").path("thinking").asText("")),
          n.path("message").path("tool_calls"));
    }
    try (Response r = transport.open(http, req, true, deadline, path, null)) {
      return readStream(r, path, onChunk);
    }
  }

  private OllamaResponse readStream(Response r, String path, Consumer<JsonNode> onChunk) {
    StringBuilder text = new StringBuilder();
    StringBuilder thinking = new StringBuilder();
    ArrayNode toolCalls = Json.mapper().createArrayNode();
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(r.body().byteStream(), StandardCharsets.UTF_8))) {
      String line;
      int lineNo = 0;
      while ((line = reader.readLine()) != null) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode n = HttpSupport.parse(transport, line, path + " stream line " + lineNo, null);
        checkError(n, path);
        String piece = n.has("message") ? n.path("message").path("content").asText("") : n.path("response").asText("");
        text.append(piece);
        thinking.append(n.has("message") ? n.path("message").path("thinking").asText("") : n.path("thinking").asText(""));
        JsonNode tc = n.path("message").path("tool_calls");
        if (tc.isArray()) {
          tc.forEach(toolCalls::add);
        }
        onChunk.accept(n);
        if (n.path("done").asBoolean(false)) {
          return fromFinal(n, text.toString(), thinking.toString(), toolCalls.isEmpty() ? null : toolCalls);
        }
      }
    } catch (InterruptedIOException e) {
      throw transport.failure(Kind.TIMEOUT, 200, path + " stream timed out", null, e, null);
    } catch (IOException e) {
      throw transport.failure(Kind.CONNECTION, 200, path + " stream broke: " + e.getMessage(), null, e, null);
    }
    throw transport.failure(Kind.CONNECTION, 200, path + " stream ended without a done line", null, null, null);
  }

  private void checkError(JsonNode n, String path) {
    if (n.path("error").isTextual()) {
      // Ollama reports failures during generation as an error line under HTTP 200.
      throw transport.failure(Kind.SERVER_ERROR, 200, path + " failed: " + OutputText.snippet(n.get("error").asText()),
          null, null, null);
    }
  }

  private static OllamaResponse fromFinal(JsonNode n, String text, String thinking, JsonNode toolCalls) {
    return new OllamaResponse(n.path("model").asText(""), text, thinking,
        n.hasNonNull("done_reason") ? n.get("done_reason").asText() : null, toolCalls, n);
  }

  private void applyCommon(ObjectNode body, LlmRequest request) {
    if (request != null) {
      if (request.jsonSchema().isPresent()) {
        body.set("format", request.jsonSchema().get());
      } else if (request.jsonMode()) {
        body.put("format", "json");
      }
    }
    ObjectNode opts = Json.object();
    options.forEach((k, v) -> opts.set(k, Json.mapper().valueToTree(v)));
    if (request != null) {
      request.temperature().ifPresent(t -> opts.put("temperature", t));
      request.topP().ifPresent(t -> opts.put("top_p", t));
      request.maxTokens().ifPresent(t -> opts.put("num_predict", t));
      request.seed().ifPresent(s -> opts.put("seed", s));
      if (!request.stop().isEmpty()) {
        ArrayNode stop = opts.putArray("stop");
        request.stop().forEach(stop::add);
      }
    }
    if (!opts.isEmpty()) {
      body.set("options", opts);
    }
    if (keepAlive != null) {
      body.put("keep_alive", keepAlive);
    }
  }

  // ------------------------------------------------------------------ model management

  /** Locally available models ({@code GET /api/tags}). */
  public List<OllamaModel> tags() {
    JsonNode n = getJson("/api/tags");
    List<OllamaModel> out = new ArrayList<>();
    for (JsonNode m : n.path("models")) {
      out.add(OllamaModel.fromJson(m));
    }
    return out;
  }

  /** Model details ({@code POST /api/show}): modelfile, parameters, template, details, capabilities. */
  public JsonNode show(String modelName) {
    ensureOpen();
    Request req = new Request.Builder().url(url("/api/show"))
        .post(HttpSupport.jsonBody(Json.object().put("model", modelName))).build();
    return HttpSupport.parse(transport,
        transport.call(req, true, Deadline.after(timeouts.deadline()), "/api/show", null).body(), "/api/show", null);
  }

  /** The server version ({@code GET /api/version}). */
  public String version() {
    return getJson("/api/version").path("version").asText("");
  }

  private JsonNode getJson(String path) {
    ensureOpen();
    Request req = new Request.Builder().url(url(path)).get().build();
    return HttpSupport.parse(transport, transport.call(req, true, Deadline.after(timeouts.deadline()), path, null).body(),
        path, null);
  }

  private HttpUrl url(String path) {
    HttpUrl.Builder b = baseUrl.newBuilder();
    for (String seg : path.split("/")) {
      if (!seg.isEmpty()) {
        b.addPathSegment(seg);
      }
    }
    return b.build();
  }

  private String requireModel() {
    if (model == null) {
      throw new IllegalStateException("OllamaClient has no default model; set builder().model(..) or LlmRequest.model");
    }
    return model;
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException("OllamaClient is closed");
    }
  }

  /** Releases connections of an HTTP client this instance created. Idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true) && ownsHttp) {
      HttpSupport.shutdownOwned(http);
    }
  }

  @Override
  public String toString() {
    return "OllamaClient{baseUrl=" + baseUrl + ", model=" + model + (token.isEmpty() ? "" : ", token=" + token) + "}";
  }

  /** Configures an {@link OllamaClient}. */
  public static final class Builder {
    private String baseUrl = DEFAULT_BASE_URL;
    private String model;
    private String bearerToken;
    private String keepAlive;
    private final Map<String, Object> options = new LinkedHashMap<>();
    // Generation on CPU can take minutes: the common 60 s read timeout is the top complaint about Java Ollama clients.
    private Timeouts timeouts = Timeouts.builder().read(Duration.ofMinutes(10)).deadline(Duration.ofMinutes(30)).build();
    private RetryPolicy retry = RetryPolicy.builder().maxAttempts(3).build();
    private OkHttpClient httpClient;

    private Builder() {}

    public Builder baseUrl(String v) {
      this.baseUrl = Objects.requireNonNull(v, "baseUrl");
      return this;
    }

    /** Default model for {@link LlmClient#generate(LlmRequest)} and chat. */
    public Builder model(String v) {
      this.model = v;
      return this;
    }

    /** Sends {@code Authorization: Bearer <token>} (Ollama behind an authenticating proxy). */
    public Builder bearerToken(String v) {
      this.bearerToken = v;
      return this;
    }

    /** {@code keep_alive} for every request: a duration string like {@code "10m"}, {@code "-1"} or {@code "0"}. */
    public Builder keepAlive(String v) {
      this.keepAlive = v;
      return this;
    }

    /** A default Ollama option ({@code num_ctx}, {@code top_k}, {@code repeat_penalty}, ...) sent with every request. */
    public Builder option(String name, Object value) {
      options.put(Objects.requireNonNull(name), Objects.requireNonNull(value));
      return this;
    }

    public Builder timeouts(Timeouts v) {
      this.timeouts = Objects.requireNonNull(v);
      return this;
    }

    public Builder retry(RetryPolicy v) {
      this.retry = Objects.requireNonNull(v);
      return this;
    }

    public Builder httpClient(OkHttpClient v) {
      this.httpClient = v;
      return this;
    }

    public OllamaClient build() {
      return new OllamaClient(this);
    }
  }
}
