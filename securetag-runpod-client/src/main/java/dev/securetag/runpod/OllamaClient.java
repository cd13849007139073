package dev.securetag.runpod;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.securetag.core.ChatMessage;
import dev.securetag.core.LlmClient;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.core.RemoteServiceException;
import dev.securetag.core.RetryPolicy;
import dev.securetag.core.internal.Json;
import dev.securetag.core.ollama.OllamaChatRequest;
import dev.securetag.core.ollama.OllamaChunk;
import dev.securetag.core.ollama.OllamaGenerateRequest;
import dev.securetag.core.ollama.OllamaMessage;
import dev.securetag.core.ollama.OllamaModelInfo;
import dev.securetag.core.ollama.OllamaShowRequest;
import dev.securetag.core.ollama.OllamaShowResponse;
import dev.securetag.core.ollama.OllamaTags;
import dev.securetag.core.ollama.OllamaVersion;
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
 * Retriable failures are retried by the client itself ({@link #retryPolicy()}, 3 attempts by default), so callers such
 * as securetag-dataset's QaGenerator add no attempts of their own. Requests and replies are securetag-core's Ollama
 * wire types ({@code dev.securetag.core.ollama}), the same the proxy and the local runtime's server use.
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
    this.token = new Secret(b.apiKey == null ? "" : b.apiKey);
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

  /** The retries this client makes by itself for one call (the builder's {@code retry}, 3 attempts by default). */
  @Override
  public RetryPolicy retryPolicy() {
    return transport.retryPolicy();
  }

  // ------------------------------------------------------------------ LlmClient

  /** Non-streaming {@code /api/generate}. */
  @Override
  public LlmResponse generate(LlmRequest request) {
    return LlmResponse.builder().from(generate(request, null)).build();
  }

  /**
   * {@code /api/generate}; streams NDJSON when {@code onToken} is given (each partial {@code response} is passed to it
   * as it arrives), otherwise asks for one JSON object.
   */
  public OllamaResponse generate(LlmRequest request, Consumer<String> onToken) {
    OllamaGenerateRequest body = new OllamaGenerateRequest(request.model().orElse(requireModel()), request.prompt(),
        null, request.system().orElse(null), null, null, null, null, format(request), options(request), keepAlive(),
        null, null);
    return send("/api/generate", (ObjectNode) Json.mapper().valueToTree(body),
        onToken == null ? null : chunk -> onToken.accept(chunk.path("response").asText("")));
  }

  /** Streaming {@code /api/generate}: tokens go to {@code onToken} as they arrive. */
  @Override
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
  @Override
  public OllamaResponse chat(List<ChatMessage> messages, LlmRequest settings, Consumer<String> onToken) {
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("chat needs at least one message");
    }
    List<OllamaMessage> msgs = new ArrayList<>();
    if (settings != null) {
      settings.system().ifPresent(s -> msgs.add(OllamaMessage.of("system", s)));
    }
    messages.forEach(m -> msgs.add(OllamaMessage.of(m)));
    OllamaChatRequest body = new OllamaChatRequest(
        settings != null && settings.model().isPresent() ? settings.model().get() : requireModel(), msgs, null,
        format(settings), options(settings), null, keepAlive(), null);
    return send("/api/chat", (ObjectNode) Json.mapper().valueToTree(body),
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
    long start = System.nanoTime();
    if (!stream) {
      String reply = transport.call(req, true, deadline, path, null).body();
      JsonNode n = HttpSupport.parse(transport, reply, path, null);
      OllamaChunk c = chunk(n, path);
      checkError(c, path);
      return fromFinal(c, n, c.text(), c.thinkingText(), c.message() == null ? null : c.message().toolCalls(), start);
    }
    try (Response r = transport.open(http, req, true, deadline, path, null)) {
      return readStream(r, path, onChunk, start);
    }
  }

  private OllamaChunk chunk(JsonNode n, String what) {
    try {
      return Json.mapper().treeToValue(n, OllamaChunk.class);
    } catch (JsonProcessingException e) {
      throw transport.failure(Kind.BAD_RESPONSE, 200, what + " is not an Ollama reply: " + e.getOriginalMessage(),
          null, e, null);
    }
  }

  private OllamaResponse readStream(Response r, String path, Consumer<JsonNode> onChunk, long start) {
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
        OllamaChunk c = chunk(n, path + " stream line " + lineNo);
        checkError(c, path);
        text.append(c.text());
        thinking.append(c.thinkingText());
        JsonNode tc = c.message() == null ? null : c.message().toolCalls();
        if (tc != null && tc.isArray()) {
          tc.forEach(toolCalls::add);
        }
        onChunk.accept(n);
        if (c.isDone()) {
          return fromFinal(c, n, text.toString(), thinking.toString(), toolCalls.isEmpty() ? null : toolCalls, start);
        }
      }
    } catch (InterruptedIOException e) {
      throw transport.failure(Kind.TIMEOUT, 200, path + " stream timed out", null, e, null);
    } catch (IOException e) {
      throw transport.failure(Kind.CONNECTION, 200, path + " stream broke: " + e.getMessage(), null, e, null);
    }
    throw transport.failure(Kind.CONNECTION, 200, path + " stream ended without a done line", null, null, null);
  }

  private void checkError(OllamaChunk c, String path) {
    if (c.isError()) {
      // Ollama reports failures during generation as an error line under HTTP 200.
      throw transport.failure(Kind.SERVER_ERROR, 200, path + " failed: " + OutputText.snippet(c.error()),
          null, null, null);
    }
  }

  private static OllamaResponse fromFinal(OllamaChunk c, JsonNode raw, String text, String thinking,
      JsonNode toolCalls, long startNanos) {
    return new OllamaResponse(c.model(), text, thinking, c.doneReason(), toolCalls, raw,
        Duration.ofNanos(System.nanoTime() - startNanos));
  }

  /** Ollama's {@code format}: the request's JSON schema, or {@code "json"} for JSON mode; null for none. */
  private static JsonNode format(LlmRequest request) {
    if (request == null) {
      return null;
    }
    if (request.jsonSchema().isPresent()) {
      return request.jsonSchema().get();
    }
    return request.jsonMode() ? TextNode.valueOf("json") : null;
  }

  private JsonNode keepAlive() {
    return keepAlive == null ? null : TextNode.valueOf(keepAlive);
  }

  /** The builder's default options overlaid with the request's sampling settings; null when there are none. */
  private ObjectNode options(LlmRequest request) {
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
    return opts.isEmpty() ? null : opts;
  }

  // ------------------------------------------------------------------ model management

  /** Locally available models ({@code GET /api/tags}). */
  public List<OllamaModelInfo> tags() {
    return typed(getJson("/api/tags"), OllamaTags.class, "/api/tags").models();
  }

  /** Model details ({@code POST /api/show}): modelfile, parameters, template, details, model info, capabilities. */
  public OllamaShowResponse show(String modelName) {
    ensureOpen();
    Request req = new Request.Builder().url(url("/api/show"))
        .post(HttpSupport.jsonBody(Json.mapper().valueToTree(new OllamaShowRequest(modelName, null)))).build();
    JsonNode n = HttpSupport.parse(transport,
        transport.call(req, true, Deadline.after(timeouts.deadline()), "/api/show", null).body(), "/api/show", null);
    return typed(n, OllamaShowResponse.class, "/api/show");
  }

  /** The server version ({@code GET /api/version}). */
  public String version() {
    String v = typed(getJson("/api/version"), OllamaVersion.class, "/api/version").version();
    return v == null ? "" : v;
  }

  private <T> T typed(JsonNode n, Class<T> type, String what) {
    try {
      return Json.mapper().treeToValue(n, type);
    } catch (JsonProcessingException e) {
      throw transport.failure(Kind.BAD_RESPONSE, 200, what + " returned an unexpected shape: " + e.getOriginalMessage(),
          null, e, null);
    }
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
    private String apiKey;
    private String keepAlive;
    private final Map<String, Object> options = new LinkedHashMap<>();
    // Generation on CPU can take minutes: the common 60 s read timeout is the top complaint about Java Ollama clients.
    private Timeouts timeouts = Timeouts.builder().read(Duration.ofMinutes(10)).deadline(Duration.ofMinutes(30)).build();
    private RetryPolicy retry = RetryPolicy.builder().maxAttempts(3).build();
    private OkHttpClient httpClient;

    private Builder() {}

    public Builder baseUrl(String v) {
      this.baseUrl = v;
      return this;
    }

    /** Default model for {@link LlmClient#generate(LlmRequest)} and chat. */
    public Builder model(String v) {
      this.model = v;
      return this;
    }

    /**
     * The key sent as {@code Authorization: Bearer <key>} (Ollama behind an authenticating proxy, or
     * {@link OllamaRunPodProxy} with an API key); never logged or shown by {@code toString()}.
     */
    public Builder apiKey(String v) {
      this.apiKey = v;
      return this;
    }

    /**
     * Old name of {@link #apiKey(String)}.
     *
     * @deprecated secrets are {@code apiKey} on every securetag builder; use {@link #apiKey(String)}
     */
    @Deprecated
    public Builder bearerToken(String v) {
      return apiKey(v);
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

    public OllamaClient build() {
      if (baseUrl == null || timeouts == null || retry == null) {
        throw new IllegalArgumentException("OllamaClient baseUrl, timeouts and retry must not be null");
      }
      return new OllamaClient(this);
    }
  }
}
