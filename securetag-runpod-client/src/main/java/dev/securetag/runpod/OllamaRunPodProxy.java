package dev.securetag.runpod;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.securetag.core.Hashing;
import dev.securetag.core.Json;
import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.runpod.internal.HttpServers;
import dev.securetag.runpod.internal.OllamaStreamTranslator;
import dev.securetag.runpod.internal.Secret;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An embeddable HTTP server that speaks the Ollama API ({@code /api/generate}, {@code /api/chat} streaming and not,
 * {@code /api/tags}, {@code /api/show}, {@code /api/version}, {@code GET /}) and runs each generation as a RunPod
 * Serverless job, so an application written against Ollama switches to RunPod by changing one URL.
 *
 * <p>Each generation is submitted with {@code /run} and followed on {@code /stream}: every chunk is re-emitted as an
 * Ollama NDJSON line as soon as it arrives, and a final {@code done} line carries the fields Ollama clients read
 * (durations from RunPod's queue/run times when the worker sent none). Generations longer than the runsync window
 * and cold starts therefore work; aggregated list outputs are unwrapped; failures become Ollama's
 * {@code {"error": ".."}} shape (an error line once streaming has begun). A caller disconnecting cancels the job.
 *
 * <p>The proxy holds the RunPod key so callers never do: it binds to loopback unless told otherwise, can require its
 * own bearer token (compared in constant time), caps request bodies, never forwards a caller's Authorization header
 * and never echoes the RunPod key. At most {@code maxConcurrent} generations run at once; more get 503.
 * {@link #close()} stops accepting and lets in-flight generations finish (up to the grace period).
 *
 * <pre>{@code
 * try (RunPodClient runpod = RunPodClient.builder().endpointId("abc123").apiKey(System.getenv("RUNPOD_API_KEY")).build();
 *      OllamaRunPodProxy proxy = OllamaRunPodProxy.builder().runPod(runpod).model("securetag").port(11434).build();
 *      OllamaClient ollama = OllamaClient.builder().baseUrl(proxy.baseUrl()).model("securetag").build()) {
 *   ollama.generateStreaming(LlmRequest.of("Explain A.5.1"), System.out::print);
 * }
 * }</pre>
 */
public final class OllamaRunPodProxy implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OllamaRunPodProxy.class);
  /** The Ollama version this proxy reports; clients gate features on it. */
  public static final String OLLAMA_API_VERSION = "0.6.0";
  private static final List<String> PASSTHROUGH = List.of("system", "options", "format", "keep_alive", "template",
      "think", "images", "tools", "raw", "suffix", "context");

  private final RunPodClient runPod;
  private final String model;
  private final Secret accessToken;
  private final long maxBodyBytes;
  private final int maxConcurrent;
  private final Duration requestDeadline;
  private final Duration shutdownGrace;
  private final Duration keepAlive;
  private final Semaphore permits;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicBoolean accepting = new AtomicBoolean(true);
  private final AtomicBoolean closed = new AtomicBoolean();
  private final HttpServer server;
  private final ExecutorService threads;
  private final Instant started = Instant.now();

  private OllamaRunPodProxy(Builder b) {
    this.runPod = b.runPod;
    this.model = b.model;
    this.accessToken = b.accessToken == null ? null : new Secret(b.accessToken);
    this.maxBodyBytes = b.maxBodyBytes;
    this.maxConcurrent = b.maxConcurrent;
    this.requestDeadline = b.requestDeadline;
    this.shutdownGrace = b.shutdownGrace;
    this.keepAlive = b.queueKeepAlive;
    this.permits = new Semaphore(b.maxConcurrent);
    AtomicInteger n = new AtomicInteger();
    // Room beyond maxConcurrent so saturated and metadata requests still get an answer instead of queueing.
    this.threads = Executors.newFixedThreadPool(b.maxConcurrent + 8, r -> {
      Thread t = new Thread(r, "ollama-runpod-proxy-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    try {
      HttpServers.enableNoDelay();
      this.server = HttpServer.create(new InetSocketAddress(b.bindAddress, b.port), 256);
    } catch (IOException e) {
      throw new IllegalStateException("cannot bind Ollama proxy on " + b.bindAddress.getHostAddress() + ":" + b.port, e);
    }
    server.createContext("/", this::handle);
    server.setExecutor(threads);
    server.start();
    LOG.info("Ollama-to-RunPod proxy listening on {} for endpoint {}", baseUrl(), runPod.endpointId());
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The address it listens on. */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  /** The URL to give Ollama clients, e.g. {@code http://127.0.0.1:11434}. */
  public String baseUrl() {
    InetAddress a = server.getAddress().getAddress();
    String host = a.isAnyLocalAddress() ? "127.0.0.1" : a.getHostAddress();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return "http://" + host + ":" + server.getAddress().getPort();
  }

  /** Generations running right now. */
  public int inFlight() {
    return inFlight.get();
  }

  // ------------------------------------------------------------------ dispatch

  private void handle(HttpExchange ex) {
    try {
      dispatch(ex);
    } catch (IOException e) {
      LOG.debug("caller connection failed on {}: {}", ex.getRequestURI().getPath(), e.getMessage());
    } catch (RuntimeException e) {
      LOG.warn("proxy failed on {}", ex.getRequestURI().getPath(), e);
      sendQuietly(ex, 500, error("internal proxy error: " + e.getClass().getSimpleName()));
    } finally {
      ex.close();
    }
  }

  private void dispatch(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    String method = ex.getRequestMethod();
    if (path.equals("/") && (method.equals("GET") || method.equals("HEAD"))) {
      byte[] body = "Ollama is running".getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
      ex.sendResponseHeaders(200, method.equals("HEAD") ? -1 : body.length);
      if (method.equals("GET")) {
        ex.getResponseBody().write(body);
      }
      return;
    }
    if (!authorized(ex)) {
      drain(ex);
      send(ex, 401, error("unauthorized: this proxy needs Authorization: Bearer <proxy token>"));
      return;
    }
    if (!accepting.get()) {
      drain(ex);
      ex.getResponseHeaders().set("Retry-After", "1");
      send(ex, 503, error("proxy is shutting down"));
      return;
    }
    switch (path) {
      case "/api/version":
        send(ex, 200, Json.write(Json.object().put("version", OLLAMA_API_VERSION)));
        return;
      case "/api/tags":
        send(ex, 200, Json.write(tags()));
        return;
      case "/api/ps":
        ObjectNode ps = Json.object();
        ps.putArray("models");
        send(ex, 200, Json.write(ps));
        return;
      case "/api/show":
        requirePost(ex);
        show(ex);
        return;
      case "/api/generate":
        requirePost(ex);
        generate(ex, false);
        return;
      case "/api/chat":
        requirePost(ex);
        generate(ex, true);
        return;
      default:
        drain(ex);
        send(ex, 404, error("404 page not found: " + path));
    }
  }

  private void requirePost(HttpExchange ex) throws IOException {
    if (!ex.getRequestMethod().equals("POST")) {
      drain(ex);
      send(ex, 405, error("method " + ex.getRequestMethod() + " not allowed"));
      throw new MethodNotAllowed();
    }
  }

  private static final class MethodNotAllowed extends IOException {
    private static final long serialVersionUID = 1L;

    MethodNotAllowed() {
      super("method not allowed");
    }
  }

  private boolean authorized(HttpExchange ex) {
    if (accessToken == null) {
      return true;
    }
    String header = ex.getRequestHeaders().getFirst("Authorization");
    byte[] given = (header == null ? "" : header).getBytes(StandardCharsets.UTF_8);
    byte[] expected = ("Bearer " + accessToken.reveal()).getBytes(StandardCharsets.UTF_8);
    // MessageDigest.isEqual runs in time independent of where the bytes differ.
    return MessageDigest.isEqual(given, expected);
  }

  private ObjectNode tags() {
    ObjectNode root = Json.object();
    ObjectNode m = root.putArray("models").addObject();
    m.put("name", model).put("model", model).put("modified_at", started.toString()).put("size", 0)
        .put("digest", Hashing.sha256Hex(model));
    m.putObject("details").put("format", "gguf").put("family", "").put("parameter_size", "").put("quantization_level", "");
    return root;
  }

  private void show(HttpExchange ex) throws IOException {
    JsonNode body = readJson(ex);
    if (body == null) {
      return;
    }
    String name = body.path("model").asText(body.path("name").asText(""));
    if (!sameModel(name)) {
      send(ex, 404, error("model '" + name + "' not found"));
      return;
    }
    ObjectNode out = Json.object();
    out.put("modelfile", "# served by RunPod endpoint through securetag OllamaRunPodProxy\nFROM " + model + "\n");
    out.put("parameters", "").put("template", "");
    out.putObject("details").put("format", "gguf");
    out.putArray("capabilities").add("completion");
    send(ex, 200, Json.write(out));
  }

  private boolean sameModel(String name) {
    return name.equals(model) || name.equals(model + ":latest") || (model + ":latest").equals(name + ":latest");
  }

  // ------------------------------------------------------------------ generation

  private void generate(HttpExchange ex, boolean chat) throws IOException {
    JsonNode body = readJson(ex);
    if (body == null) {
      return;
    }
    if (chat ? !body.path("messages").isArray() : !body.has("prompt")) {
      send(ex, 400, error(chat ? "messages is required" : "prompt is required"));
      return;
    }
    String requested = body.path("model").asText("");
    if (requested.isEmpty()) {
      send(ex, 400, error("model is required"));
      return;
    }
    if (!permits.tryAcquire()) {
      ex.getResponseHeaders().set("Retry-After", "1");
      send(ex, 503, error("server busy: the proxy is running its limit of " + maxConcurrent
          + " concurrent generations, please try again"));
      return;
    }
    inFlight.incrementAndGet();
    try {
      boolean stream = body.path("stream").asBoolean(true);
      ObjectNode input = Json.object();
      input.put("model", requested);
      if (chat) {
        input.set("messages", body.get("messages"));
      } else {
        input.put("prompt", body.path("prompt").asText(""));
      }
      for (String f : PASSTHROUGH) {
        if (body.has(f)) {
          input.set(f, body.get(f));
        }
      }
      input.put("stream", stream);
      JobResult submitted;
      try {
        submitted = runPod.run(JobRequest.of(input));
      } catch (RunPodException e) {
        send(ex, upstreamStatus(e), error(upstreamMessage(e)));
        return;
      }
      relay(ex, submitted.id(), requested, chat, stream);
    } finally {
      inFlight.decrementAndGet();
      permits.release();
    }
  }

  private void relay(HttpExchange ex, String jobId, String requested, boolean chat, boolean stream) throws IOException {
    OllamaStreamTranslator tr = new OllamaStreamTranslator(requested, chat);
    OutputStream out = null;
    boolean finished = false;
    try (JobStream js = runPod.stream(jobId, requestDeadline)) {
      if (stream) {
        ex.getResponseHeaders().set("Content-Type", "application/x-ndjson");
        ex.sendResponseHeaders(200, 0);
        out = ex.getResponseBody();
      }
      while (true) {
        StreamChunk chunk;
        if (out != null && keepAlive != null) {
          Optional<StreamChunk> c = js.poll(keepAlive);
          if (c.isEmpty()) {
            if (js.isFinished()) {
              break;
            }
            writeLine(out, tr.keepAliveLine());
            out.flush();
            continue;
          }
          chunk = c.get();
        } else if (js.hasNext()) {
          chunk = js.next();
        } else {
          break;
        }
        List<ObjectNode> lines = tr.accept(chunk.output());
        if (out != null) {
          for (ObjectNode line : lines) {
            writeLine(out, line);
          }
          if (!lines.isEmpty()) {
            out.flush();
          }
        }
        if (tr.error().isPresent()) {
          break;
        }
      }
      JobResult fin = runPod.status(jobId);
      if (!tr.hasText() && tr.error().isEmpty() && fin.hasOutput()) {
        // Sync (non-generator) workers put everything in the final output and nothing on /stream.
        List<ObjectNode> lines = tr.accept(fin.output());
        if (out != null) {
          for (ObjectNode line : lines) {
            writeLine(out, line);
          }
        }
      }
      String failure = tr.error().orElse(null);
      int failStatus = 500;
      if (failure == null && fin.status() != JobStatus.COMPLETED) {
        failure = "RunPod job " + jobId + " ended " + fin.rawStatus()
            + fin.errorMessage().map(m -> ": " + m).orElse("");
        failStatus = fin.status() == JobStatus.TIMED_OUT ? 504 : 500;
      }
      finished = true;
      if (failure != null) {
        if (out != null) {
          writeLine(out, (ObjectNode) Json.mapper().readTree(error(failure)));
        } else {
          send(ex, failStatus, error(failure));
        }
        return;
      }
      ObjectNode done = tr.doneLine(!stream, fin.delayTime().orElse(null), fin.executionTime().orElse(null));
      if (out != null) {
        writeLine(out, done);
        out.flush();
      } else {
        send(ex, 200, Json.write(done));
      }
    } catch (RunPodException e) {
      finished = e.kind() != Kind.TIMEOUT;
      if (!finished) {
        cancelQuietly(jobId);
        finished = true;
      }
      if (out != null) {
        writeLine(out, (ObjectNode) Json.mapper().readTree(error(upstreamMessage(e))));
      } else {
        send(ex, upstreamStatus(e), error(upstreamMessage(e)));
      }
    } catch (IOException | CancellationException e) {
      // The caller went away (or we are being torn down): nobody will read the result, so stop paying for it.
      throw e instanceof IOException ? (IOException) e : new IOException("cancelled", e);
    } finally {
      if (!finished) {
        cancelQuietly(jobId);
      }
    }
  }

  private void cancelQuietly(String jobId) {
    try {
      runPod.cancel(jobId);
      LOG.debug("cancelled RunPod job {} after its caller went away", jobId);
    } catch (RunPodException | IllegalStateException e) {
      LOG.warn("could not cancel abandoned RunPod job {}: {}", jobId, e.getMessage());
    }
  }

  private static void writeLine(OutputStream out, ObjectNode line) throws IOException {
    out.write(Json.write(line).getBytes(StandardCharsets.UTF_8));
    out.write('\n');
  }

  private static int upstreamStatus(RunPodException e) {
    switch (e.kind()) {
      case RATE_LIMITED:
        return 429;
      case TIMEOUT:
        return 504;
      case INVALID_REQUEST:
        return 400;
      default:
        return 502;
    }
  }

  private static String upstreamMessage(RunPodException e) {
    // RunPodException messages are already scrubbed of the key; the upstream's auth details are not the caller's concern.
    if (e.kind() == Kind.AUTHENTICATION) {
      return "upstream RunPod endpoint rejected the proxy's credentials";
    }
    return e.getMessage();
  }

  // ------------------------------------------------------------------ I/O helpers

  private JsonNode readJson(HttpExchange ex) throws IOException {
    String lengthHeader = ex.getRequestHeaders().getFirst("Content-Length");
    if (lengthHeader != null) {
      try {
        if (Long.parseLong(lengthHeader.trim()) > maxBodyBytes) {
          send(ex, 413, error("request body too large (limit " + maxBodyBytes + " bytes)"));
          return null;
        }
      } catch (NumberFormatException e) {
        send(ex, 400, error("invalid Content-Length"));
        return null;
      }
    }
    byte[] bytes;
    try (InputStream in = ex.getRequestBody()) {
      bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1));
    }
    if (bytes.length > maxBodyBytes) {
      send(ex, 413, error("request body too large (limit " + maxBodyBytes + " bytes)"));
      return null;
    }
    try {
      JsonNode n = Json.mapper().readTree(bytes);
      if (n == null || !n.isObject()) {
        send(ex, 400, error("request body must be a JSON object"));
        return null;
      }
      return n;
    } catch (JsonProcessingException e) {
      send(ex, 400, error("invalid JSON: " + e.getOriginalMessage()));
      return null;
    }
  }

  /** Reads an unwanted request body (bounded) so the connection can be reused for the reply. */
  private void drain(HttpExchange ex) throws IOException {
    InputStream in = ex.getRequestBody();
    long left = maxBodyBytes;
    byte[] buf = new byte[8192];
    int n;
    while (left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0) {
      left -= n;
    }
  }

  private static String error(String message) {
    return Json.write(Json.object().put("error", message));
  }

  private static void send(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
  }

  private static void sendQuietly(HttpExchange ex, int status, String body) {
    try {
      send(ex, status, body);
    } catch (IOException | IllegalStateException e) {
      // Headers may already be out (mid-stream failure) or the caller gone; nothing more can be told to it.
      LOG.debug("could not send error response: {}", e.getMessage());
    }
  }

  /**
   * Stops accepting generations (new ones get 503), waits up to the grace period for in-flight ones to finish, then
   * stops the server. Does not close the {@link RunPodClient}. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    accepting.set(false);
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
      LOG.warn("Ollama proxy stopping with {} generations still running after {} ms", inFlight.get(),
          shutdownGrace.toMillis());
    }
    server.stop(0);
    threads.shutdownNow();
    try {
      threads.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "OllamaRunPodProxy{" + baseUrl() + " -> " + runPod.endpointUrl() + ", model=" + model + "}";
  }

  /** Configures an {@link OllamaRunPodProxy}; {@code runPod} and {@code model} are required. */
  public static final class Builder {
    private RunPodClient runPod;
    private String model;
    private InetAddress bindAddress = InetAddress.getLoopbackAddress();
    private int port;
    private String accessToken;
    private long maxBodyBytes = 10L * 1024 * 1024;
    private int maxConcurrent = 32;
    private Duration requestDeadline = Duration.ofMinutes(15);
    private Duration shutdownGrace = Duration.ofSeconds(30);
    private Duration queueKeepAlive;

    private Builder() {}

    /**
     * When set, a streaming response gets an empty {@code done:false} line whenever no output arrived for this long
     * (typically while the job waits through a cold start), so callers with 30–60 s read timeouts keep waiting. Off by
     * default because not every Ollama client is known to accept empty chunks.
     */
    public Builder queueKeepAlive(Duration v) {
      if (v != null && (v.isNegative() || v.isZero())) {
        throw new IllegalArgumentException("queueKeepAlive must be positive");
      }
      this.queueKeepAlive = v;
      return this;
    }

    /** The RunPod endpoint client; the proxy uses it but does not close it. */
    public Builder runPod(RunPodClient v) {
      this.runPod = Objects.requireNonNull(v);
      return this;
    }

    /** The model name reported by {@code /api/tags} and {@code /api/show}. */
    public Builder model(String v) {
      this.model = v;
      return this;
    }

    /** Address to bind; loopback by default. Binding elsewhere exposes the RunPod credit: set an access token. */
    public Builder bindAddress(InetAddress v) {
      this.bindAddress = Objects.requireNonNull(v);
      return this;
    }

    /** Port; 0 (default) picks a free one, 11434 impersonates a local Ollama. */
    public Builder port(int v) {
      if (v < 0 || v > 65535) {
        throw new IllegalArgumentException("port out of range: " + v);
      }
      this.port = v;
      return this;
    }

    /** Require {@code Authorization: Bearer <token>} from callers. */
    public Builder accessToken(String v) {
      this.accessToken = v;
      return this;
    }

    /** Largest accepted request body (default 10 MB, RunPod's {@code /run} limit); larger gets 413. */
    public Builder maxBodyBytes(long v) {
      if (v < 1) {
        throw new IllegalArgumentException("maxBodyBytes must be positive");
      }
      this.maxBodyBytes = v;
      return this;
    }

    /** Generations allowed at once (default 32); more get 503 with Retry-After. */
    public Builder maxConcurrent(int v) {
      if (v < 1) {
        throw new IllegalArgumentException("maxConcurrent must be >= 1");
      }
      this.maxConcurrent = v;
      return this;
    }

    /** Longest a single generation may take end to end (queue included); the job is cancelled after it. */
    public Builder requestDeadline(Duration v) {
      this.requestDeadline = Objects.requireNonNull(v);
      return this;
    }

    /** How long {@link OllamaRunPodProxy#close()} waits for in-flight generations. */
    public Builder shutdownGrace(Duration v) {
      this.shutdownGrace = Objects.requireNonNull(v);
      return this;
    }

    /** Binds and starts the proxy. */
    public OllamaRunPodProxy build() {
      if (runPod == null) {
        throw new IllegalArgumentException("OllamaRunPodProxy.runPod is required");
      }
      if (model == null || model.isBlank()) {
        throw new IllegalArgumentException("OllamaRunPodProxy.model is required");
      }
      if (accessToken != null && accessToken.isBlank()) {
        throw new IllegalArgumentException("OllamaRunPodProxy.accessToken must not be blank when set");
      }
      return new OllamaRunPodProxy(this);
    }
  }
}
