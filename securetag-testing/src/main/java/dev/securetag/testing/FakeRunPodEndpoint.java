package dev.securetag.testing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.securetag.core.internal.DaemonThreads;
import dev.securetag.core.internal.JdkHttpServers;
import dev.securetag.core.internal.Json;
import dev.securetag.testing.internal.Exchanges;
import dev.securetag.testing.internal.FakeJob;
import dev.securetag.testing.internal.JobQueue;
import dev.securetag.testing.internal.OpenAiRoute;
import dev.securetag.testing.internal.WebhookSender;
import java.io.IOException;
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
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
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
 * faults (429 with Retry-After, 5xx, dropped connections). It speaks the wire protocol with securetag-core's JSON only
 * (no securetag client inside), so any module's tests can run a real client against it.
 *
 * <p>This class routes requests, records them and injects faults; the job state machine, webhook delivery and the
 * OpenAI route live in {@code dev.securetag.testing.internal}.
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
  private final Duration maxRunSyncWait;
  private final long maxRunPayload;
  private final long maxRunSyncPayload;
  private volatile JobHandler handler;

  private final HttpServer server;
  private final ExecutorService httpThreads;
  private final ScheduledExecutorService scheduler;
  private final JobQueue jobs;
  private final WebhookSender webhooks;
  private final OpenAiRoute openAi;
  private final Map<Operation, Deque<Fault>> faults = new EnumMap<>(Operation.class);
  private final Map<Operation, AtomicInteger> counts = new EnumMap<>(Operation.class);
  private final List<RecordedRequest> recorded = Collections.synchronizedList(new ArrayList<>());
  private final AtomicBoolean closed = new AtomicBoolean();

  private FakeRunPodEndpoint(Builder b) {
    this.endpointId = b.endpointId;
    this.apiKey = b.apiKey;
    this.maxRunSyncWait = b.maxRunSyncWait;
    this.maxRunPayload = b.maxRunPayload;
    this.maxRunSyncPayload = b.maxRunSyncPayload;
    this.handler = b.handler;
    for (Operation op : Operation.values()) {
      faults.put(op, new ArrayDeque<>());
      counts.put(op, new AtomicInteger());
    }
    this.httpThreads = DaemonThreads.cachedPool("fake-runpod-http");
    this.scheduler = DaemonThreads.scheduler("fake-runpod-timer");
    this.webhooks = new WebhookSender(httpThreads, scheduler, b.webhookRetryDelay, closed::get);
    this.jobs = new JobQueue(new JobQueue.Settings(b.queueDelay, b.executionTimeout, b.runRetention, b.syncRetention,
        b.returnAggregateStream, b.workers), () -> handler, scheduler, this::finished);
    this.openAi = new OpenAiRoute(jobs, b.executionTimeout);
    try {
      JdkHttpServers.enableNoDelay();
      this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), b.port), 128);
    } catch (IOException e) {
      jobs.close();
      scheduler.shutdownNow();
      httpThreads.shutdownNow();
      throw new IllegalStateException("cannot bind fake RunPod endpoint on loopback port " + b.port, e);
    }
    server.createContext("/", this::handle);
    server.setExecutor(httpThreads);
    server.start();
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

  /** A job's current state, or empty if unknown or expired. */
  public Optional<JobState> jobStatus(String id) {
    return jobs.state(id);
  }

  /** How many webhook POSTs were answered with 200. */
  public int webhookDeliveries() {
    return webhooks.delivered();
  }

  // ------------------------------------------------------------------------------------------ HTTP

  private void handle(HttpExchange ex) throws IOException {
    try {
      route(ex);
    } catch (MethodNotAllowed e) {
      Exchanges.send(ex, 405, Exchanges.error("method not allowed"));
    } catch (RuntimeException e) {
      LOG.warn("fake RunPod endpoint failed on {} {}", ex.getRequestMethod(), ex.getRequestURI(), e);
      Exchanges.send(ex, 500, Exchanges.error("internal fake error: " + e.getClass().getSimpleName()));
    } finally {
      ex.close();
    }
  }

  private void route(HttpExchange ex) throws IOException {
    String method = ex.getRequestMethod();
    URI uri = ex.getRequestURI();
    String[] parts = uri.getPath().split("/");
    // parts: "", "v2", endpointId, op, [id]
    byte[] bodyBytes = ex.getRequestBody().readAllBytes();
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    if (parts.length < 4 || !parts[1].equals("v2")) {
      Exchanges.send(ex, 404, Exchanges.error("not found"));
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
      Exchanges.send(ex, 401, Exchanges.error("Unauthorized"));
      return;
    }
    if (!parts[2].equals(endpointId) || op == null) {
      Exchanges.send(ex, 404, Exchanges.error("endpoint or route not found"));
      return;
    }
    String id = parts.length > 4 ? parts[4] : null;
    switch (op) {
      case RUN -> {
        requireMethod(ex, "POST");
        submit(ex, bodyBytes, false);
      }
      case RUNSYNC -> {
        requireMethod(ex, "POST");
        submit(ex, bodyBytes, true);
      }
      case STATUS -> statusOf(ex, id, Duration.ZERO);
      case STATUS_SYNC -> statusOf(ex, id, Exchanges.waitParam(uri, Duration.ofSeconds(90)));
      case STREAM -> {
        FakeJob job = jobs.live(id);
        if (job == null) {
          Exchanges.send(ex, 404, Exchanges.error("job " + id + " not found"));
        } else {
          Exchanges.send(ex, 200, Json.write(jobs.readStream(job)));
        }
      }
      case CANCEL -> {
        requireMethod(ex, "POST");
        FakeJob job = jobs.live(id);
        if (job == null) {
          Exchanges.send(ex, 404, Exchanges.error("job " + id + " not found"));
          return;
        }
        jobs.cancel(job);
        Exchanges.send(ex, 200, Json.write(Json.object().put("id", job.id()).put("status", job.state().name())));
      }
      case RETRY -> {
        requireMethod(ex, "POST");
        FakeJob job = jobs.live(id);
        if (job == null) {
          Exchanges.send(ex, 404, Exchanges.error("job " + id + " not found"));
        } else if (!jobs.retry(job)) {
          Exchanges.send(ex, 400, Exchanges.error("job " + id + " is " + job.state()
              + "; only FAILED or TIMED_OUT jobs can be retried"));
        } else {
          Exchanges.send(ex, 200, Json.write(Json.object().put("id", job.id()).put("status", "IN_QUEUE")));
        }
      }
      case PURGE_QUEUE -> {
        requireMethod(ex, "POST");
        Exchanges.send(ex, 200, Json.write(Json.object().put("removed", jobs.purge()).put("status", "completed")));
      }
      case HEALTH -> Exchanges.send(ex, 200, Json.write(jobs.health()));
      case OPENAI -> openAi.handle(ex, uri.getPath().substring(uri.getPath().indexOf("/openai/") + "/openai".length()),
          bodyBytes);
      default -> Exchanges.send(ex, 404, Exchanges.error("route not found"));
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
    Exchanges.send(ex, fault.statusCode(), body);
  }

  private boolean authorized(String auth) {
    return auth != null && (auth.equals("Bearer " + apiKey) || auth.equals(apiKey));
  }

  private void submit(HttpExchange ex, byte[] body, boolean sync) throws IOException {
    long limit = sync ? maxRunSyncPayload : maxRunPayload;
    if (body.length > limit) {
      Exchanges.send(ex, 400, Exchanges.error("payload too large: " + body.length + " bytes, limit " + limit));
      return;
    }
    JsonNode root;
    try {
      root = Json.mapper().readTree(body);
    } catch (JsonProcessingException e) {
      Exchanges.send(ex, 400, Exchanges.error("invalid JSON body"));
      return;
    }
    if (root == null || !root.path("input").isObject()) {
      Exchanges.send(ex, 400, Exchanges.error("input is required"));
      return;
    }
    FakeJob job = jobs.submit(root, sync);
    if (!sync) {
      Exchanges.send(ex, 200, Json.write(Json.object().put("id", job.id()).put("status", "IN_QUEUE")));
      return;
    }
    JobQueue.waitTerminal(job, capWait(Exchanges.waitParam(ex.getRequestURI(), Duration.ofSeconds(90))));
    Exchanges.send(ex, 200, Json.write(job.toJson()));
  }

  private Duration capWait(Duration wait) {
    return maxRunSyncWait != null && wait.compareTo(maxRunSyncWait) > 0 ? maxRunSyncWait : wait;
  }

  private void statusOf(HttpExchange ex, String id, Duration wait) throws IOException {
    FakeJob job = jobs.live(id);
    if (job == null) {
      Exchanges.send(ex, 404, Exchanges.error("job " + id + " not found"));
      return;
    }
    if (!wait.isZero()) {
      JobQueue.waitTerminal(job, capWait(wait));
    }
    Exchanges.send(ex, 200, Json.write(job.toJson()));
  }

  /** Called with the job's lock held when it reaches a terminal state: schedules the webhook, like RunPod. */
  private void finished(FakeJob job) {
    if (job.webhook() == null || closed.get()) {
      return;
    }
    webhooks.deliver(job.id(), job.webhook(), Json.write(job.toJson()));
  }

  /** Stops the server and the worker threads (running handlers are interrupted). Idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      server.stop(0);
      scheduler.shutdownNow();
      jobs.close();
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
      this.endpointId = v;
      return this;
    }

    /** The key clients must send. */
    public Builder apiKey(String v) {
      this.apiKey = v;
      return this;
    }

    /** Loopback port; 0 (default) picks a free one. */
    public Builder port(int v) {
      this.port = v;
      return this;
    }

    /** Concurrent jobs (workers); further jobs wait IN_QUEUE. */
    public Builder workers(int v) {
      this.workers = v;
      return this;
    }

    /** Minimum time a job stays IN_QUEUE (a cold start); lands in {@code delayTime}. */
    public Builder queueDelay(Duration v) {
      this.queueDelay = v;
      return this;
    }

    /** Endpoint execution timeout unless a job sets {@code policy.executionTimeout}; past it the job is TIMED_OUT. */
    public Builder executionTimeout(Duration v) {
      this.executionTimeout = v;
      return this;
    }

    /** How long {@code /run} results stay readable (RunPod: 30 min). */
    public Builder runRetention(Duration v) {
      this.runRetention = v;
      return this;
    }

    /** How long {@code /runsync} results stay readable (RunPod: 1 min). */
    public Builder syncRetention(Duration v) {
      this.syncRetention = v;
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
      this.webhookRetryDelay = v;
      return this;
    }

    public Builder handler(JobHandler v) {
      this.handler = v;
      return this;
    }

    /**
     * Binds and starts the endpoint.
     *
     * @throws IllegalArgumentException naming the setting when one is out of range
     */
    public FakeRunPodEndpoint build() {
      if (workers < 1) {
        throw new IllegalArgumentException("FakeRunPodEndpoint.workers must be >= 1, was " + workers);
      }
      if (endpointId == null || apiKey == null || handler == null || queueDelay == null || executionTimeout == null
          || runRetention == null || syncRetention == null || webhookRetryDelay == null) {
        throw new IllegalArgumentException("FakeRunPodEndpoint settings must not be null");
      }
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("FakeRunPodEndpoint.port out of range: " + port);
      }
      if (maxRunPayload < 1 || maxRunSyncPayload < 1) {
        throw new IllegalArgumentException("FakeRunPodEndpoint.payloadLimits must be positive");
      }
      return new FakeRunPodEndpoint(this);
    }
  }
}
