package dev.securetag.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.securetag.core.ProgressListener;
import dev.securetag.core.internal.DaemonThreads;
import dev.securetag.core.internal.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * The small command-line entry point that runs {@link QloraTrainer} on a training machine such as a RunPod GPU pod.
 *
 * <pre>
 * # one-shot: train, merge, print NDJSON events on stdout
 * java -cp 'securetag/*' dev.securetag.train.TrainCli train --base-model /runpod-volume/models/mistral-7b \
 *     --train train.jsonl --validation validation.jsonl --out /workspace/run --steps 600
 *
 * # job server (what the trainer image runs): the dataset is uploaded, training started and followed over HTTP
 * SECURETAG_JOB_TOKEN=... java -cp 'securetag/*' dev.securetag.train.TrainCli serve --port 8080 --work /workspace/job
 * </pre>
 *
 * <p>The job server speaks a small HTTP protocol, every request with {@code Authorization: Bearer <token>} (the pod's
 * port is reachable from the internet through RunPod's proxy): {@code GET /health}; {@code PUT /dataset/train.jsonl}
 * and {@code PUT /dataset/validation.jsonl}; {@code POST /train} with the options as JSON (the same names as the
 * {@code train} flags without dashes, e.g. {@code {"baseModel": "...", "steps": 600, "loraR": 16}}), answered 202;
 * {@code GET /events?from=N}, an NDJSON stream of numbered events ({@code log}, {@code progress}, {@code heartbeat}
 * every 15 s while idle, and a final {@code done} or {@code failed}) that a client resumes from its last {@code seq}
 * after a dropped connection; {@code GET /artifacts/adapter.zip} (the PEFT adapter) and {@code /artifacts/merged.zip}
 * (the merged checkpoint) once done.
 */
public final class TrainCli {
  /** Environment variable holding the job server's bearer token. */
  public static final String TOKEN_ENV = "SECURETAG_JOB_TOKEN";
  /** The job server's port in the trainer image. */
  public static final int DEFAULT_PORT = 8080;

  private TrainCli() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
      System.out.println(USAGE);
      return;
    }
    Map<String, String> flags = parseFlags(args, 1);
    switch (args[0]) {
      case "train" -> {
        ObjectNode options = Json.object();
        flags.forEach((k, v) -> options.put(camel(k), v));
        PrintStream out = System.out;
        Path outDir = Path.of(require(flags, "out"));
        Run run = new Run(options, Path.of(require(flags, "train")),
            flags.containsKey("validation") ? Path.of(flags.get("validation")) : null, outDir,
            e -> {
              synchronized (out) {
                out.println(Json.write(e));
                out.flush();
              }
            }, () -> false);
        run.execute();
      }
      case "serve" -> {
        String token = System.getenv(TOKEN_ENV);
        if (token == null || token.isBlank()) {
          System.err.println(TOKEN_ENV + " must be set: the job server's port is reachable from the internet");
          System.exit(2);
        }
        int port = Integer.parseInt(flags.getOrDefault("port", String.valueOf(DEFAULT_PORT)));
        Path work = Path.of(flags.getOrDefault("work", "/workspace/securetag-job"));
        JobServer server = JobServer.start(new InetSocketAddress(port), work, token);
        System.out.println("securetag job server listening on port " + server.port() + ", work dir " + work);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "securetag-job-server-stop"));
        server.awaitStop();
      }
      default -> {
        System.err.println("unknown command " + args[0] + "\n" + USAGE);
        System.exit(2);
      }
    }
  }

  static final String USAGE = """
      usage: TrainCli train --base-model DIR --train FILE [--validation FILE] --out DIR [options]
             TrainCli serve [--port 8080] [--work DIR]        (token from SECURETAG_JOB_TOKEN)
      options: --steps N (max optimizer steps, default 300)  --epochs N (default 1)  --batch-size N (4)
               --gradient-accumulation N (1)  --learning-rate X (2e-4)  --warmup-steps N (10)
               --max-seq-length N (512)  --seed N (42)  --lora-r N (16)  --lora-alpha X (32)  --lora-dropout X (0.05)
               --eval-steps N (100)  --merge true|false (true: also write the merged checkpoint)""";

  private static Map<String, String> parseFlags(String[] args, int from) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    for (int i = from; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --flag value, got " + args[i] + "\n" + USAGE);
      }
      m.put(args[i].substring(2), args[++i]);
    }
    return m;
  }

  private static String require(Map<String, String> flags, String name) {
    String v = flags.get(name);
    if (v == null) {
      throw new IllegalArgumentException("--" + name + " is required\n" + USAGE);
    }
    return v;
  }

  /** {@code max-seq-length} → {@code maxSeqLength}. */
  static String camel(String flag) {
    StringBuilder sb = new StringBuilder();
    boolean up = false;
    for (char c : flag.toCharArray()) {
      if (c == '-') {
        up = true;
      } else {
        sb.append(up ? Character.toUpperCase(c) : c);
        up = false;
      }
    }
    return sb.toString();
  }

  /** One training run: options in, events out, adapter and merged checkpoint zipped into {@code out/artifacts}. */
  static final class Run {
    private final JsonNode options;
    private final Path train;
    private final Path validation;
    private final Path out;
    private final Consumer<ObjectNode> events;
    private final java.util.function.BooleanSupplier cancelled;

    Run(JsonNode options, Path train, Path validation, Path out, Consumer<ObjectNode> events,
        java.util.function.BooleanSupplier cancelled) {
      this.options = options;
      this.train = train;
      this.validation = validation;
      this.out = out;
      this.events = events;
      this.cancelled = cancelled;
    }

    void execute() {
      try {
        String base = text("baseModel", null);
        if (base == null || !Files.isDirectory(Path.of(base))) {
          throw new IllegalArgumentException("baseModel must name a checkpoint directory on this machine (e.g. on the "
              + "network volume), was " + base);
        }
        if (!Files.isRegularFile(train)) {
          throw new IllegalArgumentException("no training data at " + train + " (upload it first)");
        }
        log("training " + base + " on " + train.getFileName() + (validation != null ? " + " + validation.getFileName()
            : ""));
        ProgressListener listener = p -> {
          if (cancelled.getAsBoolean()) {
            throw new CancellationException("the job server is stopping");
          }
          ObjectNode e = Json.object().put("type", "progress").put("phase", p.phase()).put("done", p.done())
              .put("total", p.total()).put("unit", p.unit());
          if (p.detail() != null) {
            e.put("detail", p.detail());
          }
          events.accept(e);
        };
        Path merged = out.resolve("merged");
        QloraTrainer.Builder b = QloraTrainer.builder().baseModel(Path.of(base)).trainData(train)
            .outputDir(out.resolve("training"))
            .lora(LoraConfig.builder().r(integer("loraR", 16)).alpha(number("loraAlpha", 32))
                .dropout(number("loraDropout", 0.05)).addTargetModules(LoraConfig.ALL_LINEAR).build())
            .epochs(integer("epochs", 1)).maxSteps(integer("steps", 300)).batchSize(integer("batchSize", 4))
            .gradientAccumulation(integer("gradientAccumulation", 1)).learningRate(number("learningRate", 2e-4))
            .warmupSteps(integer("warmupSteps", 10)).maxSeqLength(integer("maxSeqLength", 512))
            .seed(integer("seed", 42)).listener(listener);
        if (validation != null && Files.isRegularFile(validation) && Files.size(validation) > 0) {
          b.validationData(validation).evalSteps(integer("evalSteps", 100));
        }
        TrainingResult r;
        try (QloraTrainer trainer = b.build()) {
          r = trainer.train();
          if (bool("merge", true)) {
            log("merging the adapter into the base weights");
            trainer.mergeAndSave(merged);
          }
        }
        Path artifacts = out.resolve("artifacts");
        Files.createDirectories(artifacts);
        zip(r.adapterDir(), artifacts.resolve("adapter.zip"));
        if (Files.isDirectory(merged)) {
          zip(merged, artifacts.resolve("merged.zip"));
        }
        ObjectNode done = Json.object().put("type", "done").put("steps", r.steps())
            .put("finalLoss", r.stepLosses().isEmpty() ? Double.NaN : r.stepLosses().get(r.stepLosses().size() - 1))
            .put("tokensPerSecond", r.tokensPerSecond()).put("wallSeconds", r.wallTime().toMillis() / 1000.0)
            .put("device", r.setup().device()).put("merged", Files.isDirectory(merged));
        events.accept(done);
      } catch (CancellationException e) {
        events.accept(Json.object().put("type", "failed").put("error", "cancelled: " + e.getMessage()));
      } catch (IOException e) {
        events.accept(Json.object().put("type", "failed").put("error", "I/O: " + e.getMessage()));
      } catch (RuntimeException e) {
        events.accept(Json.object().put("type", "failed").put("error", e.getClass().getSimpleName() + ": "
            + e.getMessage()));
      }
    }

    private void log(String message) {
      events.accept(Json.object().put("type", "log").put("message", message));
    }

    private String text(String name, String def) {
      JsonNode n = options.get(name);
      return n == null || n.isNull() ? def : n.asText();
    }

    private int integer(String name, int def) {
      String v = text(name, null);
      try {
        return v == null ? def : Integer.parseInt(v);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("option " + name + " must be an integer, was " + v, e);
      }
    }

    private double number(String name, double def) {
      String v = text(name, null);
      try {
        return v == null ? def : Double.parseDouble(v);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("option " + name + " must be a number, was " + v, e);
      }
    }

    private boolean bool(String name, boolean def) {
      String v = text(name, null);
      return v == null ? def : Boolean.parseBoolean(v);
    }
  }

  /** Zips a directory tree (relative names with '/'), written atomically. */
  static void zip(Path dir, Path target) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    List<Path> files;
    try (Stream<Path> s = Files.walk(dir)) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    }
    try (ZipOutputStream zos = new ZipOutputStream(Files.newOutputStream(tmp))) {
      for (Path f : files) {
        zos.putNextEntry(new ZipEntry(dir.relativize(f).toString().replace('\\', '/')));
        Files.copy(f, zos);
        zos.closeEntry();
      }
    }
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * The HTTP job server of the trainer image: one training job per server (a pod runs one job). Thread-safe;
   * {@link #close()} stops a run in progress at its next step and frees the port.
   */
  public static final class JobServer implements AutoCloseable {
    private static final long HEARTBEAT_MS = 15_000;

    private final HttpServer server;
    private final ExecutorService threads;
    private final Path work;
    private final byte[] token;
    private final List<String> events = new ArrayList<>();
    private volatile String status = "ready";
    private volatile boolean stopped;
    private Thread trainer;
    private final java.util.concurrent.CountDownLatch stop = new java.util.concurrent.CountDownLatch(1);

    private JobServer(HttpServer server, ExecutorService threads, Path work, String token) {
      this.server = server;
      this.threads = threads;
      this.work = work;
      this.token = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
    }

    /** Starts serving on {@code address} (port 0 picks a free one), keeping uploads and outputs in {@code work}. */
    public static JobServer start(InetSocketAddress address, Path work, String token) {
      if (token == null || token.isBlank()) {
        throw new IllegalArgumentException("the job server needs a bearer token");
      }
      try {
        Files.createDirectories(work.resolve("dataset"));
        HttpServer http = HttpServer.create(address, 16);
        ExecutorService threads = DaemonThreads.cachedPool("securetag-job-http");
        http.setExecutor(threads);
        JobServer s = new JobServer(http, threads, work, token);
        http.createContext("/", s::handle);
        http.start();
        return s;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start the job server on " + address + ": " + e.getMessage(), e);
      }
    }

    public int port() {
      return server.getAddress().getPort();
    }

    /** {@code ready}, {@code training}, {@code done} or {@code failed}. */
    public String status() {
      return status;
    }

    /** Blocks until {@link #close()}. */
    public void awaitStop() throws InterruptedException {
      stop.await();
    }

    private void handle(HttpExchange ex) throws IOException {
      try (ex) {
        byte[] auth = String.valueOf(ex.getRequestHeaders().getFirst("Authorization")).getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(auth, token)) {
          send(ex, 401, Json.object().put("error", "missing or wrong bearer token"));
          return;
        }
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getPath();
        if (method.equals("GET") && path.equals("/health")) {
          send(ex, 200, Json.object().put("status", status).put("events", eventCount()));
        } else if (method.equals("PUT") && path.startsWith("/dataset/")) {
          upload(ex, path.substring("/dataset/".length()));
        } else if (method.equals("POST") && path.equals("/train")) {
          startTraining(ex);
        } else if (method.equals("GET") && path.equals("/events")) {
          streamEvents(ex);
        } else if (method.equals("GET") && path.startsWith("/artifacts/")) {
          artifact(ex, path.substring("/artifacts/".length()));
        } else {
          send(ex, 404, Json.object().put("error", "no route " + method + " " + path));
        }
      }
    }

    private void upload(HttpExchange ex, String name) throws IOException {
      if (!name.equals("train.jsonl") && !name.equals("validation.jsonl")) {
        send(ex, 400, Json.object().put("error", "upload train.jsonl or validation.jsonl, not " + name));
        return;
      }
      Path target = work.resolve("dataset").resolve(name);
      Path tmp = target.resolveSibling(name + ".part");
      try (InputStream in = ex.getRequestBody()) {
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      }
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      send(ex, 200, Json.object().put("file", name).put("bytes", Files.size(target)));
    }

    private synchronized void startTraining(HttpExchange ex) throws IOException {
      if (trainer != null) {
        send(ex, 409, Json.object().put("error", "a job was already started on this server (status " + status + ")"));
        return;
      }
      JsonNode options;
      try (InputStream in = ex.getRequestBody()) {
        options = Json.readTree(new String(in.readAllBytes(), StandardCharsets.UTF_8), "POST /train");
      } catch (RuntimeException e) {
        send(ex, 400, Json.object().put("error", "options must be a JSON object: " + e.getMessage()));
        return;
      }
      Path train = work.resolve("dataset/train.jsonl");
      if (!Files.isRegularFile(train)) {
        send(ex, 400, Json.object().put("error", "upload dataset/train.jsonl before POST /train"));
        return;
      }
      status = "training";
      Run run = new Run(options, train, work.resolve("dataset/validation.jsonl"), work.resolve("run"), this::event,
          () -> stopped);
      trainer = DaemonThreads.thread("securetag-job-trainer", run::execute);
      trainer.start();
      send(ex, 202, Json.object().put("status", status));
    }

    private int eventCount() {
      synchronized (events) {
        return events.size();
      }
    }

    private void event(ObjectNode e) {
      synchronized (events) {
        e.put("seq", events.size());
        String type = e.path("type").asText();
        if (type.equals("done") || type.equals("failed")) {
          status = type;
        }
        events.add(Json.write(e));
        events.notifyAll();
      }
    }

    private void streamEvents(HttpExchange ex) throws IOException {
      int from = 0;
      String q = ex.getRequestURI().getRawQuery();
      if (q != null && q.startsWith("from=")) {
        try {
          from = Math.max(0, Integer.parseInt(q.substring(5)));
        } catch (NumberFormatException e) {
          send(ex, 400, Json.object().put("error", "from must be an integer"));
          return;
        }
      }
      ex.getResponseHeaders().set("Content-Type", "application/x-ndjson");
      ex.sendResponseHeaders(200, 0);
      OutputStream out = ex.getResponseBody();
      int next = from;
      while (!stopped) {
        List<String> batch = new ArrayList<>();
        boolean terminal;
        synchronized (events) {
          if (next >= events.size() && !isTerminal()) {
            try {
              events.wait(HEARTBEAT_MS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              return;
            }
          }
          while (next < events.size()) {
            batch.add(events.get(next++));
          }
          terminal = isTerminal() && next >= events.size();
        }
        if (batch.isEmpty() && !terminal) {
          batch.add("{\"type\":\"heartbeat\"}"); // keeps proxies from closing an idle stream
        }
        for (String line : batch) {
          out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        }
        out.flush();
        if (terminal) {
          return;
        }
      }
    }

    private boolean isTerminal() {
      return status.equals("done") || status.equals("failed");
    }

    private void artifact(HttpExchange ex, String name) throws IOException {
      if (!name.equals("adapter.zip") && !name.equals("merged.zip")) {
        send(ex, 404, Json.object().put("error", "no artifact " + name));
        return;
      }
      Path f = work.resolve("run/artifacts").resolve(name);
      if (!status.equals("done") || !Files.isRegularFile(f)) {
        send(ex, 404, Json.object().put("error", name + " is not ready (status " + status + ")"));
        return;
      }
      ex.getResponseHeaders().set("Content-Type", "application/zip");
      ex.sendResponseHeaders(200, Files.size(f));
      try (OutputStream out = ex.getResponseBody()) {
        Files.copy(f, out);
      }
    }

    private static void send(HttpExchange ex, int code, ObjectNode body) throws IOException {
      byte[] b = Json.write(body).getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.sendResponseHeaders(code, b.length);
      ex.getResponseBody().write(b);
    }

    /** Stops serving and stops a training run in progress at its next step, waiting for it (up to 60 s). Idempotent. */
    @Override
    public void close() {
      if (stopped) {
        return;
      }
      stopped = true;
      synchronized (events) {
        events.notifyAll();
      }
      server.stop(0);
      threads.shutdownNow();
      Thread t;
      synchronized (this) {
        t = trainer;
      }
      if (t != null) {
        // The run stops at its next step; wait for it so that nothing writes into the work dir after close.
        try {
          t.join(60_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      stop.countDown();
    }

    @Override
    public String toString() {
      return "TrainCli.JobServer[port=" + port() + ", status=" + status + "]";
    }
  }
}
