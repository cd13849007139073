package dev.securetag.runpod.testing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.securetag.core.Json;
import dev.securetag.runpod.JobStatus;
import dev.securetag.runpod.internal.HttpServers;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-memory RunPod Serverless queue endpoint on loopback, faithful to the wire formats of the job API, for tests
 * and local end-to-end runs (users can embed it in their own tests). It queues jobs, moves them IN_QUEUE →
 * IN_PROGRESS → COMPLETED / FAILED / TIMED_OUT / CANCELLED with configurable delays, runs each job through a
 * {@link JobHandler} (sync or generator form), answers {@code /runsync} with a non-terminal status when its wait runs
 * out, serves partial output on {@code /stream}, expires results after the retention time or the job TTL (404),
 * POSTs the final status JSON to a job's {@code webhook} (retried twice when it does not answer 200), and injects
 * faults (429 with Retry-After, 5xx, dropped connections).
 *
 * <pre>{@code
 * try (FakeRunPodEndpoint fake = FakeRunPodEndpoint.builder()
 *         .apiKey("test-key")
 *         .queueDelay(Duration.ofMillis(50))
 *         .handler(job -> Json.object().put("response", "echo: " + job.input().path("prompt").asText()))
 *         .build();
 *     RunPodClient client = RunPodClient.builder()
 *         .baseUrl(fake.baseUrl()).endpointId(fake.endpointId()).apiKey("test-key").build()) {
 *   ...
 * }
 * }</pre>
 *
 * Served routes under {@code /v2/{endpointId}}: {@code POST /run}, {@code POST /runsync?wait=},
 * {@code GET /status/{id}}, {@code GET /status-sync/{id}?wait=}, {@code GET /stream/{id}}, {@code POST /cancel/{id}},
 * {@code POST /retry/{id}}, {@code POST /purge-queue}, {@code GET /health}, and the vLLM-style
 * {@code /openai/v1/*} route (run through the handler with {@code openai_route}/{@code openai_input}). Requests need
 * {@code Authorization: Bearer <key>} (or the raw key, which RunPod also accepts).
 */
public final class FakeRunPodEndpoint implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FakeRunPodEndpoint.class);

  /** One request the fake received (kept for assertions). */
  public record RecordedRequest(Operation operation, String method, String path, String authorization, String body) {
    @Override
    public String toString() {
      return "RecordedRequest{" + operation + " " + method + " " + path + "}";
    }
  }

  private final String endpointId;
  private final String apiKey;
  private final Duration queueDelay;
  private final Duration defaultExecutionTimeout;
  private final Duration runRetention;
  private final Duration syncRetention;
  private final Duration maxRunSyncWait;
  private final boolean aggregateStream;
  private final long maxRunPayload;
  private final long maxRunSyncPayload;
  private final int workerCount;
  private volatile JobHandler handler;

  private final HttpServer server;
  private final ExecutorService httpThreads;
  private final ExecutorService workers;
  private final ScheduledExecutorService scheduler;
  private final Map<String, FakeJob> jobs = new ConcurrentHashMap<>();
  private final Map<Operation, Deque<Fault>> faults = new EnumMap<>(Operation.class);
  private final Map<Operation, AtomicInteger> counts = new EnumMap<>(Operation.class);
  private final List<RecordedRequest> recorded = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicInteger completedCount = new AtomicInteger();
  private final AtomicInteger failedCount = new AtomicInteger();
  private final AtomicInteger retriedCount = new AtomicInteger();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicInteger webhookDeliveries = new AtomicInteger();
  private final java.net.http.HttpClient webhookClient = java.net.http.HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final Duration webhookRetryDelay;

  private FakeRunPodEndpoint(Builder b) {
    this.endpointId = b.endpointId;
    this.apiKey = b.apiKey;
    this.queueDelay = b.queueDelay;
    this.defaultExecutionTimeout = b.executionTimeout;
    this.runRetention = b.runRetention;
    this.syncRetention = b.syncRetention;
    this.maxRunSyncWait = b.maxRunSyncWait;
    this.aggregateStream = b.returnAggregateStream;
    this.maxRunPayload = b.maxRunPayload;
    this.maxRunSyncPayload = b.maxRunSyncPayload;
    this.workerCount = b.workers;
    this.handler = b.handler;
    this.webhookRetryDelay = b.webhookRetryDelay;
    for (Operation op : Operation.values()) {
      faults.put(op, new ArrayDeque<>());
      counts.put(op, new AtomicInteger());
    }
    this.httpThreads = Executors.newCachedThreadPool(daemon("fake-runpod-http"));
    this.workers = Executors.newFixedThreadPool(b.workers, daemon("fake-runpod-worker"));
    this.scheduler = Executors.newSingleThreadScheduledExecutor(daemon("fake-runpod-timer"));
    try {
      HttpServers.enableNoDelay();
      this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), b.port), 128);
    } catch (IOException e) {
      throw new IllegalStateException("cannot bind fake RunPod endpoint on loopback port " + b.port, e);
    }
    server.createContext("/", this::handle);
    server.setExecutor(httpThreads);
    server.start();
  }

  private static java.util.concurrent.ThreadFactory daemon(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The value for {@code RunPodClient.builder().baseUrl(..)}: {@code http://127.0.0.1:<port>/v2}. */
  public String baseUrl() {
    return "http://" + server.getAddress().getAddress().getHostAddress() + ":" + server.getAddress().getPort() + "/v2";
  }

  public String endpointId() {
    return endpointId;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** Replaces the handler for jobs that start from now on. */
  public void handler(JobHandler newHandler) {
    this.handler = Objects.requireNonNull(newHandler, "handler");
  }

  /** The next {@code times} requests for {@code op} (or any op with {@link Operation#ANY}) fail with {@code fault}. */
  public void injectFault(Operation op, int times, Fault fault) {
    synchronized (faults) {
      for (int i = 0; i < times; i++) {
        faults.get(op).add(fault);
      }
    }
  }

  /** How many requests for {@code op} arrived (faulted ones included). */
  public int requestCount(Operation op) {
    if (op == Operation.ANY) {
      return recorded.size();
    }
    return counts.get(op).get();
  }

  /** Every request received so far, in order. */
  public List<RecordedRequest> requests() {
    synchronized (recorded) {
      return List.copyOf(recorded);
    }
  }

  /** How many jobs were ever submitted and are still known (not expired or purged). */
  public int jobCount() {
    return jobs.size();
  }

  /** A job's current status, or empty if unknown or expired. */
  public java.util.Optional<JobStatus> jobStatus(String id) {
    FakeJob j = jobs.get(id);
    if (j == null) {
      return java.util.Optional.empty();
    }
    synchronized (j) {
      return java.util.Optional.of(j.status);
    }
  }

  // ------------------------------------------------------------------------------------------ HTTP

  private void handle(HttpExchange ex) throws IOException {
    try {
      route(ex);
    } catch (MethodNotAllowed e) {
      send(ex, 405, error("method not allowed"));
    } catch (RuntimeException e) {
      LOG.warn("fake RunPod endpoint failed on {} {}", ex.getRequestMethod(), ex.getRequestURI(), e);
      send(ex, 500, error("internal fake error: " + e.getClass().getSimpleName()));
    } finally {
      ex.close();
    }
  }

  private void route(HttpExchange ex) throws IOException {
    String method = ex.getRequestMethod();
    URI uri = ex.getRequestURI();
    String[] parts = uri.getPath().split("/");
    // parts: "", "v2", endpointId, op, [id]
    byte[] bodyBytes = readBody(ex.getRequestBody());
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    if (parts.length < 4 || !parts[1].equals("v2")) {
      send(ex, 404, error("not found"));
      return;
    }
    Operation op = operation(parts[3]);
    String bodyText = new String(bodyBytes, StandardCharsets.UTF_8);
    recorded.add(new RecordedRequest(op == null ? Operation.ANY : op, method, uri.getPath(), auth, bodyText));
    if (op != null) {
      counts.get(op).incrementAndGet();
      Fault fault = nextFault(op);
      if (fault != null) {
        inject(ex, fault, auth);
        return;
      }
    }
    if (!authorized(auth)) {
      send(ex, 401, error("Unauthorized"));
      return;
    }
    if (!parts[2].equals(endpointId) || op == null) {
      send(ex, 404, error("endpoint or route not found"));
      return;
    }
    String id = parts.length > 4 ? parts[4] : null;
    switch (op) {
      case RUN:
        requireMethod(ex, "POST");
        submit(ex, bodyBytes, false);
        break;
      case RUNSYNC:
        requireMethod(ex, "POST");
        submit(ex, bodyBytes, true);
        break;
      case STATUS:
        statusOf(ex, id, Duration.ZERO);
        break;
      case STATUS_SYNC:
        statusOf(ex, id, waitParam(uri, Duration.ofSeconds(90)));
        break;
      case STREAM:
        streamOf(ex, id);
        break;
      case CANCEL:
        requireMethod(ex, "POST");
        cancel(ex, id);
        break;
      case RETRY:
        requireMethod(ex, "POST");
        retry(ex, id);
        break;
      case PURGE_QUEUE:
        requireMethod(ex, "POST");
        purge(ex);
        break;
      case HEALTH:
        health(ex);
        break;
      case OPENAI:
        openAi(ex, uri.getPath().substring(uri.getPath().indexOf("/openai/") + "/openai".length()), bodyBytes);
        break;
      default:
        send(ex, 404, error("route not found"));
    }
  }

  private static void requireMethod(HttpExchange ex, String method) {
    if (!ex.getRequestMethod().equals(method)) {
      throw new MethodNotAllowed();
    }
  }

  private static final class MethodNotAllowed extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }

  private static Operation operation(String segment) {
    switch (segment) {
      case "run": return Operation.RUN;
      case "runsync": return Operation.RUNSYNC;
      case "status": return Operation.STATUS;
      case "status-sync": return Operation.STATUS_SYNC;
      case "stream": return Operation.STREAM;
      case "cancel": return Operation.CANCEL;
      case "retry": return Operation.RETRY;
      case "purge-queue": return Operation.PURGE_QUEUE;
      case "health": return Operation.HEALTH;
      case "openai": return Operation.OPENAI;
      default: return null;
    }
  }

  private Fault nextFault(Operation op) {
    synchronized (faults) {
      Fault f = faults.get(op).poll();
      return f != null ? f : faults.get(Operation.ANY).poll();
    }
  }

  private void inject(HttpExchange ex, Fault fault, String auth) throws IOException {
    if (fault.isDrop()) {
      // Closing an exchange before sending headers makes the JDK server close the socket: the client sees EOF.
      return;
    }
    fault.retryAfter().ifPresent(d -> ex.getResponseHeaders().set("Retry-After",
        Long.toString(Math.max(0, (d.toMillis() + 999) / 1000))));
    String body = fault.body().orElse("");
    if (fault.echoesAuthorization()) {
      body = Json.write(Json.object().put("error", "rejected request with Authorization: " + auth));
    }
    send(ex, fault.statusCode(), body);
  }

  private boolean authorized(String auth) {
    return auth != null && (auth.equals("Bearer " + apiKey) || auth.equals(apiKey));
  }

  private static byte[] readBody(InputStream in) throws IOException {
    return in.readAllBytes();
  }

  private static Duration waitParam(URI uri, Duration dflt) {
    String q = uri.getQuery();
    if (q != null) {
      for (String kv : q.split("&")) {
        if (kv.startsWith("wait=")) {
          try {
            long ms = Long.parseLong(kv.substring(5));
            return Duration.ofMillis(Math.max(1000, Math.min(300_000, ms)));
          } catch (NumberFormatException e) {
            return dflt;
          }
        }
      }
    }
    return dflt;
  }

  private static void send(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  private static String error(String message) {
    return Json.write(Json.object().put("error", message));
  }

  // ------------------------------------------------------------------------------------------ operations

  private void submit(HttpExchange ex, byte[] body, boolean sync) throws IOException {
    long limit = sync ? maxRunSyncPayload : maxRunPayload;
    if (body.length > limit) {
      send(ex, 400, error("payload too large: " + body.length + " bytes, limit " + limit));
      return;
    }
    JsonNode root;
    try {
      root = Json.mapper().readTree(body);
    } catch (JsonProcessingException e) {
      send(ex, 400, error("invalid JSON body"));
      return;
    }
    if (root == null || !root.path("input").isObject()) {
      send(ex, 400, error("input is required"));
      return;
    }
    JsonNode policy = root.path("policy");
    Duration execTimeout = policy.path("executionTimeout").isNumber()
        ? Duration.ofMillis(policy.get("executionTimeout").asLong()) : defaultExecutionTimeout;
    Duration ttl = policy.path("ttl").isNumber() ? Duration.ofMillis(policy.get("ttl").asLong()) : Duration.ofHours(24);
    String id = (sync ? "sync-" : "") + UUID.randomUUID();
    FakeJob job = new FakeJob(id, root.get("input"), sync, execTimeout, ttl,
        root.path("webhook").isTextual() ? root.get("webhook").asText() : null, this::finished);
    jobs.put(id, job);
    enqueue(job);
    if (!sync) {
      send(ex, 200, Json.write(Json.object().put("id", id).put("status", "IN_QUEUE")));
      return;
    }
    Duration wait = waitParam(ex.getRequestURI(), Duration.ofSeconds(90));
    if (maxRunSyncWait != null && wait.compareTo(maxRunSyncWait) > 0) {
      wait = maxRunSyncWait;
    }
    waitTerminal(job, wait);
    send(ex, 200, Json.write(job.toJson()));
  }

  private void enqueue(FakeJob job) {
    scheduler.schedule(() -> {
      try {
        workers.execute(() -> execute(job));
      } catch (java.util.concurrent.RejectedExecutionException e) {
        LOG.debug("fake endpoint closed before job {} started", job.id);
      }
    }, queueDelay.toNanos(), TimeUnit.NANOSECONDS);
  }

  private static void waitTerminal(FakeJob job, Duration wait) {
    long end = System.nanoTime() + wait.toNanos();
    synchronized (job) {
      while (!job.status.isTerminal()) {
        long left = end - System.nanoTime();
        if (left <= 0) {
          return;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(job, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /** Finds a live job, applying TTL and retention expiry like RunPod (expired jobs answer 404). */
  private FakeJob live(String id) {
    if (id == null) {
      return null;
    }
    FakeJob job = jobs.get(id);
    if (job == null) {
      return null;
    }
    synchronized (job) {
      long now = System.nanoTime();
      boolean ttlGone = now - job.submittedNanos > job.ttl.toNanos();
      boolean retentionGone = job.status.isTerminal()
          && now - job.finishedNanos > (job.sync ? syncRetention : runRetention).toNanos();
      if (ttlGone || retentionGone) {
        jobs.remove(id);
        if (!job.status.isTerminal()) {
          job.finish(JobStatus.CANCELLED);
          if (job.thread != null) {
            job.thread.interrupt();
          }
        }
        return null;
      }
    }
    return job;
  }

  private void statusOf(HttpExchange ex, String id, Duration wait) throws IOException {
    FakeJob job = live(id);
    if (job == null) {
      send(ex, 404, error("job " + id + " not found"));
      return;
    }
    if (!wait.isZero()) {
      waitTerminal(job, maxRunSyncWait != null && wait.compareTo(maxRunSyncWait) > 0 ? maxRunSyncWait : wait);
    }
    send(ex, 200, Json.write(job.toJson()));
  }

  private void streamOf(HttpExchange ex, String id) throws IOException {
    FakeJob job = live(id);
    if (job == null) {
      send(ex, 404, error("job " + id + " not found"));
      return;
    }
    ObjectNode out = Json.object();
    synchronized (job) {
      out.put("id", job.id);
      out.put("status", job.status.name());
      if (job.startedNanos != 0) {
        out.put("delayTime", (job.startedNanos - job.submittedNanos) / 1_000_000);
      }
      ArrayNode stream = out.putArray("stream");
      for (int i = job.streamRead; i < job.stream.size(); i++) {
        stream.addObject().set("output", job.stream.get(i));
      }
      job.streamRead = job.stream.size();
      if (job.error != null) {
        out.put("error", job.error);
      }
    }
    send(ex, 200, Json.write(out));
  }

  /**
   * The {@code /openai/v1/*} route: like RunPod, the call becomes a job with input
   * {@code {"openai_route": "/v1/...", "openai_input": body}}. Non-streaming calls answer the job output as plain
   * OpenAI JSON (a one-element aggregated list is unwrapped); {@code "stream": true} calls answer SSE, writing each
   * emitted chunk as it arrives (strings verbatim as SSE text, objects as {@code data:} events) and ending with
   * {@code data: [DONE]}.
   */
  private void openAi(HttpExchange ex, String route, byte[] bodyBytes) throws IOException {
    JsonNode body;
    try {
      body = bodyBytes.length == 0 ? Json.object() : Json.mapper().readTree(bodyBytes);
    } catch (JsonProcessingException e) {
      send(ex, 400, Json.write(openAiError("invalid JSON body", "invalid_request_error")));
      return;
    }
    ObjectNode input = Json.object();
    input.put("openai_route", route);
    input.set("openai_input", body == null ? Json.object() : body);
    FakeJob job = new FakeJob(UUID.randomUUID().toString(), input, false, defaultExecutionTimeout, Duration.ofHours(24),
        null, this::finished);
    jobs.put(job.id, job);
    enqueue(job);
    boolean stream = body != null && body.path("stream").asBoolean(false);
    if (!stream) {
      waitTerminal(job, defaultExecutionTimeout);
      synchronized (job) {
        if (job.status != JobStatus.COMPLETED) {
          send(ex, 500, Json.write(openAiError(job.error != null ? job.error : "job " + job.status, "api_error")));
          return;
        }
        JsonNode out = job.output;
        if (out != null && out.isArray() && out.size() == 1) {
          out = out.get(0);
        }
        send(ex, 200, Json.write(out == null ? Json.object() : out));
      }
      return;
    }
    ex.getResponseHeaders().set("Content-Type", "text/event-stream");
    ex.sendResponseHeaders(200, 0);
    OutputStream out = ex.getResponseBody();
    int next = 0;
    boolean sawDone = false;
    long end = System.nanoTime() + defaultExecutionTimeout.toNanos();
    while (true) {
      List<JsonNode> fresh;
      boolean over;
      synchronized (job) {
        while (job.stream.size() == next && !job.status.isTerminal() && System.nanoTime() < end) {
          try {
            TimeUnit.NANOSECONDS.timedWait(job, Math.max(1, end - System.nanoTime()));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
        fresh = new ArrayList<>(job.stream.subList(next, job.stream.size()));
        next = job.stream.size();
        over = job.status.isTerminal() || System.nanoTime() >= end;
        if (over && job.status == JobStatus.FAILED) {
          fresh.add(Json.object().set("error", openAiError(job.error, "api_error").get("error")));
        }
      }
      for (JsonNode chunk : fresh) {
        String text = chunk.isTextual() ? chunk.asText() : "data: " + Json.write(chunk) + "\n\n";
        sawDone |= text.contains("data: [DONE]");
        out.write(text.getBytes(StandardCharsets.UTF_8));
      }
      out.flush();
      if (over) {
        break;
      }
    }
    if (!sawDone) {
      out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
    }
    out.flush();
  }

  private static ObjectNode openAiError(String message, String type) {
    ObjectNode root = Json.object();
    root.putObject("error").put("message", message).put("type", type).putNull("param").putNull("code");
    return root;
  }

  private void cancel(HttpExchange ex, String id) throws IOException {
    FakeJob job = live(id);
    if (job == null) {
      send(ex, 404, error("job " + id + " not found"));
      return;
    }
    synchronized (job) {
      if (!job.status.isTerminal()) {
        job.finish(JobStatus.CANCELLED);
        if (job.thread != null) {
          job.thread.interrupt();
        }
      }
    }
    send(ex, 200, Json.write(Json.object().put("id", job.id).put("status", job.statusName())));
  }

  private void retry(HttpExchange ex, String id) throws IOException {
    FakeJob job = live(id);
    if (job == null) {
      send(ex, 404, error("job " + id + " not found"));
      return;
    }
    synchronized (job) {
      if (job.status != JobStatus.FAILED && job.status != JobStatus.TIMED_OUT) {
        send(ex, 400, error("job " + id + " is " + job.status + "; only FAILED or TIMED_OUT jobs can be retried"));
        return;
      }
      job.reset();
    }
    retriedCount.incrementAndGet();
    enqueue(job);
    send(ex, 200, Json.write(Json.object().put("id", job.id).put("status", "IN_QUEUE")));
  }

  private void purge(HttpExchange ex) throws IOException {
    int removed = 0;
    for (FakeJob job : List.copyOf(jobs.values())) {
      synchronized (job) {
        if (job.status == JobStatus.IN_QUEUE) {
          job.finish(JobStatus.CANCELLED);
          jobs.remove(job.id);
          removed++;
        }
      }
    }
    send(ex, 200, Json.write(Json.object().put("removed", removed).put("status", "completed")));
  }

  private void health(HttpExchange ex) throws IOException {
    int inQueue = 0;
    int inProgress = 0;
    for (FakeJob job : jobs.values()) {
      synchronized (job) {
        if (job.status == JobStatus.IN_QUEUE) {
          inQueue++;
        } else if (job.status == JobStatus.IN_PROGRESS) {
          inProgress++;
        }
      }
    }
    ObjectNode out = Json.object();
    out.putObject("jobs").put("completed", completedCount.get()).put("failed", failedCount.get())
        .put("inProgress", inProgress).put("inQueue", inQueue).put("retried", retriedCount.get());
    int busy = running.get();
    out.putObject("workers").put("idle", Math.max(0, workerCount - busy)).put("running", busy);
    send(ex, 200, Json.write(out));
  }

  // ------------------------------------------------------------------------------------------ worker

  private void execute(FakeJob job) {
    synchronized (job) {
      if (job.status != JobStatus.IN_QUEUE) {
        return;
      }
      job.status = JobStatus.IN_PROGRESS;
      job.startedNanos = System.nanoTime();
      job.thread = Thread.currentThread();
      job.workerId = "fake-worker-" + Thread.currentThread().getName().replaceAll("\\D", "");
      long generation = job.generation;
      scheduler.schedule(() -> timeOut(job, generation), job.executionTimeout.toNanos(), TimeUnit.NANOSECONDS);
    }
    running.incrementAndGet();
    JsonNode returned = null;
    Exception failure = null;
    try {
      returned = handler.handle(new Context(job));
    } catch (Exception e) {
      failure = e;
    } finally {
      running.decrementAndGet();
      synchronized (job) {
        job.thread = null;
      }
      // Clear an interrupt from cancel/timeout so the pooled worker thread is clean for the next job.
      Thread.interrupted();
    }
    synchronized (job) {
      if (job.status != JobStatus.IN_PROGRESS) {
        return; // cancelled, timed out or expired while running: the result is discarded, as on RunPod
      }
      if (failure != null) {
        job.error = runpodPythonError(failure, job.workerId);
        job.finish(JobStatus.FAILED);
        failedCount.incrementAndGet();
        return;
      }
      if (returned != null && returned.isObject() && returned.path("error").isTextual()) {
        ObjectNode rest = ((ObjectNode) returned).deepCopy();
        job.error = rest.remove("error").asText();
        job.output = rest.isEmpty() ? null : rest;
        job.finish(JobStatus.FAILED);
        failedCount.incrementAndGet();
        return;
      }
      if (returned == null || !job.stream.isEmpty()) {
        ArrayNode list = Json.mapper().createArrayNode();
        if (aggregateStream) {
          job.stream.forEach(list::add);
        }
        job.output = list;
      } else {
        job.output = returned;
      }
      job.finish(JobStatus.COMPLETED);
      completedCount.incrementAndGet();
    }
  }

  /** Called with the job's lock held when it reaches a terminal state: schedules the webhook, like RunPod. */
  private void finished(FakeJob job) {
    if (job.webhook == null || closed.get()) {
      return;
    }
    String body = Json.write(job.toJson());
    deliverWebhook(job.id, job.webhook, body, 1);
  }

  private void deliverWebhook(String id, String url, String body, int attempt) {
    Runnable send = () -> {
      int code;
      try {
        java.net.http.HttpResponse<Void> r = webhookClient.send(java.net.http.HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body))
                .build(),
            java.net.http.HttpResponse.BodyHandlers.discarding());
        code = r.statusCode();
      } catch (IOException e) {
        code = 0;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (code == 200) {
        webhookDeliveries.incrementAndGet();
      } else if (attempt < 3 && !closed.get()) {
        // RunPod retries a webhook that does not answer 200 up to two more times.
        LOG.debug("webhook for job {} answered {}; retry {}", id, code, attempt);
        deliverWebhookLater(id, url, body, attempt + 1);
      } else {
        LOG.debug("webhook for job {} gave up after {} attempts", id, attempt);
      }
    };
    try {
      httpThreads.execute(send);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      LOG.debug("fake endpoint closed before the webhook of job {} was sent", id);
    }
  }

  private void deliverWebhookLater(String id, String url, String body, int attempt) {
    try {
      scheduler.schedule(() -> deliverWebhook(id, url, body, attempt), webhookRetryDelay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      LOG.debug("fake endpoint closed before the webhook retry of job {}", id);
    }
  }

  /** How many webhook POSTs were answered with 200. */
  public int webhookDeliveries() {
    return webhookDeliveries.get();
  }

  private void timeOut(FakeJob job, long generation) {
    synchronized (job) {
      if (job.generation == generation && job.status == JobStatus.IN_PROGRESS) {
        job.finish(JobStatus.TIMED_OUT);
        if (job.thread != null) {
          job.thread.interrupt();
        }
      }
    }
  }

  private static String runpodPythonError(Exception e, String workerId) {
    StringWriter trace = new StringWriter();
    e.printStackTrace(new PrintWriter(trace));
    ObjectNode err = Json.object();
    err.put("error_type", "<class '" + e.getClass().getSimpleName() + "'>");
    err.put("error_message", String.valueOf(e.getMessage()));
    err.put("error_traceback", trace.toString());
    err.put("hostname", "fake-runpod");
    err.put("worker_id", workerId);
    err.put("runpod_version", "fake");
    return Json.write(err);
  }

  private final class Context implements JobContext {
    private final FakeJob job;
    private final JsonNode input;

    Context(FakeJob job) {
      this.job = job;
      this.input = job.input.deepCopy();
    }

    @Override
    public String id() {
      return job.id;
    }

    @Override
    public JsonNode input() {
      return input;
    }

    @Override
    public void emit(JsonNode chunk) {
      synchronized (job) {
        if (job.status == JobStatus.IN_PROGRESS) {
          job.stream.add(chunk);
          job.notifyAll();
        }
      }
    }

    @Override
    public void progress(JsonNode update) {
      synchronized (job) {
        if (job.status == JobStatus.IN_PROGRESS) {
          job.output = update;
        }
      }
    }

    @Override
    public boolean isCancelled() {
      synchronized (job) {
        return job.status != JobStatus.IN_PROGRESS;
      }
    }

    @Override
    public void sleep(Duration duration) throws InterruptedException {
      if (isCancelled()) {
        throw new InterruptedException("job " + job.id + " is no longer running");
      }
      Thread.sleep(duration.toMillis());
    }
  }

  /** Mutable job record; every access holds its monitor. */
  private static final class FakeJob {
    final String id;
    final JsonNode input;
    final boolean sync;
    final Duration executionTimeout;
    final Duration ttl;
    final String webhook;
    final java.util.function.Consumer<FakeJob> onFinish;
    final long submittedNanos = System.nanoTime();
    JobStatus status = JobStatus.IN_QUEUE;
    JsonNode output;
    String error;
    String workerId;
    final List<JsonNode> stream = new ArrayList<>();
    int streamRead;
    long startedNanos;
    long finishedNanos;
    long generation;
    Thread thread;

    FakeJob(String id, JsonNode input, boolean sync, Duration executionTimeout, Duration ttl, String webhook,
        java.util.function.Consumer<FakeJob> onFinish) {
      this.id = id;
      this.input = input;
      this.sync = sync;
      this.executionTimeout = executionTimeout;
      this.ttl = ttl;
      this.webhook = webhook;
      this.onFinish = onFinish;
    }

    void finish(JobStatus terminal) {
      status = terminal;
      finishedNanos = System.nanoTime();
      notifyAll();
      onFinish.accept(this);
    }

    void reset() {
      status = JobStatus.IN_QUEUE;
      output = null;
      error = null;
      stream.clear();
      streamRead = 0;
      startedNanos = 0;
      finishedNanos = 0;
      generation++;
    }

    String statusName() {
      return status.name();
    }

    ObjectNode toJson() {
      ObjectNode n = Json.object();
      long now = System.nanoTime();
      if (startedNanos != 0) {
        n.put("delayTime", (startedNanos - submittedNanos) / 1_000_000);
        n.put("executionTime", ((finishedNanos != 0 ? finishedNanos : now) - startedNanos) / 1_000_000);
      }
      n.put("id", id);
      if (output != null) {
        n.set("output", output);
      }
      if (error != null) {
        n.put("error", error);
      }
      n.put("status", status.name());
      if (workerId != null) {
        n.put("workerId", workerId);
      }
      return n;
    }
  }

  /** Stops the server and the worker threads (running handlers are interrupted). Idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      server.stop(0);
      scheduler.shutdownNow();
      workers.shutdownNow();
      httpThreads.shutdownNow();
    }
  }

  @Override
  public String toString() {
    return "FakeRunPodEndpoint{" + baseUrl() + "/" + endpointId + ", jobs=" + jobs.size() + "}";
  }

  /** Configures a {@link FakeRunPodEndpoint}; every delay defaults to something short enough for unit tests. */
  public static final class Builder {
    private String endpointId = "fake-endpoint";
    private String apiKey = "fake-runpod-key";
    private int port;
    private int workers = 8;
    private Duration queueDelay = Duration.ofMillis(20);
    private Duration executionTimeout = Duration.ofMinutes(10);
    private Duration runRetention = Duration.ofMinutes(30);
    private Duration syncRetention = Duration.ofMinutes(1);
    private Duration maxRunSyncWait;
    private boolean returnAggregateStream = true;
    private Duration webhookRetryDelay = Duration.ofSeconds(10);
    private long maxRunPayload = 10L * 1024 * 1024;
    private long maxRunSyncPayload = 20L * 1024 * 1024;
    private JobHandler handler = job -> Json.object().put("response", "echo: " + job.input().path("prompt").asText(""))
        .put("model", job.input().path("model").asText("fake-model"));

    private Builder() {}

    public Builder endpointId(String v) {
      this.endpointId = Objects.requireNonNull(v);
      return this;
    }

    /** The key clients must send. */
    public Builder apiKey(String v) {
      this.apiKey = Objects.requireNonNull(v);
      return this;
    }

    /** Loopback port; 0 (default) picks a free one. */
    public Builder port(int v) {
      this.port = v;
      return this;
    }

    /** Concurrent jobs (workers); further jobs wait IN_QUEUE. */
    public Builder workers(int v) {
      if (v < 1) {
        throw new IllegalArgumentException("workers must be >= 1");
      }
      this.workers = v;
      return this;
    }

    /** Minimum time a job stays IN_QUEUE (a cold start); lands in {@code delayTime}. */
    public Builder queueDelay(Duration v) {
      this.queueDelay = Objects.requireNonNull(v);
      return this;
    }

    /** Endpoint execution timeout unless a job sets {@code policy.executionTimeout}; past it the job is TIMED_OUT. */
    public Builder executionTimeout(Duration v) {
      this.executionTimeout = Objects.requireNonNull(v);
      return this;
    }

    /** How long {@code /run} results stay readable (RunPod: 30 min). */
    public Builder runRetention(Duration v) {
      this.runRetention = Objects.requireNonNull(v);
      return this;
    }

    /** How long {@code /runsync} results stay readable (RunPod: 1 min). */
    public Builder syncRetention(Duration v) {
      this.syncRetention = Objects.requireNonNull(v);
      return this;
    }

    /** Caps the {@code /runsync} and {@code /status-sync} wait, so tests see the "wait ran out" reply quickly. */
    public Builder maxRunSyncWait(Duration v) {
      this.maxRunSyncWait = v;
      return this;
    }

    /** Like {@code return_aggregate_stream}: generator outputs are also returned as a list by status/runsync. */
    public Builder returnAggregateStream(boolean v) {
      this.returnAggregateStream = v;
      return this;
    }

    /** Body size limits of {@code /run} and {@code /runsync} (RunPod: 10 MB and 20 MB); larger bodies get 400. */
    public Builder payloadLimits(long run, long runSync) {
      this.maxRunPayload = run;
      this.maxRunSyncPayload = runSync;
      return this;
    }

    /** Delay between webhook attempts (RunPod: 10 s, up to 3 attempts). */
    public Builder webhookRetryDelay(Duration v) {
      this.webhookRetryDelay = Objects.requireNonNull(v);
      return this;
    }

    public Builder handler(JobHandler v) {
      this.handler = Objects.requireNonNull(v);
      return this;
    }

    public FakeRunPodEndpoint build() {
      return new FakeRunPodEndpoint(this);
    }
  }
}
