package dev.securetag.runpod;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.core.internal.Hashing;
import dev.securetag.core.internal.Json;
import dev.securetag.core.ollama.OllamaChatRequest;
import dev.securetag.core.ollama.OllamaGenerateRequest;
import dev.securetag.core.ollama.OllamaModelDetails;
import dev.securetag.core.ollama.OllamaModelInfo;
import dev.securetag.core.ollama.OllamaShowResponse;
import dev.securetag.ollama.server.OllamaBackend;
import dev.securetag.ollama.server.OllamaReply;
import dev.securetag.ollama.server.OllamaServer;
import dev.securetag.runpod.internal.OllamaStreamTranslator;
import dev.securetag.runpod.internal.OutputText;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An embeddable HTTP server that speaks the Ollama API ({@code /api/generate}, {@code /api/chat} streaming and not,
 * {@code /api/tags}, {@code /api/show}, {@code /api/ps}, {@code /api/version}, {@code GET /}) and runs each generation
 * as a RunPod Serverless job, so an application written against Ollama switches to RunPod by changing one URL. It is
 * securetag-ollama-server's {@link OllamaServer} (routing, API key, bounded typed bodies, JSON errors, admission
 * queue, disconnect detection, NDJSON) with a backend that relays RunPod jobs.
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
 * once its request has been read. At most {@code concurrency} generations (64 by default) run at once; further ones
 * wait up to {@code admissionWait} (30 s) for a slot, then get 503 with Retry-After.
 *
 * <p>The proxy holds the RunPod key so callers never do: it binds to loopback unless told otherwise, can require its
 * own API key from callers ({@code Authorization: Bearer}, scheme case-insensitive, compared in constant time), caps
 * request bodies, never forwards a caller's Authorization header and never echoes the RunPod key. The job input is
 * the caller's {@code /api/generate} or {@code /api/chat} body as typed in {@code dev.securetag.core.ollama} (fields
 * Ollama defines; unknown ones are dropped). {@link #close()} stops accepting and lets in-flight generations finish
 * (up to the grace period).
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
  /** The Ollama version this proxy reports (the shared server's); clients gate features on it. */
  public static final String OLLAMA_API_VERSION = OllamaServer.OLLAMA_API_VERSION;

  private final RunPodClient runPod;
  private final String model;
  private final PollPolicy poll;
  private final Duration requestDeadline;
  private final Duration keepAlive;
  private final Instant started = Instant.now();
  private final OllamaServer server;

  private OllamaRunPodProxy(Builder b) {
    this.runPod = b.runPod;
    this.model = b.model;
    this.requestDeadline = b.requestDeadline;
    this.keepAlive = b.queueKeepAlive;
    PollPolicy clientPoll = runPod.pollPolicy();
    Duration max = min(clientPoll.maxInterval(), b.maxPollInterval);
    this.poll = PollPolicy.builder().initialInterval(min(clientPoll.initialInterval(), max)).maxInterval(max)
        .multiplier(clientPoll.multiplier()).build();
    OllamaServer.Builder sb = OllamaServer.builder().backend(new RunPodBackend()).name("ollama-runpod-proxy")
        .bindAddress(b.bindAddress).port(b.port).maxBodyBytes(b.maxBodyBytes).concurrency(b.concurrency)
        .admissionWait(b.admissionWait).maxConnections(b.maxConnections).shutdownGrace(b.shutdownGrace);
    if (b.apiKey != null) {
      sb.apiKey(b.apiKey);
    }
    this.server = sb.build();
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
    return server.baseUrl();
  }

  /** Generations running right now. */
  public int inFlight() {
    return server.inFlight();
  }

  /** Generations waiting for a free slot (beyond {@code concurrency}) right now. */
  public int queued() {
    return server.queued();
  }

  private boolean sameModel(String name) {
    return name.equals(model) || name.equals(model + ":latest") || (model + ":latest").equals(name + ":latest");
  }

  /**
   * The server's backend: metadata of the configured model, and each generation as a RunPod job. Generations for
   * other model names are passed on too: the worker decides what it serves.
   */
  private final class RunPodBackend implements OllamaBackend {
    @Override
    public String model() {
      return model;
    }

    @Override
    public boolean serves(String requested) {
      return sameModel(requested);
    }

    @Override
    public boolean generatesForAnyModel() {
      return true;
    }

    @Override
    public OllamaModelInfo describe() {
      return new OllamaModelInfo(model, model, started.toString(), 0L, Hashing.sha256Hex(model),
          new OllamaModelDetails(null, "gguf", "", null, "", ""));
    }

    @Override
    public OllamaShowResponse show() {
      return new OllamaShowResponse("# served by RunPod endpoint through securetag OllamaRunPodProxy\nFROM " + model
          + "\n", "", "", OllamaModelDetails.format("gguf"), null, List.of("completion"));
    }

    @Override
    public void generate(OllamaGenerateRequest request, OllamaReply reply) throws IOException {
      if (request.prompt() == null) {
        reply.error(400, "prompt is required", "invalid_request");
        return;
      }
      run(reply, request.model(), Json.mapper().valueToTree(request.withStream(request.streaming())));
    }

    @Override
    public void chat(OllamaChatRequest request, OllamaReply reply) throws IOException {
      if (request.messages() == null) {
        reply.error(400, "messages is required", "invalid_request");
        return;
      }
      run(reply, request.model(), Json.mapper().valueToTree(request.withStream(request.streaming())));
    }
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

  /** Submits the caller's request as a job (the worker receives it as Ollama defines it) and relays the answer. */
  private void run(OllamaReply reply, String requested, ObjectNode input) throws IOException {
    Generation gen = new Generation();
    reply.onCallerGone(gen::callerGone);
    JobResult submitted;
    try {
      submitted = runPod.run(JobRequest.of(input));
    } catch (RunPodException e) {
      upstreamFailure(reply, "submit", null, e);
      return;
    }
    if (!gen.jobStarted(submitted.id())) {
      return;
    }
    relay(reply, gen, submitted.id(), requested);
  }

  private void relay(OllamaReply reply, Generation gen, String jobId, String requested) throws IOException {
    OllamaStreamTranslator tr = new OllamaStreamTranslator(requested, reply.chat());
    boolean stream = reply.streaming();
    try (JobStream js = runPod.stream(jobId, requestDeadline, poll)) {
      if (stream) {
        reply.startStream();
      }
      while (!gen.gone) {
        StreamChunk chunk;
        if (stream && keepAlive != null) {
          Optional<StreamChunk> c = js.poll(keepAlive);
          if (c.isEmpty()) {
            if (js.isFinished()) {
              break;
            }
            reply.line(tr.keepAliveLine());
            continue;
          }
          chunk = c.get();
        } else if (js.hasNext()) {
          chunk = js.next();
        } else {
          break;
        }
        List<ObjectNode> lines = tr.accept(chunk.output());
        if (stream) {
          reply.lines(lines);
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
        if (stream) {
          reply.lines(lines);
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
        reply.error(failStatus, failure, failKind);
        return;
      }
      ObjectNode done = tr.doneLine(!stream, fin.delayTime().orElse(null), fin.executionTime().orElse(null));
      if (stream) {
        reply.line(done);
      } else {
        reply.json(200, done);
      }
    } catch (RunPodException e) {
      if (e.kind() != Kind.NOT_FOUND) {
        // Nobody will read this job's result any more.
        gen.cancelOnce(jobId, "the proxy gave up on it (" + e.kind() + ")");
      }
      if (!gen.gone) {
        upstreamFailure(reply, "follow-up", jobId, e);
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
  private static void upstreamFailure(OllamaReply reply, String what, String jobId, RunPodException e)
      throws IOException {
    LOG.warn("RunPod {} for {}{} failed: {}", what, reply.chat() ? "/api/chat" : "/api/generate",
        jobId == null ? "" : " (job " + jobId + ")", e.getMessage());
    Upstream u = Upstream.of(e.kind());
    if (!reply.started() && (u == Upstream.RATE_LIMITED || u == Upstream.SERVER_ERROR)) {
      long seconds = e.retryAfter().map(d -> Math.max(1, (d.toMillis() + 999) / 1000)).orElse(1L);
      reply.header("Retry-After", Long.toString(seconds));
    }
    reply.error(u.status, u.message, u.code);
  }

  /**
   * Stops accepting generations (new ones get 503), waits up to the grace period for in-flight ones to finish, then
   * stops the server. Does not close the {@link RunPodClient}. Idempotent.
   */
  @Override
  public void close() {
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
     * @throws UncheckedIOException when the address cannot be bound
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
