package dev.securetag.runpod;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.Hashing;
import dev.securetag.core.Json;
import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.core.ollama.OllamaChatRequest;
import dev.securetag.core.ollama.OllamaError;
import dev.securetag.core.ollama.OllamaGenerateRequest;
import dev.securetag.core.ollama.OllamaModelDetails;
import dev.securetag.core.ollama.OllamaModelInfo;
import dev.securetag.core.ollama.OllamaShowRequest;
import dev.securetag.core.ollama.OllamaShowResponse;
import dev.securetag.core.ollama.OllamaTags;
import dev.securetag.core.ollama.OllamaVersion;
import dev.securetag.runpod.internal.BlockingHttpServer.Exchange;
import dev.securetag.runpod.internal.BlockingHttpServer;
import dev.securetag.runpod.internal.OllamaStreamTranslator;
import dev.securetag.runpod.internal.OutputText;
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
import java.util.Optional;
import java.util.concurrent.CancellationException;
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
 * <p>Each generation is submitted with {@code /run} and followed on {@code /stream} (polled at most every
 * {@code maxPollInterval}, 500 ms by default): every chunk is re-emitted as an Ollama NDJSON line as soon as it
 * arrives, and a final {@code done} line carries the fields Ollama clients read (durations from RunPod's queue/run
 * times when the worker sent none). Generations longer than the runsync window and cold starts therefore work;
 * aggregated list outputs are unwrapped; failures become Ollama's {@code {"error": ".."}} shape (an error line once
 * streaming has begun). Failures talking to RunPod reach the caller as a fixed message per kind (plus an
 * {@code error_kind} field); the detail is logged, without the key.
 *
 * <p>A caller that disconnects gets its RunPod job cancelled, also while the proxy has nothing to write to it
 * ({@code "stream": false}, or a worker that streams nothing): the connection is watched for the caller hanging up
 * once its request has been read. At most {@code maxConcurrent} generations (64 by default) run at once; further ones
 * wait up to {@code admissionWait} (30 s) for a slot, then get 503 with Retry-After.
 *
 * <p>The proxy holds the RunPod key so callers never do: it binds to loopback unless told otherwise, can require its
 * own API key from callers ({@code Authorization: Bearer}, scheme case-insensitive, compared in constant time), caps
 * request bodies, never forwards a caller's Authorization header and never echoes the RunPod key. Requests and
 * replies are securetag-core's Ollama wire types ({@code dev.securetag.core.ollama}): the job input is the caller's
 * {@code /api/generate} or {@code /api/chat} body as typed there (fields Ollama defines; unknown ones are dropped). {@link #close()} stops accepting and lets in-flight
 * generations finish (up to the grace period).
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
  private static final long ADMISSION_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final RunPodClient runPod;
  private final String model;
  private final Secret accessToken;
  private final long maxBodyBytes;
  private final int maxConcurrent;
  private final Duration admissionWait;
  private final PollPolicy poll;
  private final Duration requestDeadline;
  private final Duration shutdownGrace;
  private final Duration keepAlive;
  private final Semaphore permits;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicBoolean accepting = new AtomicBoolean(true);
  private final AtomicBoolean closed = new AtomicBoolean();
  private final BlockingHttpServer server;
  private final Instant started = Instant.now();

  private OllamaRunPodProxy(Builder b) {
    this.runPod = b.runPod;
    this.model = b.model;
    this.accessToken = b.apiKey == null ? null : new Secret(b.apiKey);
    this.maxBodyBytes = b.maxBodyBytes;
    this.maxConcurrent = b.concurrency;
    this.admissionWait = b.admissionWait;
    this.requestDeadline = b.requestDeadline;
    this.shutdownGrace = b.shutdownGrace;
    this.keepAlive = b.queueKeepAlive;
    this.permits = new Semaphore(b.concurrency, true);
    PollPolicy clientPoll = runPod.pollPolicy();
    Duration max = min(clientPoll.maxInterval(), b.maxPollInterval);
    this.poll = PollPolicy.builder().initialInterval(min(clientPoll.initialInterval(), max)).maxInterval(max)
        .multiplier(clientPoll.multiplier()).build();
    try {
      this.server = BlockingHttpServer.start(new InetSocketAddress(b.bindAddress, b.port), 256, b.maxConnections,
          "ollama-runpod-proxy", this::handle);
    } catch (IOException e) {
      throw new IllegalStateException("cannot bind Ollama proxy on " + b.bindAddress.getHostAddress() + ":" + b.port, e);
    }
    LOG.info("Ollama-to-RunPod proxy listening on {} for endpoint {}", baseUrl(), runPod.endpointId());
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The address it listens on. */
  public InetSocketAddress address() {
    return server.address();
  }

  /** The URL to give Ollama clients, e.g. {@code http://127.0.0.1:11434}. */
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

  /** Generations waiting for a free slot (beyond {@code maxConcurrent}) right now. */
  public int queued() {
    return queued.get();
  }

  // ------------------------------------------------------------------ dispatch

  private void handle(Exchange ex) throws IOException {
    try {
      dispatch(ex);
    } catch (MethodNotAllowed e) {
      // answered already
    } catch (RuntimeException e) {
      LOG.warn("proxy failed on {}", ex.path(), e);
      if (!ex.responseStarted()) {
        send(ex, 500, error("internal proxy error: " + e.getClass().getSimpleName(), "proxy_error"));
      }
    }
  }

  private void dispatch(Exchange ex) throws IOException {
    String path = ex.path();
    String method = ex.method();
    if (path.equals("/") && (method.equals("GET") || method.equals("HEAD"))) {
      byte[] body = "Ollama is running".getBytes(StandardCharsets.UTF_8);
      ex.responseHeader("Content-Type", "text/plain; charset=utf-8");
      ex.sendResponseHeaders(200, body.length);
      if (method.equals("GET")) {
        ex.responseBody().write(body);
      }
      return;
    }
    if (!authorized(ex)) {
      drain(ex);
      send(ex, 401, error("unauthorized: this proxy needs Authorization: Bearer <proxy API key>", "unauthorized"));
      return;
    }
    if (!accepting.get()) {
      drain(ex);
      ex.responseHeader("Retry-After", "1");
      send(ex, 503, error("proxy is shutting down", "shutting_down"));
      return;
    }
    switch (path) {
      case "/api/version":
        send(ex, 200, Json.write(new OllamaVersion(OLLAMA_API_VERSION)));
        return;
      case "/api/tags":
        send(ex, 200, Json.write(tags()));
        return;
      case "/api/ps":
        send(ex, 200, Json.write(new OllamaTags(List.of())));
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
        send(ex, 404, error("404 page not found: " + path, "not_found"));
    }
  }

  private void requirePost(Exchange ex) throws IOException {
    if (!ex.method().equals("POST")) {
      drain(ex);
      send(ex, 405, error("method " + ex.method() + " not allowed", "method_not_allowed"));
      throw new MethodNotAllowed();
    }
  }

  private static final class MethodNotAllowed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    MethodNotAllowed() {
      super("method not allowed", null, false, false);
    }
  }

  /** {@code Authorization: Bearer <token>}; the scheme is case-insensitive (RFC 7235 2.1), the token is not. */
  private boolean authorized(Exchange ex) {
    if (accessToken == null) {
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
    byte[] expected = accessToken.reveal().getBytes(StandardCharsets.UTF_8);
    // MessageDigest.isEqual runs in time independent of where the bytes differ; both checks always run.
    return MessageDigest.isEqual(given, expected) & schemeOk;
  }

  private OllamaTags tags() {
    return new OllamaTags(List.of(new OllamaModelInfo(model, model, started.toString(), 0L, Hashing.sha256Hex(model),
        new OllamaModelDetails(null, "gguf", "", null, "", ""))));
  }

  private void show(Exchange ex) throws IOException {
    OllamaShowRequest body = readRequest(ex, OllamaShowRequest.class);
    if (body == null) {
      return;
    }
    String name = body.requested();
    if (!sameModel(name)) {
      send(ex, 404, error("model '" + name + "' not found", "not_found"));
      return;
    }
    send(ex, 200, Json.write(new OllamaShowResponse(
        "# served by RunPod endpoint through securetag OllamaRunPodProxy\nFROM " + model + "\n", "", "",
        OllamaModelDetails.format("gguf"), null, List.of("completion"))));
  }

  private boolean sameModel(String name) {
    return name.equals(model) || name.equals(model + ":latest") || (model + ":latest").equals(name + ":latest");
  }

  // ------------------------------------------------------------------ generation

  /**
   * One generation's link between its caller and its RunPod job. The connection watcher and the relaying thread
   * both may learn first that the job must go (caller gone, failure); the job is cancelled exactly once, and never
   * after it was settled (relayed to the end).
   */
  private final class Generation {
    private final AtomicBoolean settled = new AtomicBoolean();
    private volatile boolean gone;
    private volatile String jobId;

    /** Runs on the connection watcher's thread when the caller hangs up. */
    void callerGone() {
      gone = true;
      String id = jobId;
      if (id != null) {
        cancelOnce(id, "its caller disconnected");
      }
    }

    /** Records the job; false (and the job cancelled) when the caller already left. */
    boolean jobStarted(String id) {
      jobId = id;
      if (gone) {
        cancelOnce(id, "its caller disconnected before the job was submitted");
        return false;
      }
      return true;
    }

    void settle() {
      settled.set(true);
    }

    void cancelOnce(String id, String why) {
      if (settled.compareAndSet(false, true)) {
        cancelQuietly(id, why);
      }
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
    if (chat ? chatBody.messages() == null : generateBody.prompt() == null) {
      send(ex, 400, error(chat ? "messages is required" : "prompt is required", "invalid_request"));
      return;
    }
    String requested = chat ? chatBody.model() : generateBody.model();
    if (requested == null || requested.isEmpty()) {
      send(ex, 400, error("model is required", "invalid_request"));
      return;
    }
    Generation gen = new Generation();
    // The request is fully read: from here on a hang-up is visible, even while we have nothing to write.
    ex.watchForDisconnect(gen::callerGone);
    if (!admit(gen)) {
      if (gen.gone) {
        LOG.debug("caller of {} left while waiting for a generation slot", ex.path());
        return;
      }
      ex.responseHeader("Retry-After", "1");
      send(ex, 503, error(accepting.get()
          ? "server busy: the proxy is running its limit of " + maxConcurrent
              + " concurrent generations and none finished within " + admissionWait.toMillis() + " ms, please try again"
          : "proxy is shutting down", accepting.get() ? "busy" : "shutting_down"));
      return;
    }
    inFlight.incrementAndGet();
    try {
      boolean stream = chat ? chatBody.streaming() : generateBody.streaming();
      // The worker receives the caller's request as Ollama defines it; "stream" tells it how to answer.
      ObjectNode input = Json.mapper().valueToTree(chat ? chatBody.withStream(stream) : generateBody.withStream(stream));
      JobResult submitted;
      try {
        submitted = runPod.run(JobRequest.of(input));
      } catch (RunPodException e) {
        upstreamFailure(ex, null, "submit", null, e);
        return;
      }
      if (!gen.jobStarted(submitted.id())) {
        return;
      }
      relay(ex, gen, submitted.id(), requested, chat, stream);
    } finally {
      inFlight.decrementAndGet();
      permits.release();
    }
  }

  /** Takes a generation slot, waiting up to {@code admissionWait}; false when none freed, the caller left or we close. */
  private boolean admit(Generation gen) {
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
      long end = System.nanoTime() + admissionWait.toNanos();
      while (true) {
        long left = end - System.nanoTime();
        if (left <= 0 || gen.gone || !accepting.get()) {
          return false;
        }
        if (permits.tryAcquire(Math.min(left, ADMISSION_SLICE_NANOS), TimeUnit.NANOSECONDS)) {
          if (gen.gone || !accepting.get()) {
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

  private void relay(Exchange ex, Generation gen, String jobId, String requested, boolean chat, boolean stream)
      throws IOException {
    OllamaStreamTranslator tr = new OllamaStreamTranslator(requested, chat);
    OutputStream out = null;
    try (JobStream js = runPod.stream(jobId, requestDeadline, poll)) {
      if (stream) {
        ex.responseHeader("Content-Type", "application/x-ndjson");
        ex.sendResponseHeaders(200, 0);
        out = ex.responseBody();
      }
      while (!gen.gone) {
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
      if (gen.gone) {
        return; // the watcher cancelled the job; nobody is left to answer
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
      gen.settle();
      String failure = tr.error().orElse(null);
      String failKind = "job_failed";
      int failStatus = 500;
      if (failure == null && fin.status() != JobStatus.COMPLETED) {
        // The worker's own error message, as Ollama itself would report a model failure.
        failure = "RunPod job " + jobId + " ended " + fin.rawStatus()
            + fin.errorMessage().map(m -> ": " + OutputText.snippet(m)).orElse("");
        failStatus = fin.status() == JobStatus.TIMED_OUT ? 504 : 500;
        failKind = fin.status() == JobStatus.TIMED_OUT ? "job_timed_out"
            : fin.status() == JobStatus.CANCELLED ? "job_cancelled" : "job_failed";
      }
      if (failure != null) {
        if (out != null) {
          writeLine(out, errorNode(failure, failKind));
        } else {
          send(ex, failStatus, Json.write(errorNode(failure, failKind)));
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
      if (e.kind() != Kind.NOT_FOUND) {
        // Nobody will read this job's result any more.
        gen.cancelOnce(jobId, "the proxy gave up on it (" + e.kind() + ")");
      }
      if (!gen.gone) {
        upstreamFailure(ex, out, "follow-up", jobId, e);
      }
    } catch (CancellationException e) {
      throw new IOException("generation interrupted", e);
    } finally {
      // Caller gone mid-write, or we are being torn down: nobody will read the result, so stop paying for it.
      gen.cancelOnce(jobId, "its caller went away");
    }
  }

  private void cancelQuietly(String jobId, String why) {
    try {
      runPod.cancel(jobId);
      LOG.info("cancelled RunPod job {}: {}", jobId, why);
    } catch (RuntimeException e) {
      // RunPod failing, the client closed, or this thread interrupted by shutdown: the job keeps its own timeouts.
      LOG.warn("could not cancel RunPod job {} ({}): {}", jobId, why, e.getMessage());
    }
  }

  private static void writeLine(OutputStream out, ObjectNode line) throws IOException {
    out.write(Json.write(line).getBytes(StandardCharsets.UTF_8));
    out.write('\n');
  }

  /** What the caller is told for each kind of RunPod failure: the status, a fixed message and an error_kind. */
  private enum Upstream {
    CONNECTION(502, "upstream_unreachable", "could not reach the upstream RunPod endpoint"),
    TIMEOUT(504, "upstream_timeout", "the upstream RunPod endpoint did not answer in time"),
    RATE_LIMITED(429, "upstream_rate_limited", "the upstream RunPod endpoint is rate limiting requests, please retry later"),
    SERVER_ERROR(502, "upstream_error", "the upstream RunPod endpoint failed"),
    AUTHENTICATION(502, "upstream_auth", "upstream RunPod endpoint rejected the proxy's credentials"),
    NOT_FOUND(502, "upstream_not_found", "the upstream RunPod endpoint or job was not found"),
    INVALID_REQUEST(400, "upstream_rejected", "the upstream RunPod endpoint rejected the request"),
    JOB_FAILED(500, "job_failed", "the RunPod job failed"),
    BAD_RESPONSE(502, "upstream_bad_response", "the upstream RunPod endpoint sent an invalid response");

    final int status;
    final String code;
    final String message;

    Upstream(int status, String code, String message) {
      this.status = status;
      this.code = code;
      this.message = message;
    }

    static Upstream of(Kind kind) {
      return valueOf(kind.name());
    }
  }

  /**
   * Tells the caller a fixed message for the failure's kind (upstream bodies may carry anything, including the key
   * echoed back) and logs the detail; RunPodException messages are already scrubbed of the key.
   */
  private static void upstreamFailure(Exchange ex, OutputStream out, String what, String jobId, RunPodException e)
      throws IOException {
    LOG.warn("RunPod {} for {}{} failed: {}", what, ex.path(), jobId == null ? "" : " (job " + jobId + ")",
        e.getMessage());
    Upstream u = Upstream.of(e.kind());
    ObjectNode err = errorNode(u.message, u.code);
    if (out != null) {
      writeLine(out, err);
      return;
    }
    if (u == Upstream.RATE_LIMITED || u == Upstream.SERVER_ERROR) {
      long seconds = e.retryAfter().map(d -> Math.max(1, (d.toMillis() + 999) / 1000)).orElse(1L);
      ex.responseHeader("Retry-After", Long.toString(seconds));
    }
    send(ex, u.status, Json.write(err));
  }

  // ------------------------------------------------------------------ I/O helpers

  /** Reads the body as an Ollama request type; null (after answering 4xx) when it is too large or not that type. */
  private <T> T readRequest(Exchange ex, Class<T> type) throws IOException {
    JsonNode body = readJson(ex);
    if (body == null) {
      return null;
    }
    try {
      return Json.mapper().treeToValue(body, type);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      String detail = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
      send(ex, 400, error("invalid request: " + detail, "invalid_request"));
      return null;
    }
  }

  private JsonNode readJson(Exchange ex) throws IOException {
    String lengthHeader = ex.requestHeader("Content-Length");
    if (lengthHeader != null && Long.parseLong(lengthHeader.trim()) > maxBodyBytes) {
      // The server already rejected malformed lengths; an honest oversized one is refused before reading it.
      send(ex, 413, error("request body too large (limit " + maxBodyBytes + " bytes)", "too_large"));
      return null;
    }
    byte[] bytes;
    try (InputStream in = ex.requestBody()) {
      bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1));
    }
    if (bytes.length > maxBodyBytes) {
      send(ex, 413, error("request body too large (limit " + maxBodyBytes + " bytes)", "too_large"));
      return null;
    }
    try {
      JsonNode n = Json.mapper().readTree(bytes);
      if (n == null || !n.isObject()) {
        send(ex, 400, error("request body must be a JSON object", "invalid_request"));
        return null;
      }
      return n;
    } catch (JsonProcessingException e) {
      send(ex, 400, error("invalid JSON: " + e.getOriginalMessage(), "invalid_request"));
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

  /** Ollama's error shape plus a stable {@code error_kind} that programs can switch on (Ollama clients ignore it). */
  private static ObjectNode errorNode(String message, String kind) {
    return Json.mapper().valueToTree(new OllamaError(message, kind));
  }

  private static String error(String message, String kind) {
    return Json.write(errorNode(message, kind));
  }

  private static void send(Exchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.responseHeader("Content-Type", "application/json; charset=utf-8");
    ex.sendResponseHeaders(status, bytes.length);
    ex.responseBody().write(bytes);
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
    server.close();
  }

  @Override
  public String toString() {
    return "OllamaRunPodProxy{" + baseUrl() + " -> " + runPod.endpointUrl() + ", model=" + model + "}";
  }

  /**
   * Configures an {@link OllamaRunPodProxy}; {@code runPod} and {@code model} are required. Setters only record values;
   * {@link #build()} checks them all and names the first one out of range.
   */
  public static final class Builder {
    private RunPodClient runPod;
    private String model;
    private InetAddress bindAddress = InetAddress.getLoopbackAddress();
    private int port;
    private String apiKey;
    private long maxBodyBytes = 10L * 1024 * 1024;
    private int concurrency = 64;
    private Duration admissionWait = Duration.ofSeconds(30);
    private Duration maxPollInterval = Duration.ofMillis(500);
    private int maxConnections = 512;
    private Duration requestDeadline = Duration.ofMinutes(15);
    private Duration shutdownGrace = Duration.ofSeconds(30);
    private Duration queueKeepAlive;

    private Builder() {}

    /**
     * When set, a streaming response gets an empty {@code done:false} line whenever no output arrived for this long
     * (typically while the job waits through a cold start), so callers with 30–60 s read timeouts keep waiting. Off by
     * default because not every Ollama client is known to accept empty chunks. Must be positive.
     */
    public Builder queueKeepAlive(Duration v) {
      this.queueKeepAlive = v;
      return this;
    }

    /** The RunPod endpoint client (required); the proxy uses it but does not close it. */
    public Builder runPod(RunPodClient v) {
      this.runPod = v;
      return this;
    }

    /** The model name reported by {@code /api/tags} and {@code /api/show} (required). */
    public Builder model(String v) {
      this.model = v;
      return this;
    }

    /** Address to bind; loopback by default. Binding elsewhere exposes the RunPod credit: set an API key. */
    public Builder bindAddress(InetAddress v) {
      this.bindAddress = v;
      return this;
    }

    /** Port in [0, 65535]; 0 (default) picks a free one, 11434 impersonates a local Ollama. */
    public Builder port(int v) {
      this.port = v;
      return this;
    }

    /**
     * The API key callers must present as {@code Authorization: Bearer <key>} (none by default: anyone who can reach
     * the proxy may use it). Never logged or echoed; not the RunPod key, which stays in the {@link RunPodClient}.
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
    public Builder accessToken(String v) {
      return apiKey(v);
    }

    /** Largest accepted request body (default 10 MB, RunPod's {@code /run} limit); larger gets 413. */
    public Builder maxBodyBytes(long v) {
      this.maxBodyBytes = v;
      return this;
    }

    /**
     * Generations running at once (default 64); further ones wait up to {@link #admissionWait(Duration)} for a slot,
     * first come first served, then get 503 with Retry-After.
     */
    public Builder concurrency(int v) {
      this.concurrency = v;
      return this;
    }

    /**
     * Old name of {@link #concurrency(int)}.
     *
     * @deprecated parallelism is {@code concurrency} (operations in flight) or {@code threads} (local worker threads)
     *     on every securetag builder; use {@link #concurrency(int)}
     */
    @Deprecated
    public Builder maxConcurrent(int v) {
      return concurrency(v);
    }

    /**
     * How long a generation beyond {@code concurrency} waits for a slot before it gets 503 (default 30 s; zero
     * refuses at once). Ollama clients do not retry 503, so waiting is kinder; a caller that hangs up while waiting
     * leaves without a job being submitted.
     */
    public Builder admissionWait(Duration v) {
      this.admissionWait = v;
      return this;
    }

    /**
     * Longest pause between two {@code /stream} polls of a generation (default 500 ms; the RunPod client's own
     * policy applies when it is shorter). It bounds how late the reply of a worker that streams nothing arrives
     * after the job ends; at 64 concurrent generations 500 ms stays under RunPod's 2000 {@code /stream} requests
     * per 10 s.
     */
    public Builder maxPollInterval(Duration v) {
      this.maxPollInterval = v;
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

    /** Longest a single generation may take end to end (queue included); the job is cancelled after it. */
    public Builder requestDeadline(Duration v) {
      this.requestDeadline = v;
      return this;
    }

    /** How long {@link OllamaRunPodProxy#close()} waits for in-flight generations. */
    public Builder shutdownGrace(Duration v) {
      this.shutdownGrace = v;
      return this;
    }

    /**
     * Checks every setting, then binds and starts the proxy.
     *
     * @throws IllegalArgumentException naming the first setting that is missing or out of range
     * @throws IllegalStateException when the address cannot be bound
     */
    public OllamaRunPodProxy build() {
      if (runPod == null) {
        throw new IllegalArgumentException("OllamaRunPodProxy.runPod is required");
      }
      if (model == null || model.isBlank()) {
        throw new IllegalArgumentException("OllamaRunPodProxy.model is required");
      }
      if (bindAddress == null) {
        throw new IllegalArgumentException("OllamaRunPodProxy.bindAddress must not be null");
      }
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("OllamaRunPodProxy.port out of range: " + port);
      }
      if (apiKey != null && apiKey.isBlank()) {
        throw new IllegalArgumentException("OllamaRunPodProxy.apiKey must not be blank when set");
      }
      if (maxBodyBytes < 1) {
        throw new IllegalArgumentException("OllamaRunPodProxy.maxBodyBytes must be positive");
      }
      if (concurrency < 1) {
        throw new IllegalArgumentException("OllamaRunPodProxy.concurrency must be >= 1");
      }
      if (maxConnections < 1) {
        throw new IllegalArgumentException("OllamaRunPodProxy.maxConnections must be >= 1");
      }
      if (admissionWait == null || admissionWait.isNegative()) {
        throw new IllegalArgumentException("OllamaRunPodProxy.admissionWait must be zero or positive");
      }
      if (maxPollInterval == null || maxPollInterval.isNegative() || maxPollInterval.isZero()) {
        throw new IllegalArgumentException("OllamaRunPodProxy.maxPollInterval must be positive");
      }
      if (queueKeepAlive != null && (queueKeepAlive.isNegative() || queueKeepAlive.isZero())) {
        throw new IllegalArgumentException("OllamaRunPodProxy.queueKeepAlive must be positive");
      }
      if (requestDeadline == null || shutdownGrace == null) {
        throw new IllegalArgumentException("OllamaRunPodProxy.requestDeadline and shutdownGrace must not be null");
      }
      return new OllamaRunPodProxy(this);
    }
  }
}
