package dev.securetag.runpod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.ProgressListener;
import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.core.internal.Json;
import dev.securetag.runpod.internal.HttpSupport;
import dev.securetag.runpod.internal.Secret;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fine-tunes on a RunPod GPU pod: creates the pod from the trainer image (JDK 17, the securetag jars and a CUDA
 * libtorch; see the module README for how it is built), with the network volume that holds the base model, waits until
 * the pod's job server answers through RunPod's proxy (image pulls can take minutes), uploads the dataset, starts
 * {@code QloraTrainer} through {@code dev.securetag.train.TrainCli}, streams its progress and log events to the
 * listener (resuming after dropped connections), downloads the PEFT adapter and the merged checkpoint, and
 * <b>terminates the pod in every case</b>: success, failure, a lost pod, an interrupted thread, or a JVM shutdown
 * (a shutdown hook), so no pod is left billing.
 *
 * <pre>{@code
 * try (RunPodPods pods = RunPodPods.builder().apiKey(System.getenv("RUNPOD_API_KEY")).build()) {
 *   RunPodTrainingJob.Result r = RunPodTrainingJob.builder()
 *       .pods(pods)
 *       .pod(PodSpec.builder().name("securetag-train").image("ghcr.io/you/securetag-trainer:0.1.0")
 *           .gpuTypeId("NVIDIA H100 80GB HBM3").networkVolume("vol_abc123", "/runpod-volume")
 *           .dataCenterId("EU-RO-1").diskGb(80).build())
 *       .trainData(Path.of("dataset/train.jsonl")).validationData(Path.of("dataset/validation.jsonl"))
 *       .option("baseModel", "/runpod-volume/models/Mistral-7B-v0.3").option("steps", 600).option("loraR", 16)
 *       .outputDir(Path.of("runs/mistral-securetag"))
 *       .listener(ConsoleProgressBar.create())
 *       .build().run();
 *   System.out.println(r.adapterDir() + " " + r.finalLoss());
 * }
 * }</pre>
 *
 * The job server's port is public behind RunPod's proxy, so every job gets a fresh random bearer token, passed to the
 * pod in its environment and never logged.
 */
public final class RunPodTrainingJob {
  /** The port the trainer image's job server listens on. */
  public static final int JOB_PORT = 8080;
  /** Environment variable that carries the job token into the pod. */
  public static final String TOKEN_ENV = "SECURETAG_JOB_TOKEN";

  private static final Logger LOG = LoggerFactory.getLogger(RunPodTrainingJob.class);
  private static final MediaType NDJSON = MediaType.get("application/x-ndjson");

  private final RunPodPods pods;
  private final PodSpec spec;
  private final Path trainData;
  private final Path validationData;
  private final ObjectNode options;
  private final Path outputDir;
  private final Duration startTimeout;
  private final Duration runTimeout;
  private final Duration pollInterval;
  private final ProgressListener listener;
  private final Consumer<String> logs;
  private final boolean followPodLogs;
  private final OkHttpClient baseClient;

  /**
   * What the run produced.
   *
   * @param mergedDir the merged checkpoint, when the job merged (option {@code merge}, default true)
   */
  public record Result(String podId, Path adapterDir, Optional<Path> mergedDir, int steps, double finalLoss,
      double tokensPerSecond, String device, Duration wallTime) {}

  private RunPodTrainingJob(Builder b) {
    this.pods = b.pods;
    this.spec = b.spec;
    this.trainData = b.trainData;
    this.validationData = b.validationData;
    this.options = b.options.deepCopy();
    this.outputDir = b.outputDir;
    this.startTimeout = b.startTimeout;
    this.runTimeout = b.runTimeout;
    this.pollInterval = b.pollInterval;
    this.listener = b.listener;
    this.logs = b.logs;
    this.followPodLogs = b.followPodLogs;
    this.baseClient = b.httpClient;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Runs the job to the end and terminates the pod.
   *
   * @throws RunPodException when the pod could not be created (e.g. 400 no capacity)
   * @throws PodJobException when the pod was lost, did not start in time, or the job failed or ran too long
   * @throws CancellationException when the calling thread was interrupted
   */
  public Result run() {
    long start = System.nanoTime();
    Secret token = new Secret(randomToken());
    // Unique, so a create whose reply was lost can still be found (and terminated) by name.
    String podName = spec.name() + "-" + randomToken().substring(0, 8);
    PodSpec podSpec = spec.toBuilder().name(podName).port(JOB_PORT + "/http").env(TOKEN_ENV, token.reveal()).build();
    AtomicReference<String> podId = new AtomicReference<>();
    AtomicBoolean terminated = new AtomicBoolean();
    Thread hook = new Thread(() -> terminate(podId.get(), podName, terminated), "securetag-pod-terminate");
    Runtime.getRuntime().addShutdownHook(hook);
    AutoCloseable podLogs = null;
    OkHttpClient job = HttpSupport.withBearer(HttpSupport.derive(baseClient, Duration.ofSeconds(10),
        Duration.ofSeconds(60)), token);
    try {
      Pod pod;
      try {
        pod = pods.create(podSpec);
      } catch (RunPodException e) {
        if (e.kind() == Kind.TIMEOUT || e.kind() == Kind.CONNECTION) {
          // The create may have reached RunPod even though its reply did not reach us.
          terminate(null, podName, terminated);
        }
        throw e;
      }
      podId.set(pod.id());
      if (followPodLogs) {
        podLogs = pods.followLogs(pod.id(), 100, l -> logs.accept("[pod " + l.source() + "] " + l.line()));
      }
      String base = pods.proxyUrl(pod.id(), JOB_PORT);
      awaitJobServer(job, base, pod.id());
      upload(job, base, pod.id(), "train.jsonl", trainData);
      if (validationData != null) {
        upload(job, base, pod.id(), "validation.jsonl", validationData);
      }
      startTraining(job, base, pod.id());
      JsonNode done = followEvents(job, base, pod.id());
      Path adapter = download(job, base, pod.id(), "adapter.zip", outputDir.resolve("adapter"));
      Optional<Path> merged = done.path("merged").asBoolean(false)
          ? Optional.of(download(job, base, pod.id(), "merged.zip", outputDir.resolve("merged"))) : Optional.empty();
      return new Result(pod.id(), adapter, merged, done.path("steps").asInt(), done.path("finalLoss").asDouble(),
          done.path("tokensPerSecond").asDouble(), done.path("device").asText(""),
          Duration.ofNanos(System.nanoTime() - start));
    } finally {
      closeQuietly(podLogs);
      // Terminating needs the network: clear a pending interrupt for the call and restore it after.
      boolean interrupted = Thread.interrupted();
      try {
        terminate(podId.get(), podName, terminated);
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or will run; terminate() is idempotent
      }
      HttpSupport.shutdownOwned(job);
    }
  }

  private void awaitJobServer(OkHttpClient job, String base, String podId) {
    long deadline = System.nanoTime() + startTimeout.toNanos();
    long sleep = Math.max(50, pollInterval.toMillis());
    while (true) {
      checkInterrupted();
      try (Response r = job.newCall(new Request.Builder().url(base + "/health").get().build()).execute()) {
        if (r.code() == 200) {
          LOG.info("pod {}: job server is up", podId);
          return;
        }
        if (r.code() == 401) {
          throw new PodJobException(PodJobException.Reason.JOB_FAILED, podId,
              "pod " + podId + ": the job server rejected this job's token (is the pod running another job?)", null);
        }
        LOG.debug("pod {}: job server not ready (HTTP {})", podId, r.code());
      } catch (IOException e) {
        rethrowIfInterrupted(e);
        LOG.debug("pod {}: job server not reachable yet: {}", podId, e.getMessage());
      }
      requireAlive(podId, null);
      if (System.nanoTime() > deadline) {
        throw new PodJobException(PodJobException.Reason.START_TIMEOUT, podId, "pod " + podId
            + ": the job server did not answer within " + startTimeout.toSeconds() + " s", null);
      }
      pause(sleep);
      sleep = Math.min(sleep * 2, 15_000);
    }
  }

  private void upload(OkHttpClient job, String base, String podId, String name, Path file) {
    for (int attempt = 1; ; attempt++) {
      checkInterrupted();
      Request req = new Request.Builder().url(base + "/dataset/" + name).put(RequestBody.create(file.toFile(), NDJSON))
          .build();
      try (Response r = job.newCall(req).execute()) {
        if (r.isSuccessful()) {
          logs.accept("uploaded " + name + " (" + Files.size(file) + " bytes)");
          return;
        }
        throw new PodJobException(PodJobException.Reason.JOB_FAILED, podId, "pod " + podId + ": upload of " + name
            + " refused: HTTP " + r.code() + " " + r.body().string(), null);
      } catch (IOException e) {
        rethrowIfInterrupted(e);
        requireAlive(podId, e);
        if (attempt >= 3) {
          throw new PodJobException(PodJobException.Reason.JOB_FAILED, podId, "pod " + podId + ": upload of " + name
              + " failed: " + e.getMessage(), e);
        }
        pause(pollInterval.toMillis());
      }
    }
  }

  private void startTraining(OkHttpClient job, String base, String podId) {
    Request req = new Request.Builder().url(base + "/train").post(HttpSupport.jsonBody(options)).build();
    try (Response r = job.newCall(req).execute()) {
      if (r.code() == 202 || r.code() == 409) {
        logs.accept("training started on pod " + podId);
        return;
      }
      throw new PodJobException(PodJobException.Reason.JOB_FAILED, podId, "pod " + podId + ": POST /train refused: HTTP "
          + r.code() + " " + r.body().string(), null);
    } catch (IOException e) {
      rethrowIfInterrupted(e);
      requireAlive(podId, e);
      // The request may have started the job; the event stream tells.
      LOG.warn("pod {}: POST /train failed ({}), following events anyway", podId, e.getMessage());
    }
  }

  /** Reads the NDJSON events to the terminal one, reconnecting from the last seq after a dropped connection. */
  private JsonNode followEvents(OkHttpClient job, String base, String podId) {
    long deadline = System.nanoTime() + runTimeout.toNanos();
    int next = 0;
    int failures = 0;
    while (true) {
      checkInterrupted();
      Request req = new Request.Builder().url(base + "/events?from=" + next).get().build();
      try (Response r = job.newCall(req).execute()) {
        if (!r.isSuccessful()) {
          throw new IOException("GET /events answered HTTP " + r.code());
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(r.body().byteStream(), StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
          if (line.isBlank()) {
            continue;
          }
          JsonNode e = Json.mapper().readTree(line);
          if (e.has("seq")) {
            next = e.get("seq").asInt() + 1;
          }
          failures = 0;
          switch (e.path("type").asText()) {
            case "progress" -> listener.onProgress(new ProgressListener.Progress(e.path("phase").asText(),
                e.path("done").asLong(), e.path("total").asLong(), e.path("unit").asText(""),
                e.path("detail").asText(null)));
            case "log" -> logs.accept(e.path("message").asText());
            case "done" -> {
              listener.onPhaseEnd("train");
              return e;
            }
            case "failed" -> throw new PodJobException(PodJobException.Reason.JOB_FAILED, podId,
                "pod " + podId + ": training failed: " + e.path("error").asText(), null);
            default -> { } // heartbeat
          }
        }
      } catch (IOException e) {
        rethrowIfInterrupted(e);
        requireAlive(podId, e);
        failures++;
        LOG.info("pod {}: event stream dropped ({}), resuming from event {}", podId, e.getMessage(), next);
      }
      if (System.nanoTime() > deadline) {
        throw new PodJobException(PodJobException.Reason.RUN_TIMEOUT, podId, "pod " + podId
            + ": training did not finish within " + runTimeout.toMinutes() + " min", null);
      }
      pause(Math.min(15_000, pollInterval.toMillis() * (1L << Math.min(failures, 4))));
    }
  }

  private Path download(OkHttpClient job, String base, String podId, String artifact, Path target) {
    Request req = new Request.Builder().url(base + "/artifacts/" + artifact).get().build();
    try (Response r = job.newCall(req).execute()) {
      if (!r.isSuccessful()) {
        throw new PodJobException(PodJobException.Reason.JOB_FAILED, podId, "pod " + podId + ": " + artifact
            + " not available: HTTP " + r.code(), null);
      }
      Path tmp = target.resolveSibling(target.getFileName() + ".part");
      deleteTree(tmp);
      Files.createDirectories(tmp);
      try (ZipInputStream zip = new ZipInputStream(r.body().byteStream())) {
        for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
          Path out = tmp.resolve(e.getName()).normalize();
          if (!out.startsWith(tmp)) {
            throw new IOException(artifact + " holds an entry outside its directory: " + e.getName());
          }
          if (e.isDirectory()) {
            Files.createDirectories(out);
          } else {
            Files.createDirectories(out.getParent());
            Files.copy(zip, out, StandardCopyOption.REPLACE_EXISTING);
          }
        }
      }
      deleteTree(target);
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      logs.accept("downloaded " + artifact + " to " + target);
      return target;
    } catch (IOException e) {
      rethrowIfInterrupted(e);
      requireAlive(podId, e);
      throw new UncheckedIOException("pod " + podId + ": downloading " + artifact + " failed: " + e.getMessage(), e);
    }
  }

  /** Throws POD_LOST when RunPod no longer has the pod or it has exited. */
  private void requireAlive(String podId, Throwable cause) {
    Optional<Pod> p = pods.get(podId);
    if (p.isEmpty() || p.get().status().isGone()) {
      throw new PodJobException(PodJobException.Reason.POD_LOST, podId, "pod " + podId + " was lost ("
          + p.map(x -> "status " + x.status()).orElse("gone") + ")", cause);
    }
  }

  /** Terminates the pod (by id, or by its unique name when the create reply was lost); never throws. */
  private void terminate(String podId, String podName, AtomicBoolean done) {
    if (done.get()) {
      return;
    }
    for (int attempt = 1; attempt <= 3; attempt++) {
      try {
        if (podId != null) {
          pods.terminate(podId);
        } else {
          for (Pod p : pods.list()) {
            if (p.name().equals(podName)) {
              pods.terminate(p.id());
            }
          }
        }
        done.set(true);
        return;
      } catch (RuntimeException e) {
        LOG.warn("terminating pod {} failed (attempt {}): {}", podId != null ? podId : podName, attempt,
            e.getMessage());
      }
    }
    LOG.error("pod {} could not be terminated and may still be billing: terminate it in the RunPod console",
        podId != null ? podId : podName);
  }

  private static void checkInterrupted() {
    if (Thread.currentThread().isInterrupted()) {
      throw new CancellationException("training job interrupted");
    }
  }

  private static void rethrowIfInterrupted(IOException e) {
    if (e instanceof InterruptedIOException && Thread.currentThread().isInterrupted()) {
      CancellationException c = new CancellationException("training job interrupted");
      c.initCause(e);
      throw c;
    }
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      CancellationException c = new CancellationException("training job interrupted");
      c.initCause(e);
      throw c;
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c != null) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.debug("closing the pod log stream: {}", e.getMessage());
      }
    }
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }

  private static String randomToken() {
    byte[] b = new byte[24];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  @Override
  public String toString() {
    return "RunPodTrainingJob[" + spec + ", train=" + trainData + ", out=" + outputDir + "]";
  }

  /** Configures a {@link RunPodTrainingJob}; pods, pod, trainData, outputDir and the option baseModel are required. */
  public static final class Builder {
    private RunPodPods pods;
    private PodSpec spec;
    private Path trainData;
    private Path validationData;
    private final ObjectNode options = Json.object();
    private Path outputDir;
    private Duration startTimeout = Duration.ofMinutes(20);
    private Duration runTimeout = Duration.ofHours(48);
    private Duration pollInterval = Duration.ofSeconds(2);
    private ProgressListener listener = ProgressListener.NONE;
    private Consumer<String> logs = line -> LOG.info("{}", line);
    private boolean followPodLogs = true;
    private OkHttpClient httpClient;

    private Builder() {}

    public Builder pods(RunPodPods v) {
      this.pods = v;
      return this;
    }

    /** The pod to create: the trainer image, a GPU type, the network volume with the base model. */
    public Builder pod(PodSpec v) {
      this.spec = v;
      return this;
    }

    public Builder trainData(Path v) {
      this.trainData = v;
      return this;
    }

    public Builder validationData(Path v) {
      this.validationData = v;
      return this;
    }

    /**
     * A training option for {@code TrainCli} ({@code baseModel} — a path on the pod, e.g. on the network volume —
     * {@code steps}, {@code epochs}, {@code batchSize}, {@code learningRate}, {@code loraR}, {@code maxSeqLength}, ...).
     */
    public Builder option(String name, Object value) {
      options.set(name, Json.mapper().valueToTree(value));
      return this;
    }

    /** Where {@code adapter/} and {@code merged/} are written. */
    public Builder outputDir(Path v) {
      this.outputDir = v;
      return this;
    }

    /** How long the job server may take to answer after the create (default 20 min: large image pulls). */
    public Builder startTimeout(Duration v) {
      this.startTimeout = v;
      return this;
    }

    /** Longest training run (default 48 h). */
    public Builder runTimeout(Duration v) {
      this.runTimeout = v;
      return this;
    }

    /** First delay between readiness and reconnect polls (default 2 s, doubling to 15 s). */
    public Builder pollInterval(Duration v) {
      this.pollInterval = v;
      return this;
    }

    /** Receives the trainer's progress ({@code train} steps with loss, {@code eval}). */
    public Builder listener(ProgressListener v) {
      this.listener = v;
      return this;
    }

    /** Receives log lines: the job's log events and (with {@link #followPodLogs}) the container log. */
    public Builder logs(Consumer<String> v) {
      this.logs = v;
      return this;
    }

    /** Also stream the pod's container log through the pods API (default true). */
    public Builder followPodLogs(boolean v) {
      this.followPodLogs = v;
      return this;
    }

    /** A shared OkHttp client for the calls to the pod's job server. */
    public Builder httpClient(OkHttpClient v) {
      this.httpClient = v;
      return this;
    }

    public RunPodTrainingJob build() {
      Objects.requireNonNull(pods, "pods");
      Objects.requireNonNull(spec, "pod");
      Objects.requireNonNull(outputDir, "outputDir");
      if (trainData == null || !Files.isRegularFile(trainData)) {
        throw new IllegalArgumentException("trainData must be an existing JSONL file, was " + trainData);
      }
      if (validationData != null && !Files.isRegularFile(validationData)) {
        throw new IllegalArgumentException("validationData is not a file: " + validationData);
      }
      if (!options.hasNonNull("baseModel")) {
        throw new IllegalArgumentException("option baseModel (the base checkpoint's path on the pod) is required");
      }
      if (startTimeout.isNegative() || startTimeout.isZero() || runTimeout.isNegative() || runTimeout.isZero()
          || pollInterval.isNegative()) {
        throw new IllegalArgumentException("timeouts must be positive");
      }
      return new RunPodTrainingJob(this);
    }
  }

}
