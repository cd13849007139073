package dev.securetag.examples.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.securetag.core.LlmClient;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.core.SecuretagException;
import dev.securetag.core.internal.Json;
import dev.securetag.runpod.EndpointHealth;
import dev.securetag.runpod.RunPodClient;
import dev.securetag.runpod.RunPodLlmClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application side of the seed design (the DigitalOcean {@code securetag-app}): a small HTTP service whose
 * {@code POST /api/analyze} asks the fine-tuned model on RunPod to review a code snippet for vulnerabilities.
 * It embeds {@link RunPodLlmClient}; any other {@link LlmClient} (Ollama, the local GGUF server) plugs in the same way.
 *
 * <pre>
 * curl -s localhost:8080/api/analyze -H "Authorization: Bearer $SECURETAG_APP_TOKEN" \
 *   -d '{"code": "query = \"SELECT * FROM users WHERE id = \" + id", "language": "python"}'
 * </pre>
 *
 * <p>Endpoints: {@code POST /api/analyze} (authenticated), {@code GET /healthz} (liveness: the process answers),
 * {@code GET /readyz} (the RunPod endpoint's {@code /health} answers; cached for 10 s). Callers authenticate with
 * {@code Authorization: Bearer <token>} (scheme case-insensitive) or {@code X-API-Key: <token>}; the token is compared
 * as SHA-256 digests with {@link MessageDigest#isEqual}, so the time taken says nothing about how much matched.
 * Request bodies over the limit get 413, whether they announce a {@code Content-Length} or arrive chunked.
 *
 * <p>Configuration (environment first, then {@code .env}): {@code RUNPOD_API_KEY}, {@code RUNPOD_ENDPOINT_ID},
 * {@code SECURETAG_APP_TOKEN} (at least 16 characters; the service refuses to start without it unless
 * {@code SECURETAG_APP_INSECURE_NO_AUTH=true}, meant for local development only), optional {@code RUNPOD_BASE_URL},
 * {@code SECURETAG_MODEL} (securetag), {@code SECURETAG_APP_MAX_BODY_BYTES} (65536),
 * {@code SECURETAG_APP_MODEL_TIMEOUT_SECONDS} (300, queue and cold start included), {@code PORT} (8080),
 * {@code BIND_ADDRESS} (0.0.0.0 in a container, where the platform's router is the only way in).
 */
public final class SecuretagApp implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SecuretagApp.class);
  /** Default request body limit: a code snippet, not a repository. */
  public static final int DEFAULT_MAX_BODY_BYTES = 64 * 1024;
  /** The least token length accepted: shorter tokens are guessable. */
  public static final int MIN_TOKEN_LENGTH = 16;
  private static final long READY_CACHE_NANOS = TimeUnit.SECONDS.toNanos(10);

  /** Tells whether the model behind the service can take requests; throws with the reason when not. */
  @FunctionalInterface
  public interface ReadinessCheck {
    /** Returns a short description of the model endpoint's state, or throws when it is unusable. */
    String check() throws Exception;
  }

  private final LlmClient llm;
  private final byte[] tokenDigest;
  private final int maxBodyBytes;
  private final ReadinessCheck readiness;
  private final Duration shutdownGrace;
  private final HttpServer server;
  private final ExecutorService executor;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final Object readyLock = new Object();
  private long readyCheckedAt;
  private boolean readyOk;
  private String readyDetail = "";

  private SecuretagApp(Builder b) throws IOException {
    this.llm = b.llm;
    this.tokenDigest = b.token == null ? null : sha256(b.token.strip());
    this.maxBodyBytes = b.maxBodyBytes;
    this.readiness = b.readiness;
    this.shutdownGrace = b.shutdownGrace;
    this.server = HttpServer.create(b.address, 64);
    this.executor = Executors.newFixedThreadPool(16);
    server.setExecutor(executor);
    server.createContext("/api/analyze", counted(this::analyze));
    server.createContext("/healthz", counted(this::health));
    server.createContext("/readyz", counted(this::ready));
    server.start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds the RunPod-backed client from configuration; the key never leaves the client. */
  public static LlmClient runPodClient(DotEnv env) {
    return runPodClient(env, runPod(env));
  }

  private static RunPodClient runPod(DotEnv env) {
    RunPodClient.Builder rp = RunPodClient.builder()
        .endpointId(env.require("RUNPOD_ENDPOINT_ID"))
        .apiKey(env.require("RUNPOD_API_KEY"));
    String base = env.get("RUNPOD_BASE_URL", null);
    if (base != null) {
      rp.baseUrl(base);
    }
    return rp.build();
  }

  private static LlmClient runPodClient(DotEnv env, RunPodClient runPod) {
    int timeout = positive(env, "SECURETAG_APP_MODEL_TIMEOUT_SECONDS", 300);
    return RunPodLlmClient.builder().runPod(runPod).shareRunPod(false)
        .model(env.get("SECURETAG_MODEL", "securetag")).wait(Duration.ofSeconds(Math.min(60, timeout)))
        .deadline(Duration.ofSeconds(timeout)).build();
  }

  /**
   * Starts the service as configured by {@code env} (see the class comment).
   *
   * @throws IllegalArgumentException naming the setting that is missing or invalid
   */
  public static SecuretagApp start(DotEnv env) throws IOException {
    Builder b = builder();
    String token = env.get("SECURETAG_APP_TOKEN", null);
    if (token != null) {
      b.apiKey(token);
    } else if ("true".equalsIgnoreCase(env.get("SECURETAG_APP_INSECURE_NO_AUTH", "false"))) {
      LOG.warn("SECURETAG_APP_INSECURE_NO_AUTH=true: /api/analyze answers anyone who reaches this port");
      b.allowUnauthenticated();
    } else {
      throw new IllegalArgumentException("SECURETAG_APP_TOKEN is not set: callers authenticate with it "
          + "(Authorization: Bearer <token> or X-API-Key). Generate one with `openssl rand -hex 32`; for local "
          + "development only, SECURETAG_APP_INSECURE_NO_AUTH=true runs without authentication");
    }
    b.maxBodyBytes(positive(env, "SECURETAG_APP_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES));
    int port;
    try {
      port = Integer.parseInt(env.get("PORT", "8080").strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("PORT must be a port number, got " + env.get("PORT", ""));
    }
    String bind = env.get("BIND_ADDRESS", "0.0.0.0");
    try {
      b.address(new InetSocketAddress(InetAddress.getByName(bind), port));
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("BIND_ADDRESS " + bind + " cannot be resolved");
    }
    RunPodClient runPod = runPod(env);
    LlmClient llm = runPodClient(env, runPod);
    b.llm(llm).readiness(() -> {
      EndpointHealth h = runPod.health();
      return "workers " + h.workers() + ", jobs in queue " + h.jobsInQueue();
    });
    try {
      return b.build();
    } catch (IOException | RuntimeException e) {
      llm.close();
      throw e;
    }
  }

  public static void main(String[] args) throws IOException {
    // A client that trickles its request in must not hold a worker thread forever.
    System.setProperty("sun.net.httpserver.maxReqTime", System.getProperty("sun.net.httpserver.maxReqTime", "30"));
    DotEnv env = DotEnv.load(Path.of(".env"), System.getenv());
    SecuretagApp app;
    try {
      app = start(env);
    } catch (IllegalArgumentException e) {
      System.err.println("securetag-app: " + e.getMessage());
      System.exit(2);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(app::close, "securetag-app-shutdown"));
    LOG.info("securetag-app listening on port {}", app.port());
    System.out.println("securetag-app listening on port " + app.port());
    System.out.flush();
  }

  /** The port actually bound (useful with port 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  /** The instruction sent for a code review request. */
  static String instruction(String language) {
    return "Analyze the following " + (language.isBlank() ? "" : language + " ")
        + "code for security vulnerabilities. Name each vulnerability, its CWE if known, why it is exploitable, "
        + "and how to fix it.";
  }

  /**
   * The prompt sent to the model: the instruction with the code as its input, in the form the Modelfile's Alpaca
   * {@code TEMPLATE} expects ({@code instruction + "\n\n### Input:\n" + input}). It is sent without {@code raw}, so
   * the worker's Ollama wraps it in the {@code ### Instruction:} / {@code ### Response:} markers exactly once,
   * which yields the layout the trainer formatted every example with.
   */
  static String prompt(String language, String code) {
    return instruction(language) + "\n\n### Input:\n" + code;
  }

  // ------------------------------------------------------------------ handlers

  /** Counts running requests so close() can let them finish; refuses new ones once closing. */
  private com.sun.net.httpserver.HttpHandler counted(com.sun.net.httpserver.HttpHandler h) {
    return ex -> {
      inFlight.incrementAndGet();
      try {
        if (closing.get()) {
          try (ex) {
            ex.getResponseHeaders().set("Connection", "close");
            ex.getResponseHeaders().set("Retry-After", "1");
            respond(ex, 503, error("shutting down"));
          }
          return;
        }
        h.handle(ex);
      } finally {
        inFlight.decrementAndGet();
      }
    };
  }

  private void health(HttpExchange ex) throws IOException {
    try (ex) {
      if (!isGetOrHead(ex)) {
        return;
      }
      respond(ex, 200, Json.object().put("status", "ok"));
    }
  }

  private void ready(HttpExchange ex) throws IOException {
    try (ex) {
      if (!isGetOrHead(ex)) {
        return;
      }
      boolean ok;
      String detail;
      synchronized (readyLock) {
        // Cached: a load balancer polling every second must not turn into RunPod /health traffic.
        if (readyCheckedAt == 0 || System.nanoTime() - readyCheckedAt > READY_CACHE_NANOS) {
          try {
            readyDetail = readiness == null ? "no readiness check configured" : readiness.check();
            readyOk = true;
          } catch (Exception e) {
            readyOk = false;
            readyDetail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
          }
          readyCheckedAt = System.nanoTime();
        }
        ok = readyOk;
        detail = readyDetail;
      }
      respond(ex, ok ? 200 : 503, Json.object().put("status", ok ? "ready" : "not ready").put("model_endpoint", detail));
    }
  }

  private void analyze(HttpExchange ex) throws IOException {
    long start = System.nanoTime();
    int status = 0;
    try (ex) {
      if (!ex.getRequestURI().getPath().equals("/api/analyze")) {
        status = respond(ex, 404, error("not found"));
        return;
      }
      if (!"POST".equals(ex.getRequestMethod())) {
        ex.getResponseHeaders().set("Allow", "POST");
        status = respond(ex, 405, error("use POST"));
        return;
      }
      if (!authorized(ex.getRequestHeaders())) {
        ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"securetag-app\"");
        status = respond(ex, 401, error("unauthorized: send Authorization: Bearer <token> or X-API-Key: <token>"));
        return;
      }
      byte[] body = readBody(ex);
      if (body == null) {
        ex.getResponseHeaders().set("Connection", "close");
        status = respond(ex, 413, error("request body over " + maxBodyBytes + " bytes"));
        return;
      }
      JsonNode req;
      try {
        req = Json.mapper().readTree(body);
      } catch (IOException e) {
        status = respond(ex, 400, error("body is not JSON"));
        return;
      }
      String code = req == null ? "" : req.path("code").asText("");
      if (code.isBlank()) {
        status = respond(ex, 400, error("field 'code' is required"));
        return;
      }
      try {
        LlmResponse answer = llm.generate(LlmRequest.builder()
            .prompt(prompt(req.path("language").asText(""), code)).temperature(0.2).maxTokens(512)
            .addStop("### Instruction:").build());
        ObjectNode out = Json.object();
        out.put("analysis", answer.text().strip());
        out.put("model", answer.model());
        out.put("latency_ms", (System.nanoTime() - start) / 1_000_000);
        status = respond(ex, 200, out);
      } catch (SecuretagException e) {
        // The client's messages never contain the API key, so they are safe to log and return.
        LOG.warn("analysis failed: {}", e.getMessage());
        if (e.isRetriable()) {
          ex.getResponseHeaders().set("Retry-After", "5");
        }
        status = respond(ex, e.isRetriable() ? 503 : 502, error("model call failed: " + e.getMessage()));
      }
    } finally {
      // The raw (still percent-encoded) path: a decoded one could carry line breaks into the log.
      LOG.info("{} {} -> {} in {} ms", ex.getRequestMethod(), ex.getRequestURI().getRawPath(), status,
          (System.nanoTime() - start) / 1_000_000);
    }
  }

  private boolean isGetOrHead(HttpExchange ex) throws IOException {
    String m = ex.getRequestMethod();
    if (m.equals("GET") || m.equals("HEAD")) {
      return true;
    }
    ex.getResponseHeaders().set("Allow", "GET, HEAD");
    respond(ex, 405, error("use GET"));
    return false;
  }

  /**
   * {@code Authorization: Bearer <token>} (the scheme is case-insensitive, RFC 7235 2.1) or {@code X-API-Key}.
   * Digests of equal length are compared, so neither the token's length nor a matching prefix shows in the timing.
   */
  boolean authorized(Headers headers) {
    if (tokenDigest == null) {
      return true;
    }
    String presented = null;
    String auth = headers.getFirst("Authorization");
    if (auth != null) {
      String a = auth.strip();
      int sp = 0;
      while (sp < a.length() && a.charAt(sp) != ' ' && a.charAt(sp) != '\t') {
        sp++;
      }
      if (a.substring(0, sp).equalsIgnoreCase("Bearer")) {
        presented = a.substring(sp).strip();
      }
    }
    if (presented == null) {
      String key = headers.getFirst("X-API-Key");
      presented = key == null ? null : key.strip();
    }
    if (presented == null || presented.isEmpty()) {
      return false;
    }
    return MessageDigest.isEqual(sha256(presented), tokenDigest);
  }

  /** The body, or null when it exceeds the limit (announced by Content-Length or found while reading). */
  private byte[] readBody(HttpExchange ex) throws IOException {
    String length = ex.getRequestHeaders().getFirst("Content-Length");
    if (length != null) {
      try {
        if (Long.parseLong(length.strip()) > maxBodyBytes) {
          return null;
        }
      } catch (NumberFormatException e) {
        return null;
      }
    }
    try (InputStream in = ex.getRequestBody()) {
      // Chunked bodies carry no length: read one byte past the limit to know.
      byte[] body = in.readNBytes(maxBodyBytes + 1);
      return body.length > maxBodyBytes ? null : body;
    }
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is a required JDK algorithm", e);
    }
  }

  private static int positive(DotEnv env, String key, int dflt) {
    String v = env.get(key, null);
    if (v == null) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(v.strip());
      if (n <= 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a positive whole number, got " + v);
    }
  }

  private static ObjectNode error(String message) {
    return Json.object().put("error", message);
  }

  private static int respond(HttpExchange ex, int status, JsonNode body) throws IOException {
    byte[] bytes = Json.write(body).getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    if (ex.getRequestMethod().equals("HEAD")) {
      ex.sendResponseHeaders(status, -1);
      return status;
    }
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(bytes);
    }
    return status;
  }

  /**
   * Answers new requests with 503, gives running ones up to {@code shutdownGrace} (5 s by default) to finish, then
   * stops the server and closes the model client. Idempotent.
   */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    long end = System.nanoTime() + shutdownGrace.toNanos();
    while (inFlight.get() > 0 && System.nanoTime() < end) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (inFlight.get() > 0) {
      LOG.warn("stopping with {} requests still running after {} ms", inFlight.get(), shutdownGrace.toMillis());
    }
    server.stop(0);
    executor.shutdownNow();
    llm.close();
  }

  /**
   * Configures a {@link SecuretagApp}; {@code llm} and either an API key or an explicit opt-out are required. Setters
   * record values; {@link #build()} checks them and names the one at fault.
   */
  public static final class Builder {
    private LlmClient llm;
    private InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), 8080);
    private String token;
    private boolean unauthenticated;
    private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
    private ReadinessCheck readiness;
    private Duration shutdownGrace = Duration.ofSeconds(5);

    private Builder() {}

    /** The model client answering {@code /api/analyze} (required); closed with the app. */
    public Builder llm(LlmClient v) {
      this.llm = v;
      return this;
    }

    /** Where to listen (default loopback:8080; port 0 picks a free one). */
    public Builder address(InetSocketAddress v) {
      this.address = v;
      return this;
    }

    /**
     * The API key callers must present ({@code Authorization: Bearer <key>} or {@code X-API-Key}), at least
     * {@value #MIN_TOKEN_LENGTH} characters; surrounding white space is ignored. Never logged.
     */
    public Builder apiKey(String v) {
      this.token = v;
      return this;
    }

    /**
     * Old name of {@link #apiKey(String)}.
     *
     * @deprecated secrets are {@code apiKey} on every securetag builder; use {@link #apiKey(String)}
     */
    @Deprecated
    public Builder accessToken(String v) {
      return apiKey(v);
    }

    /** Serves {@code /api/analyze} without authentication: local development only. */
    public Builder allowUnauthenticated() {
      this.unauthenticated = true;
      return this;
    }

    /** The largest request body accepted (default {@value #DEFAULT_MAX_BODY_BYTES}); larger gets 413. */
    public Builder maxBodyBytes(int v) {
      this.maxBodyBytes = v;
      return this;
    }

    /** What {@code /readyz} checks (default: nothing, always ready). */
    public Builder readiness(ReadinessCheck v) {
      this.readiness = v;
      return this;
    }

    /** How long {@link SecuretagApp#close()} lets running requests finish (default 5 s). */
    public Builder shutdownGrace(Duration v) {
      this.shutdownGrace = v;
      return this;
    }

    /**
     * Checks the settings, then binds and starts the service.
     *
     * @throws IllegalArgumentException naming the setting that is missing or invalid
     */
    public SecuretagApp build() throws IOException {
      if (llm == null) {
        throw new IllegalArgumentException("SecuretagApp.llm is required");
      }
      if (address == null) {
        throw new IllegalArgumentException("SecuretagApp.address must not be null");
      }
      if (token != null && token.strip().length() < MIN_TOKEN_LENGTH) {
        throw new IllegalArgumentException("SECURETAG_APP_TOKEN must be at least " + MIN_TOKEN_LENGTH
            + " characters (e.g. `openssl rand -hex 32`)");
      }
      if (token == null && !unauthenticated) {
        throw new IllegalArgumentException("SecuretagApp needs an API key, or allowUnauthenticated() for local "
            + "development");
      }
      if (maxBodyBytes <= 0) {
        throw new IllegalArgumentException("SecuretagApp.maxBodyBytes must be positive");
      }
      if (shutdownGrace == null || shutdownGrace.isNegative()) {
        throw new IllegalArgumentException("SecuretagApp.shutdownGrace must not be negative");
      }
      return new SecuretagApp(this);
    }
  }
}
