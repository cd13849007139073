package dev.securetag.runpod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.core.RetryPolicy;
import dev.securetag.core.internal.DaemonThreads;
import dev.securetag.core.internal.Json;
import dev.securetag.runpod.internal.Deadline;
import dev.securetag.runpod.internal.HttpSupport;
import dev.securetag.runpod.internal.Secret;
import dev.securetag.runpod.internal.Sleeper;
import dev.securetag.runpod.internal.Transport;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Flow;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client for one RunPod Serverless queue endpoint ({@code https://api.runpod.ai/v2/{endpointId}}): submit jobs,
 * wait for them (surviving {@code /runsync} replies that come back unfinished), read partial output from
 * {@code /stream}, cancel, retry, purge the queue and check health. Calls are retried with jittered exponential
 * backoff on connection failures, 429 (honouring Retry-After) and 5xx. Every API call, retries included, is bounded
 * by {@link Timeouts#call()} (30 s by default) and every job operation ({@code runSync}, {@code runAsync},
 * {@code stream}) by {@link Timeouts#deadline()}, so a server that accepts and never answers fails in bounded time
 * with a TIMEOUT {@link RunPodException}.
 *
 * <pre>{@code
 * try (RunPodClient runpod = RunPodClient.builder()
 *     .endpointId("abc123")
 *     .apiKey(System.getenv("RUNPOD_API_KEY"))
 *     .build()) {
 *   ObjectNode input = Json.object().put("prompt", "What is ISO 27001 A.5.1?").put("model", "securetag");
 *   JobResult done = runpod.runSync(JobRequest.of(input), Duration.ofSeconds(60)).requireCompleted();
 *   System.out.println(done.outputText());
 * }
 * }</pre>
 *
 * <p>Thread-safe. The API key is sent as {@code Authorization: Bearer ...} and never appears in logs, exception
 * messages or {@link #toString()}.
 */
public final class RunPodClient implements AutoCloseable {
  /** The public job API base; management APIs live on {@code api.runpod.io}, not here. */
  public static final String DEFAULT_BASE_URL = "https://api.runpod.ai/v2";
  /** RunPod's default {@code /runsync} wait. */
  public static final Duration DEFAULT_RUNSYNC_WAIT = Duration.ofSeconds(90);

  private static final Logger LOG = LoggerFactory.getLogger(RunPodClient.class);

  private final String endpointId;
  private final HttpUrl endpointUrl;
  private final Secret apiKey;
  private final Timeouts timeouts;
  private final RetryPolicy retry;
  private final PollPolicy poll;
  private final RateLimits rateLimits;
  private final OkHttpClient http;
  private final boolean ownsHttp;
  private final Transport transport;
  private final ExecutorService executor;
  private final AtomicBoolean closed = new AtomicBoolean();

  private RunPodClient(Builder b) {
    this.endpointId = b.endpointId;
    HttpUrl base = HttpUrl.parse(b.baseUrl);
    if (base == null) {
      throw new IllegalArgumentException("RunPodClient.baseUrl is not an http(s) URL: " + b.baseUrl);
    }
    this.endpointUrl = base.newBuilder().addPathSegment(endpointId).build();
    this.apiKey = new Secret(b.apiKey);
    this.timeouts = b.timeouts;
    this.retry = b.retry;
    this.poll = b.poll;
    this.rateLimits = b.rateLimits;
    this.http = HttpSupport.withBearer(HttpSupport.derive(b.httpClient, timeouts.connect(), timeouts.read()), apiKey);
    this.ownsHttp = b.httpClient == null;
    this.transport = new Transport(http, retry, apiKey, "RunPod",
        (kind, status, msg, ra, cause, jobId) -> new RunPodException(kind, status, msg, ra, cause, jobId, null));
    this.executor = DaemonThreads.cachedPool("runpod-" + endpointId);
  }

  public static Builder builder() {
    return new Builder();
  }

  public String endpointId() {
    return endpointId;
  }

  /** The endpoint's base URL, e.g. {@code https://api.runpod.ai/v2/abc123}. */
  public String endpointUrl() {
    return endpointUrl.toString();
  }

  public Timeouts timeouts() {
    return timeouts;
  }

  /** How this client retries its HTTP calls (submits only when they provably did not reach RunPod). */
  public RetryPolicy retryPolicy() {
    return retry;
  }

  /** How job status and stream are polled. */
  public PollPolicy pollPolicy() {
    return poll;
  }

  // ---------------------------------------------------------------- submit

  /** Submits an asynchronous job ({@code POST /run}); returns its id with status IN_QUEUE. Bounded by the call timeout. */
  public JobResult run(JobRequest request) {
    return run(request, callDeadline());
  }

  /** Shorthand for {@code run(JobRequest.of(input))}. */
  public JobResult run(JsonNode input) {
    return run(JobRequest.of(input));
  }

  JobResult run(JobRequest request, Deadline deadline) {
    ensureOpen();
    pace("run", deadline, null);
    Request req = new Request.Builder().url(url("run")).post(body(request)).build();
    return jobReply(transport.call(req, false, deadline, "run", null).body(), "run", null);
  }

  /**
   * Submits with {@code POST /runsync?wait=} and, when RunPod answers with IN_QUEUE or IN_PROGRESS after the wait,
   * keeps polling {@code /status} until the job is terminal or the default deadline passes (then cancels the job and
   * throws a TIMEOUT {@link RunPodException} carrying the job id). The {@code /runsync} request itself is bounded by
   * {@code wait +} {@link Timeouts#call()}, each status poll by the call timeout.
   *
   * @param wait how long RunPod holds the request, 1 to 300 s
   * @return the terminal result (check {@link JobResult#status()} or call {@link JobResult#requireCompleted()})
   */
  public JobResult runSync(JobRequest request, Duration wait) {
    return runSync(request, wait, timeouts.deadline());
  }

  /** {@link #runSync(JobRequest, Duration)} with RunPod's default 90 s wait. */
  public JobResult runSync(JobRequest request) {
    return runSync(request, DEFAULT_RUNSYNC_WAIT);
  }

  /** {@link #runSync(JobRequest, Duration)} bounded by {@code deadline} instead of the default. */
  public JobResult runSync(JobRequest request, Duration wait, Duration deadline) {
    return runSync(request, wait, Deadline.after(deadline), null);
  }

  private JobResult runSync(JobRequest request, Duration wait, Deadline deadline, JobFuture future) {
    ensureOpen();
    if (wait.compareTo(Duration.ofSeconds(1)) < 0 || wait.compareTo(Duration.ofSeconds(300)) > 0) {
      throw new IllegalArgumentException("runSync wait must be between 1 and 300 seconds, got " + wait);
    }
    // Never hold the request longer than the caller is willing to wait in total.
    long waitMs = Math.max(1000, Math.min(wait.toMillis(), deadline.remaining().toMillis()));
    OkHttpClient longRead = http.newBuilder().readTimeout(Duration.ofMillis(waitMs).plus(timeouts.runSyncMargin())).build();
    Request req = new Request.Builder()
        .url(url("runsync").newBuilder().addQueryParameter("wait", Long.toString(waitMs)).build())
        .post(body(request))
        .build();
    pace("runsync", deadline, null);
    Deadline submit = deadline.within(Duration.ofMillis(waitMs).plus(timeouts.call()));
    JobResult first = jobReply(transport.call(longRead, req, false, submit, "runsync", null).body(), "runsync", null);
    if (future != null) {
      future.jobIdKnown(first.id());
      if (future.isCancelled()) {
        if (!first.isTerminal()) {
          cancelAfterGivingUp(first.id());
        }
        throw new CancellationException("cancelled while runsync was in flight");
      }
    }
    if (first.isTerminal()) {
      return first;
    }
    LOG.debug("runsync returned {} for job {}; polling status", first.status(), first.id());
    return awaitOrCancel(first.id(), deadline);
  }

  // ---------------------------------------------------------------- observe

  /**
   * Reads a job's status ({@code GET /status/{id}}); 404 (unknown, expired, past TTL) is a NOT_FOUND error. Bounded
   * by the call timeout.
   */
  public JobResult status(String jobId) {
    return status(jobId, callDeadline());
  }

  /** One status call within {@code deadline}, and at most the call timeout. */
  private JobResult status(String jobId, Deadline deadline) {
    deadline = deadline.within(timeouts.call());
    ensureOpen();
    pace("status", deadline, jobId);
    Request req = new Request.Builder().url(url("status", jobId)).get().build();
    return jobReply(transport.call(req, true, deadline, "status of job " + jobId, jobId).body(), "status", jobId);
  }

  /**
   * Polls {@code /status} with the poll policy until the job is terminal. Does not cancel on timeout (the job may
   * still finish; resume with the id from the exception).
   *
   * @throws RunPodException kind TIMEOUT when {@code deadline} passes first
   */
  public JobResult await(String jobId, Duration deadline) {
    return await(jobId, Deadline.after(deadline));
  }

  private JobResult await(String jobId, Deadline deadline) {
    Duration interval = poll.initialInterval();
    JobStatus last = null;
    while (true) {
      JobResult r;
      try {
        r = status(jobId, deadline);
      } catch (RunPodException e) {
        if (last == null || e.jobStatus().isPresent()) {
          throw e;
        }
        throw new RunPodException(e.kind(), e.httpStatus(), e.getMessage(), e.retryAfter().orElse(null), e, jobId, last);
      }
      if (r.isTerminal()) {
        return r;
      }
      last = r.status();
      if (interval.compareTo(deadline.remaining()) >= 0) {
        throw new RunPodException(Kind.TIMEOUT, 0, "RunPod job " + jobId + " still " + r.rawStatus()
            + " when the deadline of " + deadline.total().toMillis() + " ms passed", null, null, jobId, last);
      }
      Sleeper.sleep(interval);
      interval = next(interval);
    }
  }

  private JobResult awaitOrCancel(String jobId, Deadline deadline) {
    try {
      return await(jobId, deadline);
    } catch (RunPodException e) {
      if (e.kind() == Kind.TIMEOUT) {
        cancelAfterGivingUp(jobId);
      }
      throw e;
    } catch (CancellationException e) {
      cancelAfterGivingUp(jobId);
      throw e;
    }
  }

  private void cancelAfterGivingUp(String jobId) {
    if (closed.get()) {
      return;
    }
    try {
      cancel(jobId, callDeadline());
    } catch (RunPodException e) {
      // Best effort: the job keeps running on RunPod until its own timeout; the caller already has a failure to handle.
      LOG.warn("could not cancel RunPod job {} after giving up on it: {}", jobId, e.getMessage());
    }
  }

  Duration next(Duration interval) {
    return next(interval, poll);
  }

  static Duration next(Duration interval, PollPolicy policy) {
    long n = (long) (interval.toNanos() * policy.multiplier());
    return Duration.ofNanos(Math.min(Math.max(n, 1), policy.maxInterval().toNanos()));
  }

  /**
   * Iterates the partial outputs of a generator job by polling {@code /stream/{id}}; ends when the job is terminal
   * and no chunks remain (CANCELLED and TIMED_OUT included), bounded by the default deadline (each poll by the call
   * timeout).
   */
  public JobStream stream(String jobId) {
    return stream(jobId, timeouts.deadline());
  }

  /** {@link #stream(String)} with its own deadline. */
  public JobStream stream(String jobId, Duration deadline) {
    return stream(jobId, deadline, poll);
  }

  /**
   * {@link #stream(String, Duration)} polling with {@code pollPolicy} instead of the client's, e.g. a short maximum
   * interval for interactive callers that wait on a job whose worker streams nothing.
   */
  public JobStream stream(String jobId, Duration deadline, PollPolicy pollPolicy) {
    ensureOpen();
    return new JobStream(this, jobId, Deadline.after(deadline), Objects.requireNonNull(pollPolicy, "pollPolicy"));
  }

  /** The stream as a {@link Flow.Publisher}: chunks are delivered on this client's threads, then onComplete. */
  public Flow.Publisher<StreamChunk> streamPublisher(String jobId) {
    ensureOpen();
    return subscriber -> {
      SubmissionPublisher<StreamChunk> publisher = new SubmissionPublisher<>(executor, Flow.defaultBufferSize());
      publisher.subscribe(subscriber);
      executor.execute(() -> {
        try (JobStream s = stream(jobId)) {
          while (s.hasNext()) {
            publisher.submit(s.next());
          }
          publisher.close();
        } catch (RuntimeException e) {
          publisher.closeExceptionally(e);
        }
      });
    };
  }

  /** One {@code GET /stream/{id}} call: the chunks produced since the previous call. */
  StreamPoll pollStream(String jobId, Deadline deadline) {
    deadline = deadline.within(timeouts.call());
    ensureOpen();
    pace("stream", deadline, jobId);
    Request req = new Request.Builder().url(url("stream", jobId)).get().build();
    String body = transport.call(req, true, deadline, "stream of job " + jobId, jobId).body();
    JsonNode n = HttpSupport.parse(transport, body, "stream of job " + jobId, jobId);
    JsonNode chunks;
    JobStatus status = null;
    if (n.isArray()) {
      chunks = n;
    } else {
      chunks = n.path("stream");
      if (n.has("status")) {
        status = JobStatus.parse(n.get("status").asText());
      }
    }
    java.util.List<StreamChunk> out = new java.util.ArrayList<>();
    for (JsonNode c : chunks) {
      out.add(new StreamChunk(c.isObject() && c.has("output") ? c.get("output") : c, status));
    }
    return new StreamPoll(status, out, n.path("error").isTextual() ? n.get("error").asText() : null);
  }

  /** What one stream poll returned. */
  record StreamPoll(JobStatus status, java.util.List<StreamChunk> chunks, String error) {}

  JobResult statusFor(String jobId, Deadline deadline) {
    return status(jobId, deadline);
  }

  // ---------------------------------------------------------------- control

  /**
   * Cancels a job ({@code POST /cancel/{id}}); returns RunPod's answer (normally status CANCELLED). Bounded by the
   * call timeout.
   */
  public JobResult cancel(String jobId) {
    return cancel(jobId, callDeadline());
  }

  private JobResult cancel(String jobId, Deadline deadline) {
    ensureOpen();
    pace("cancel", deadline, jobId);
    Request req = new Request.Builder().url(url("cancel", jobId)).post(RequestBody.create(new byte[0])).build();
    // Cancelling twice is harmless, so the call is idempotent for retry purposes.
    return jobReply(transport.call(req, true, deadline, "cancel of job " + jobId, jobId).body(), "cancel", jobId);
  }

  /**
   * Re-queues a FAILED or TIMED_OUT job under the same id with its original input ({@code POST /retry/{id}}).
   * Bounded by the call timeout.
   */
  public JobResult retry(String jobId) {
    ensureOpen();
    Deadline deadline = callDeadline();
    pace("retry", deadline, jobId);
    Request req = new Request.Builder().url(url("retry", jobId)).post(RequestBody.create(new byte[0])).build();
    return jobReply(transport.call(req, false, deadline, "retry of job " + jobId, jobId).body(), "retry", jobId);
  }

  /** Removes every queued (not running) job; returns how many were removed. Bounded by the call timeout. */
  public int purgeQueue() {
    ensureOpen();
    Deadline deadline = callDeadline();
    pace("purge-queue", deadline, null);
    Request req = new Request.Builder().url(url("purge-queue")).post(RequestBody.create(new byte[0])).build();
    String body = transport.call(req, true, deadline, "purge-queue", null).body();
    JsonNode n = HttpSupport.parse(transport, body, "purge-queue", null);
    return n.path("removed").asInt(0);
  }

  /** Job and worker counters ({@code GET /health}). Bounded by the call timeout. */
  public EndpointHealth health() {
    ensureOpen();
    Deadline deadline = callDeadline();
    pace("health", deadline, null);
    Request req = new Request.Builder().url(url("health")).get().build();
    String body = transport.call(req, true, deadline, "health", null).body();
    return EndpointHealth.fromJson(HttpSupport.parse(transport, body, "health", null));
  }

  // ---------------------------------------------------------------- async

  /**
   * Submits with {@code /run} and completes when the job is terminal (within the default deadline). Cancelling the
   * future cancels the RunPod job.
   */
  public CompletableFuture<JobResult> runAsync(JobRequest request) {
    return async(future -> {
      Deadline deadline = Deadline.after(timeouts.deadline());
      JobResult submitted = run(request, deadline.within(timeouts.call()));
      future.jobIdKnown(submitted.id());
      if (future.isCancelled()) {
        cancelAfterGivingUp(submitted.id());
        throw new CancellationException("cancelled");
      }
      return awaitOrCancel(submitted.id(), deadline);
    });
  }

  /** {@link #runSync(JobRequest, Duration)} on this client's threads; cancelling the future cancels the job. */
  public CompletableFuture<JobResult> runSyncAsync(JobRequest request, Duration wait) {
    return async(future -> runSync(request, wait, Deadline.after(timeouts.deadline()), future));
  }

  /** {@link #status(String)} on this client's threads. */
  public CompletableFuture<JobResult> statusAsync(String jobId) {
    return async(future -> status(jobId));
  }

  /** {@link #cancel(String)} on this client's threads. */
  public CompletableFuture<JobResult> cancelAsync(String jobId) {
    return async(future -> cancel(jobId));
  }

  private interface AsyncBody {
    JobResult run(JobFuture future);
  }

  private CompletableFuture<JobResult> async(AsyncBody body) {
    ensureOpen();
    JobFuture future = new JobFuture();
    future.task = executor.submit(() -> {
      try {
        future.complete(body.run(future));
      } catch (RuntimeException e) {
        future.completeExceptionally(e);
      }
    });
    return future;
  }

  /**
   * A future whose cancellation cancels the RunPod job. While the submit is in flight the worker thread is not
   * interrupted (that would lose the job id of a job RunPod already created); the submitting code checks
   * {@link #isCancelled()} once the id is known and cancels the job itself. After that, cancellation interrupts the
   * polling thread and cancels the job directly.
   */
  private final class JobFuture extends CompletableFuture<JobResult> {
    private String jobId;
    volatile Future<?> task;

    synchronized void jobIdKnown(String id) {
      this.jobId = id;
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      if (cancelled) {
        String id;
        synchronized (this) {
          id = jobId;
        }
        if (id != null) {
          Future<?> t = task;
          if (t != null) {
            t.cancel(true);
          }
          if (!closed.get()) {
            try {
              executor.execute(() -> cancelAfterGivingUp(id));
            } catch (RejectedExecutionException e) {
              // The client closed concurrently; its owner is tearing down and the job keeps its own timeouts.
              LOG.warn("could not cancel RunPod job {}: client closed", id);
            }
          }
        }
      }
      return cancelled;
    }

    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
      return new CompletableFuture<>();
    }
  }

  // ---------------------------------------------------------------- plumbing

  private Deadline callDeadline() {
    return Deadline.after(timeouts.call());
  }

  private HttpUrl url(String op) {
    return endpointUrl.newBuilder().addPathSegment(op).build();
  }

  private HttpUrl url(String op, String jobId) {
    if (jobId == null || jobId.isBlank()) {
      throw new IllegalArgumentException("job id must not be blank");
    }
    return endpointUrl.newBuilder().addPathSegment(op).addPathSegment(jobId).build();
  }

  private static RequestBody body(JobRequest request) {
    ObjectNode root = Json.object();
    root.set("input", request.input());
    request.webhook().ifPresent(w -> root.put("webhook", w));
    if (request.executionTimeout().isPresent() || request.ttl().isPresent() || request.lowPriority()) {
      ObjectNode policy = root.putObject("policy");
      request.executionTimeout().ifPresent(d -> policy.put("executionTimeout", d.toMillis()));
      request.ttl().ifPresent(d -> policy.put("ttl", d.toMillis()));
      if (request.lowPriority()) {
        policy.put("lowPriority", true);
      }
    }
    request.s3Config().ifPresent(s -> root.set("s3Config", s));
    return HttpSupport.jsonBody(root);
  }

  private JobResult jobReply(String body, String what, String jobId) {
    JsonNode n = HttpSupport.parse(transport, body, what, jobId);
    if (!n.path("id").isTextual()) {
      throw transport.failure(Kind.BAD_RESPONSE, 200, what + " reply has no job id", null, null, jobId);
    }
    return JobResult.fromJson(n);
  }

  /** Waits for a client-side slot for {@code op}; fails fast when the wait would pass the deadline. */
  private void pace(String op, Deadline deadline, String jobId) {
    long waitNanos = rateLimits.reserve(op);
    if (waitNanos <= 0) {
      return;
    }
    if (waitNanos >= deadline.remainingNanos()) {
      throw new RunPodException(Kind.RATE_LIMITED, 0, "RunPod " + op + ": client-side rate limit " + rateLimits
          + " needs a " + waitNanos / 1_000_000 + " ms wait, past the deadline", Duration.ofNanos(waitNanos), null, jobId,
          null);
    }
    Sleeper.sleep(Duration.ofNanos(waitNanos));
  }

  void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException("RunPodClient is closed");
    }
  }

  /** Stops the async threads and, if this client created its own HTTP client, its connections. Idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      executor.shutdownNow();
      if (ownsHttp) {
        HttpSupport.shutdownOwned(http);
      }
    }
  }

  @Override
  public String toString() {
    return "RunPodClient{endpoint=" + endpointUrl + ", apiKey=" + apiKey + "}";
  }

  /** Configures a {@link RunPodClient}. {@code endpointId} and {@code apiKey} are required. */
  public static final class Builder {
    private String endpointId;
    private String apiKey;
    private String baseUrl = DEFAULT_BASE_URL;
    private OkHttpClient httpClient;
    private Timeouts timeouts = Timeouts.defaults();
    private RetryPolicy retry = RetryPolicy.defaults();
    private PollPolicy poll = PollPolicy.defaults();
    private RateLimits rateLimits = RateLimits.none();

    private Builder() {}

    public Builder endpointId(String endpointId) {
      this.endpointId = endpointId;
      return this;
    }

    /** The RunPod API key (usually {@code System.getenv("RUNPOD_API_KEY")}). */
    public Builder apiKey(String apiKey) {
      this.apiKey = apiKey;
      return this;
    }

    /** Overrides {@value #DEFAULT_BASE_URL}, e.g. for a fake endpoint or a proxy. */
    public Builder baseUrl(String baseUrl) {
      this.baseUrl = baseUrl;
      return this;
    }

    /** Shares a caller's OkHttp client (pool, dispatcher); the RunPod client derives its own timeouts from it. */
    public Builder httpClient(OkHttpClient httpClient) {
      this.httpClient = httpClient;
      return this;
    }

    public Builder timeouts(Timeouts timeouts) {
      this.timeouts = timeouts;
      return this;
    }

    public Builder retry(RetryPolicy retry) {
      this.retry = retry;
      return this;
    }

    public Builder poll(PollPolicy poll) {
      this.poll = poll;
      return this;
    }

    /** Client-side pacing per operation, e.g. {@link RateLimits#runPodDocumented()}; none by default. */
    public Builder rateLimits(RateLimits rateLimits) {
      this.rateLimits = rateLimits;
      return this;
    }

    public RunPodClient build() {
      require(endpointId, "endpointId");
      require(apiKey, "apiKey");
      require(baseUrl, "baseUrl");
      if (timeouts == null || retry == null || poll == null || rateLimits == null) {
        throw new IllegalArgumentException("RunPodClient timeouts, retry, poll and rateLimits must not be null");
      }
      if (!endpointId.matches("[A-Za-z0-9_-]+")) {
        throw new IllegalArgumentException("RunPodClient.endpointId must be letters, digits, '-' or '_': " + endpointId);
      }
      return new RunPodClient(this);
    }

    private static void require(String value, String name) {
      if (value == null || value.isBlank()) {
        throw new IllegalArgumentException("RunPodClient." + name + " is required");
      }
    }

    @Override
    public String toString() {
      return "RunPodClient.Builder{endpointId=" + endpointId + ", baseUrl=" + baseUrl + ", apiKey=****}";
    }
  }
}
