package dev.securetag.ollama.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.LlmClient;
import dev.securetag.core.internal.Json;
import dev.securetag.core.ollama.OllamaChatRequest;
import dev.securetag.core.ollama.OllamaError;
import dev.securetag.core.ollama.OllamaGenerateRequest;
import dev.securetag.core.ollama.OllamaPs;
import dev.securetag.core.ollama.OllamaShowRequest;
import dev.securetag.core.ollama.OllamaTags;
import dev.securetag.core.ollama.OllamaVersion;
import dev.securetag.ollama.server.internal.BlockingHttpServer;
import dev.securetag.ollama.server.internal.BlockingHttpServer.Exchange;
import dev.securetag.ollama.server.internal.LlmClientBackend;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An HTTP server that speaks the Ollama API ({@code /api/generate} and {@code /api/chat}, streaming as NDJSON or
 * not, {@code /api/tags}, {@code /api/show}, {@code /api/ps}, {@code /api/version}, {@code GET /}) for any
 * {@link LlmClient}, so every Ollama client (securetag's own, langchain4j, curl) can use a model securetag talks to.
 * The local GGUF runtime's {@code LocalLlmServer} and the Ollama-to-RunPod proxy are this server with their own
 * {@link OllamaBackend}s.
 *
 * <pre>{@code
 * try (LlmClient model = OpenAiCompatibleClient.builder()...build();
 *      OllamaServer server = OllamaServer.builder().client(model).model("securetag").port(11434).build()) {
 *   // curl http://127.0.0.1:11434/api/chat -d '{"model":"securetag","messages":[{"role":"user","content":"Hi"}]}'
 * }
 * }</pre>
 *
 * <p>What it does for every backend: binds to loopback unless told otherwise; can require an API key from callers
 * ({@code Authorization: Bearer}, scheme case-insensitive, compared in constant time; {@code GET /} stays open, as
 * health checks expect); reads request bodies up to a limit (413 beyond) into the typed requests of
 * {@code dev.securetag.core.ollama} (400 for invalid JSON or fields of the wrong type); answers errors with Ollama's
 * {@code {"error": ..}} body plus a stable {@code error_kind}; runs at most {@code concurrency} generations at once and
 * queues the rest first come first served for up to {@code admissionWait} (then 503 with Retry-After); watches each
 * caller's connection from the moment its request was read, so a backend learns of a hang-up even while it has
 * nothing to write; one thread per connection (at most {@code maxConnections}, TCP_NODELAY, daemon threads).
 * {@link #close()} refuses new generations, lets running ones finish for up to {@code shutdownGrace}, then closes
 * every connection.
 */
public final class OllamaServer implements AutoCloseable {
  /** The Ollama API version {@code /api/version} reports; clients gate features on it. */
  public static final String OLLAMA_API_VERSION = "0.6.2";
  private static final Logger LOG = LoggerFactory.getLogger(OllamaServer.class);
  private static final long ADMISSION_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final OllamaBackend backend;
  private final String name;
  private final byte[] apiKey;
  private final long maxBodyBytes;
  private final int concurrency;
  private final long admissionWaitNanos;
  private final Duration admissionWait;
  private final Duration shutdownGrace;
  private final Semaphore permits;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicBoolean accepting = new AtomicBoolean(true);
  private final AtomicBoolean closed = new AtomicBoolean();
  private final BlockingHttpServer server;

  private OllamaServer(Builder b, OllamaBackend backend) {
    this.backend = backend;
    this.name = b.name;
    this.apiKey = b.apiKey == null ? null : b.apiKey.getBytes(StandardCharsets.UTF_8);
    this.maxBodyBytes = b.maxBodyBytes;
    this.concurrency = b.concurrency;
    this.admissionWait = b.admissionWait;
    this.admissionWaitNanos = saturatedNanos(b.admissionWait);
    this.shutdownGrace = b.shutdownGrace;
    this.permits = new Semaphore(b.concurrency, true);
    try {
      this.server = BlockingHttpServer.start(new InetSocketAddress(b.bindAddress, b.port), 256, b.maxConnections,
          b.name, this::handle);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind " + b.name + " on " + b.bindAddress.getHostAddress() + ":" + b.port
          + ": " + e.getMessage(), e);
    }
    LOG.info("{} serving '{}' with the Ollama API at {}", name, backend.model(), baseUrl());
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The backend this server routes to. */
  public OllamaBackend backend() {
    return backend;
  }

  /** The address it listens on. */
  public InetSocketAddress address() {
    return server.address();
  }

  /** The bound port. */
  public int port() {
    return server.address().getPort();
  }

  /** {@code http://host:port}, the base URL Ollama clients need (a wildcard bind is reached through 127.0.0.1). */
  public URI baseUri() {
    return URI.create(baseUrl());
  }

  /** {@link #baseUri()} as a string. */
  public String baseUrl() {
    InetAddress a = server.address().getAddress();
    String host = a.isAnyLocalAddress() ? "127.0.0.1" : a.getHostAddress();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return "http://" + host + ":" + server.address().getPort();
  }

  /** Generations running right now. */
  public int inFlight() {
    return inFlight.get();
  }

  /** Generations waiting for a free slot right now. */
  public int queued() {
    return queued.get();
  }

  // ------------------------------------------------------------------ routing

  private void handle(Exchange ex) throws IOException {
    try {
      dispatch(ex);
    } catch (RuntimeException e) {
      LOG.warn("{} failed on {}", name, ex.path(), e);
      if (!ex.responseStarted()) {
        sendError(ex, 500, "internal server error: " + e.getClass().getSimpleName(), "internal_error");
      }
    }
  }

  private void dispatch(Exchange ex) throws IOException {
    String path = ex.path();
    if (path.equals("/")) {
      if (allow(ex, "GET")) {
        byte[] body = "Ollama is running".getBytes(StandardCharsets.UTF_8);
        ex.responseHeader("Content-Type", "text/plain; charset=utf-8");
        ex.sendResponseHeaders(200, body.length);
        ex.responseBody().write(body);
      }
      return;
    }
    if (!authorized(ex)) {
      drain(ex);
      sendError(ex, 401, "unauthorized: this server needs Authorization: Bearer <API key>", "unauthorized");
      return;
    }
    if (!accepting.get()) {
      drain(ex);
      ex.responseHeader("Retry-After", "1");
      sendError(ex, 503, "server is shutting down", "shutting_down");
      return;
    }
    switch (path) {
      case "/api/version" -> {
        if (allow(ex, "GET")) {
          sendJson(ex, 200, new OllamaVersion(OLLAMA_API_VERSION));
        }
      }
      case "/api/tags" -> {
        if (allow(ex, "GET")) {
          sendJson(ex, 200, new OllamaTags(List.of(backend.describe())));
        }
      }
      case "/api/ps" -> {
        if (allow(ex, "GET")) {
          sendJson(ex, 200, new OllamaPs(backend.running()));
        }
      }
      case "/api/show" -> {
        if (allow(ex, "POST")) {
          show(ex);
        }
      }
      case "/api/generate" -> {
        if (allow(ex, "POST")) {
          generate(ex, false);
        }
      }
      case "/api/chat" -> {
        if (allow(ex, "POST")) {
          generate(ex, true);
        }
      }
      default -> {
        drain(ex);
        sendError(ex, 404, "404 page not found", "not_found");
      }
    }
  }

  /** True when the method is {@code method} (GET also allows HEAD); otherwise answers 405 with Allow. */
  private boolean allow(Exchange ex, String method) throws IOException {
    String m = ex.method();
    if (m.equals(method) || (method.equals("GET") && m.equals("HEAD"))) {
      return true;
    }
    drain(ex);
    ex.responseHeader("Allow", method.equals("GET") ? "GET, HEAD" : method);
    sendError(ex, 405, "method " + m + " not allowed, use " + method, "method_not_allowed");
    return false;
  }

  /** {@code Authorization: Bearer <key>}; the scheme is case-insensitive (RFC 7235 2.1), the key is not. */
  private boolean authorized(Exchange ex) {
    if (apiKey == null) {
      return true;
    }
    String header = ex.requestHeader("Authorization");
    String h = header == null ? "" : header.trim();
    int sp = 0;
    while (sp < h.length() && h.charAt(sp) != ' ' && h.charAt(sp) != '\t') {
      sp++;
    }
    boolean schemeOk = h.substring(0, sp).equalsIgnoreCase("Bearer");
    byte[] given = h.substring(sp).trim().getBytes(StandardCharsets.UTF_8);
    // MessageDigest.isEqual runs in time independent of where the bytes differ; both checks always run.
    return MessageDigest.isEqual(given, apiKey) & schemeOk;
  }

  private void show(Exchange ex) throws IOException {
    OllamaShowRequest body = readRequest(ex, OllamaShowRequest.class);
    if (body == null) {
      return;
    }
    String requested = body.requested();
    if (requested.isEmpty()) {
      sendError(ex, 400, "model is required", "invalid_request");
    } else if (!backend.serves(requested)) {
      sendError(ex, 404, "model '" + requested + "' not found", "not_found");
    } else {
      sendJson(ex, 200, backend.show());
    }
  }

  private void generate(Exchange ex, boolean chat) throws IOException {
    OllamaChatRequest chatBody = null;
    OllamaGenerateRequest generateBody = null;
    if (chat) {
      chatBody = readRequest(ex, OllamaChatRequest.class);
      if (chatBody == null) {
        return;
      }
    } else {
      generateBody = readRequest(ex, OllamaGenerateRequest.class);
      if (generateBody == null) {
        return;
      }
    }
    String requested = chat ? chatBody.model() : generateBody.model();
    if (requested == null || requested.isEmpty()) {
      sendError(ex, 400, "model is required", "invalid_request");
      return;
    }
    if (!backend.serves(requested) && !backend.generatesForAnyModel()) {
      sendError(ex, 404, "model '" + requested + "' not found", "not_found");
      return;
    }
    OllamaReply reply = new OllamaReply(ex, chat, chat ? chatBody.streaming() : generateBody.streaming());
    // The request is fully read: from here on a hang-up is visible, even while nothing is written.
    ex.watchForDisconnect(reply::markGone);
    if (!admit(reply)) {
      if (reply.callerGone()) {
        LOG.debug("caller of {} left while waiting for a generation slot", ex.path());
        return;
      }
      ex.responseHeader("Retry-After", "1");
      boolean open = accepting.get();
      sendError(ex, 503, open
          ? "server busy: the server is running its limit of " + concurrency + " concurrent generations and none "
              + "finished within " + admissionWait.toMillis() + " ms, please try again"
          : "server is shutting down", open ? "busy" : "shutting_down");
      return;
    }
    inFlight.incrementAndGet();
    try {
      if (chat) {
        backend.chat(chatBody, reply);
      } else {
        backend.generate(generateBody, reply);
      }
    } catch (IllegalArgumentException | InvalidInputException e) {
      reply.error(400, e.getMessage(), "invalid_request");
    } catch (UncheckedIOException e) {
      throw e.getCause();
    } catch (RuntimeException e) {
      if (reply.callerGone()) {
        LOG.debug("generation for {} ended after its caller left: {}", ex.path(), e.toString());
        return;
      }
      // Mid-stream failures keep status 200 and end with an error line, as Ollama's do.
      LOG.warn("generation failed on {}", ex.path(), e);
      reply.error(500, e.getMessage() == null ? e.toString() : e.getMessage(), "generation_failed");
    } finally {
      inFlight.decrementAndGet();
      permits.release();
    }
  }

  /** Takes a generation slot, waiting up to {@code admissionWait}; false when none freed, the caller left or we close. */
  private boolean admit(OllamaReply reply) {
    try {
      // The timed form honours the semaphore's fairness: a newcomer does not overtake callers already waiting.
      if (permits.tryAcquire(0, TimeUnit.NANOSECONDS)) {
        return true;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
    queued.incrementAndGet();
    try {
      long start = System.nanoTime();
      while (true) {
        long left = admissionWaitNanos - (System.nanoTime() - start);
        if (left <= 0 || reply.callerGone() || !accepting.get()) {
          return false;
        }
        if (permits.tryAcquire(Math.min(left, ADMISSION_SLICE_NANOS), TimeUnit.NANOSECONDS)) {
          if (reply.callerGone() || !accepting.get()) {
            permits.release();
            return false;
          }
          return true;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      queued.decrementAndGet();
    }
  }

  // ------------------------------------------------------------------ bodies

  /** Reads the body as an Ollama request type; null (after answering 4xx) when it is too large or not that type. */
  private <T> T readRequest(Exchange ex, Class<T> type) throws IOException {
    String lengthHeader = ex.requestHeader("Content-Length");
    if (lengthHeader != null && Long.parseLong(lengthHeader.trim()) > maxBodyBytes) {
      // The HTTP layer already rejected malformed lengths; an honest oversized one is refused before reading it.
      sendError(ex, 413, "request body too large (limit " + maxBodyBytes + " bytes)", "too_large");
      return null;
    }
    byte[] bytes;
    try (InputStream in = ex.requestBody()) {
      bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1));
    }
    if (bytes.length > maxBodyBytes) {
      sendError(ex, 413, "request body too large (limit " + maxBodyBytes + " bytes)", "too_large");
      return null;
    }
    JsonNode tree;
    try {
      tree = Json.mapper().readTree(bytes);
    } catch (JsonProcessingException e) {
      sendError(ex, 400, "invalid JSON: " + e.getOriginalMessage(), "invalid_request");
      return null;
    }
    if (tree == null || !tree.isObject()) {
      sendError(ex, 400, "request body must be a JSON object", "invalid_request");
      return null;
    }
    try {
      return Json.mapper().treeToValue(tree, type);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      String detail = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
      sendError(ex, 400, "invalid request: " + detail, "invalid_request");
      return null;
    }
  }

  /** Reads an unwanted request body (bounded) so the connection can be reused for the reply. */
  private void drain(Exchange ex) throws IOException {
    InputStream in = ex.requestBody();
    long left = maxBodyBytes;
    byte[] buf = new byte[8192];
    int n;
    while (left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0) {
      left -= n;
    }
  }

  private static void sendError(Exchange ex, int status, String message, String kind) throws IOException {
    sendJson(ex, status, new OllamaError(message, kind));
  }

  private static void sendJson(Exchange ex, int status, Object value) throws IOException {
    send(ex, status, Json.mapper().writeValueAsBytes(value));
  }

  static void send(Exchange ex, int status, byte[] json) throws IOException {
    ex.responseHeader("Content-Type", "application/json; charset=utf-8");
    ex.sendResponseHeaders(status, json.length);
    ex.responseBody().write(json);
  }

  /**
   * Refuses new generations (503), waits up to the shutdown grace for running ones to finish, then closes every
   * connection (a backend still generating sees its caller gone) and waits briefly for the request threads. Does not
   * close the backend. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    accepting.set(false);
    long end = System.nanoTime() + saturatedNanos(shutdownGrace);
    while (inFlight.get() > 0 && end - System.nanoTime() > 0) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (inFlight.get() > 0) {
      LOG.info("{} stopping with {} generations still running after {} ms: closing their connections", name,
          inFlight.get(), shutdownGrace.toMillis());
    }
    server.close();
  }

  @Override
  public String toString() {
    return "OllamaServer[" + backend.model() + " at " + baseUrl() + "]";
  }

  /**
   * Configures an {@link OllamaServer}: exactly one of {@link #client} or {@link #backend} is required. Setters only
   * record values; {@link #build()} checks them all and names the first one out of range.
   */
  public static final class Builder {
    private LlmClient client;
    private OllamaBackend backend;
    private String model;
    private String name = "ollama-server";
    private InetAddress bindAddress = InetAddress.getLoopbackAddress();
    private int port;
    private String apiKey;
    private long maxBodyBytes = 10L * 1024 * 1024;
    private int concurrency = 64;
    private Duration admissionWait = Duration.ofSeconds(30);
    private int maxConnections = 512;
    private Duration shutdownGrace = Duration.ofSeconds(30);

    private Builder() {}

    /** Serve this client's model; the server does not close it. */
    public Builder client(LlmClient v) {
      this.client = v;
      return this;
    }

    /** Serve through a custom backend (instead of {@link #client}); the server does not close it. */
    public Builder backend(OllamaBackend v) {
      this.backend = v;
      return this;
    }

    /**
     * With {@link #client}: the name clients use in {@code "model"} (an implied {@code :latest} is accepted);
     * default the client's {@link LlmClient#modelName()}.
     */
    public Builder model(String v) {
      this.model = v;
      return this;
    }

    /** A label for logs and thread names; default {@code ollama-server}. */
    public Builder name(String v) {
      this.name = v;
      return this;
    }

    /** Address to bind; loopback by default. Binding elsewhere exposes the model: set an {@link #apiKey}. */
    public Builder bindAddress(InetAddress v) {
      this.bindAddress = v;
      return this;
    }

    /** Port in [0, 65535]; 0 (default) picks a free one, 11434 is Ollama's. */
    public Builder port(int v) {
      this.port = v;
      return this;
    }

    /**
     * The API key callers must present as {@code Authorization: Bearer <key>} (none by default). Never logged or
     * echoed.
     */
    public Builder apiKey(String v) {
      this.apiKey = v;
      return this;
    }

    /** Largest accepted request body (default 10 MB); larger gets 413 before it is read. */
    public Builder maxBodyBytes(long v) {
      this.maxBodyBytes = v;
      return this;
    }

    /** Generations running at once (default 64); further ones wait for a slot, first come first served. */
    public Builder concurrency(int v) {
      this.concurrency = v;
      return this;
    }

    /**
     * How long a generation beyond {@code concurrency} waits for a slot before it gets 503 with Retry-After (default
     * 30 s; zero refuses at once; {@code ChronoUnit.FOREVER.getDuration()} waits as long as it takes, like Ollama's
     * queue). A caller that hangs up while waiting leaves the queue.
     */
    public Builder admissionWait(Duration v) {
      this.admissionWait = v;
      return this;
    }

    /**
     * Open caller connections served at once (default 512: running, waiting and idle keep-alive ones); further
     * connections get 503 and are closed. Each open connection holds one thread.
     */
    public Builder maxConnections(int v) {
      this.maxConnections = v;
      return this;
    }

    /** How long {@link OllamaServer#close()} waits for running generations before closing their connections. */
    public Builder shutdownGrace(Duration v) {
      this.shutdownGrace = v;
      return this;
    }

    /**
     * Checks every setting, then binds and starts the server.
     *
     * @throws IllegalArgumentException naming the first setting that is missing or out of range
     * @throws UncheckedIOException when the address cannot be bound
     */
    public OllamaServer build() {
      if ((client == null) == (backend == null)) {
        throw new IllegalArgumentException("OllamaServer needs exactly one of client or backend");
      }
      if (backend != null && model != null) {
        throw new IllegalArgumentException("OllamaServer.model applies to client(...); a backend names its model");
      }
      if (model != null && model.isBlank()) {
        throw new IllegalArgumentException("OllamaServer.model must not be blank when set");
      }
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("OllamaServer.name must not be blank");
      }
      if (bindAddress == null) {
        throw new IllegalArgumentException("OllamaServer.bindAddress must not be null");
      }
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("OllamaServer.port out of range: " + port);
      }
      if (apiKey != null && apiKey.isBlank()) {
        throw new IllegalArgumentException("OllamaServer.apiKey must not be blank when set");
      }
      if (maxBodyBytes < 1) {
        throw new IllegalArgumentException("OllamaServer.maxBodyBytes must be positive, got " + maxBodyBytes);
      }
      if (concurrency < 1) {
        throw new IllegalArgumentException("OllamaServer.concurrency must be >= 1, got " + concurrency);
      }
      if (maxConnections < 1) {
        throw new IllegalArgumentException("OllamaServer.maxConnections must be >= 1, got " + maxConnections);
      }
      if (admissionWait == null || admissionWait.isNegative()) {
        throw new IllegalArgumentException("OllamaServer.admissionWait must be zero or positive");
      }
      if (shutdownGrace == null || shutdownGrace.isNegative()) {
        throw new IllegalArgumentException("OllamaServer.shutdownGrace must be zero or positive");
      }
      OllamaBackend b = backend != null ? backend
          : new LlmClientBackend(client, model != null ? model : client.modelName());
      return new OllamaServer(this, b);
    }
  }
}
