package dev.securetag.testing.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.internal.DaemonThreads;
import dev.securetag.core.internal.Json;
import dev.securetag.testing.JobContext;
import dev.securetag.testing.JobHandler;
import dev.securetag.testing.JobState;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fake endpoint's job state machine: jobs wait IN_QUEUE for the queue delay, run on a fixed pool of workers through
 * the {@link JobHandler} (sync or generator form), end COMPLETED / FAILED / TIMED_OUT / CANCELLED, expire after the
 * retention time or their TTL, and can be retried, cancelled and purged, all with RunPod's rules. Knows nothing of
 * HTTP: the endpoint's routes call it.
 */
public final class JobQueue implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(JobQueue.class);

  /** The endpoint-wide settings jobs run under. */
  public record Settings(Duration queueDelay, Duration executionTimeout, Duration runRetention, Duration syncRetention,
      boolean aggregateStream, int workers) {}

  private final Settings settings;
  private final Supplier<JobHandler> handler;
  private final Consumer<FakeJob> onFinished;
  private final ExecutorService workers;
  private final ScheduledExecutorService scheduler;
  private final Map<String, FakeJob> jobs = new ConcurrentHashMap<>();
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicInteger completed = new AtomicInteger();
  private final AtomicInteger failed = new AtomicInteger();
  private final AtomicInteger retried = new AtomicInteger();

  /**
   * @param handler the handler for jobs starting now (the endpoint can swap it)
   * @param scheduler runs queue delays and timeouts; owned by the caller
   * @param onFinished told (holding the job's monitor) when a job reaches a terminal state, e.g. to send its webhook
   */
  public JobQueue(Settings settings, Supplier<JobHandler> handler, ScheduledExecutorService scheduler,
      Consumer<FakeJob> onFinished) {
    this.settings = settings;
    this.handler = handler;
    this.scheduler = scheduler;
    this.onFinished = onFinished;
    this.workers = DaemonThreads.fixedPool("fake-runpod-worker", settings.workers());
  }

  /**
   * Queues a job from a {@code /run} or {@code /runsync} body ({@code input}, optional {@code policy} with
   * {@code executionTimeout} and {@code ttl} in ms, optional {@code webhook}).
   */
  public FakeJob submit(JsonNode root, boolean sync) {
    JsonNode policy = root.path("policy");
    Duration execTimeout = policy.path("executionTimeout").isNumber()
        ? Duration.ofMillis(policy.get("executionTimeout").asLong()) : settings.executionTimeout();
    Duration ttl = policy.path("ttl").isNumber() ? Duration.ofMillis(policy.get("ttl").asLong()) : Duration.ofHours(24);
    String id = (sync ? "sync-" : "") + UUID.randomUUID();
    FakeJob job = new FakeJob(id, root.get("input"), sync, execTimeout, ttl,
        root.path("webhook").isTextual() ? root.get("webhook").asText() : null, onFinished);
    jobs.put(id, job);
    enqueue(job);
    return job;
  }

  /** Queues a job with {@code input} and the endpoint's defaults (the OpenAI route's jobs). */
  public FakeJob submitInput(JsonNode input) {
    FakeJob job = new FakeJob(UUID.randomUUID().toString(), input, false, settings.executionTimeout(),
        Duration.ofHours(24), null, onFinished);
    jobs.put(job.id, job);
    enqueue(job);
    return job;
  }

  private void enqueue(FakeJob job) {
    scheduler.schedule(() -> {
      try {
        workers.execute(() -> execute(job));
      } catch (RejectedExecutionException e) {
        LOG.debug("fake endpoint closed before job {} started", job.id);
      }
    }, settings.queueDelay().toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Waits up to {@code wait} for the job to end (returns early when it does). */
  public static void waitTerminal(FakeJob job, Duration wait) {
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

  /** A live job, applying TTL and retention expiry like RunPod (expired jobs are forgotten: 404). */
  public FakeJob live(String id) {
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
          && now - job.finishedNanos > (job.sync ? settings.syncRetention() : settings.runRetention()).toNanos();
      if (ttlGone || retentionGone) {
        jobs.remove(id);
        if (!job.status.isTerminal()) {
          job.finish(JobState.CANCELLED);
          interrupt(job);
        }
        return null;
      }
    }
    return job;
  }

  /** A job's state, or empty when unknown or expired. */
  public Optional<JobState> state(String id) {
    FakeJob j = jobs.get(id);
    return j == null ? Optional.empty() : Optional.of(j.state());
  }

  /** Jobs still known (not expired or purged). */
  public int size() {
    return jobs.size();
  }

  /** The {@code /stream} reply: status and the partial outputs not read yet (each read once). */
  public ObjectNode readStream(FakeJob job) {
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
    return out;
  }

  /** Partial outputs from {@code from} on, waiting up to {@code until} (nanoTime) while none is new and it runs. */
  public List<JsonNode> awaitStream(FakeJob job, int from, long until) throws InterruptedException {
    synchronized (job) {
      while (job.stream.size() == from && !job.status.isTerminal() && System.nanoTime() < until) {
        TimeUnit.NANOSECONDS.timedWait(job, Math.max(1, until - System.nanoTime()));
      }
      return List.copyOf(job.stream.subList(from, job.stream.size()));
    }
  }

  /** Cancels a job that has not ended (its handler is interrupted); a no-op for ended ones. */
  public void cancel(FakeJob job) {
    synchronized (job) {
      if (!job.status.isTerminal()) {
        job.finish(JobState.CANCELLED);
        interrupt(job);
      }
    }
  }

  /** Re-queues a FAILED or TIMED_OUT job under its id; false for any other state. */
  public boolean retry(FakeJob job) {
    synchronized (job) {
      if (job.status != JobState.FAILED && job.status != JobState.TIMED_OUT) {
        return false;
      }
      job.reset();
    }
    retried.incrementAndGet();
    enqueue(job);
    return true;
  }

  /** Cancels and forgets every queued job; returns how many. */
  public int purge() {
    int removed = 0;
    for (FakeJob job : List.copyOf(jobs.values())) {
      synchronized (job) {
        if (job.status == JobState.IN_QUEUE) {
          job.finish(JobState.CANCELLED);
          jobs.remove(job.id);
          removed++;
        }
      }
    }
    return removed;
  }

  /** The {@code /health} reply: job counts by state and busy/idle workers. */
  public ObjectNode health() {
    int inQueue = 0;
    int inProgress = 0;
    for (FakeJob job : jobs.values()) {
      synchronized (job) {
        if (job.status == JobState.IN_QUEUE) {
          inQueue++;
        } else if (job.status == JobState.IN_PROGRESS) {
          inProgress++;
        }
      }
    }
    ObjectNode out = Json.object();
    out.putObject("jobs").put("completed", completed.get()).put("failed", failed.get())
        .put("inProgress", inProgress).put("inQueue", inQueue).put("retried", retried.get());
    int busy = running.get();
    out.putObject("workers").put("idle", Math.max(0, settings.workers() - busy)).put("running", busy);
    return out;
  }

  private static void interrupt(FakeJob job) {
    if (job.thread != null) {
      job.thread.interrupt();
    }
  }

  private void execute(FakeJob job) {
    synchronized (job) {
      if (job.status != JobState.IN_QUEUE) {
        return;
      }
      job.status = JobState.IN_PROGRESS;
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
      returned = handler.get().handle(new Context(job));
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
      if (job.status != JobState.IN_PROGRESS) {
        return; // cancelled, timed out or expired while running: the result is discarded, as on RunPod
      }
      if (failure != null) {
        job.error = runpodPythonError(failure, job.workerId);
        job.finish(JobState.FAILED);
        failed.incrementAndGet();
        return;
      }
      if (returned != null && returned.isObject() && returned.path("error").isTextual()) {
        ObjectNode rest = ((ObjectNode) returned).deepCopy();
        job.error = rest.remove("error").asText();
        job.output = rest.isEmpty() ? null : rest;
        job.finish(JobState.FAILED);
        failed.incrementAndGet();
        return;
      }
      if (returned == null || !job.stream.isEmpty()) {
        ArrayNode list = Json.mapper().createArrayNode();
        if (settings.aggregateStream()) {
          job.stream.forEach(list::add);
        }
        job.output = list;
      } else {
        job.output = returned;
      }
      job.finish(JobState.COMPLETED);
      completed.incrementAndGet();
    }
  }

  private void timeOut(FakeJob job, long generation) {
    synchronized (job) {
      if (job.generation == generation && job.status == JobState.IN_PROGRESS) {
        job.finish(JobState.TIMED_OUT);
        interrupt(job);
      }
    }
  }

  /** A handler exception as runpod-python reports it: JSON inside the error string. */
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

  /** What a running handler sees of its job. */
  private static final class Context implements JobContext {
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
        if (job.status == JobState.IN_PROGRESS) {
          job.stream.add(chunk);
          job.notifyAll();
        }
      }
    }

    @Override
    public void progress(JsonNode update) {
      synchronized (job) {
        if (job.status == JobState.IN_PROGRESS) {
          job.output = update;
        }
      }
    }

    @Override
    public boolean isCancelled() {
      synchronized (job) {
        return job.status != JobState.IN_PROGRESS;
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

  /** Stops the workers (running handlers are interrupted). */
  @Override
  public void close() {
    workers.shutdownNow();
  }
}
