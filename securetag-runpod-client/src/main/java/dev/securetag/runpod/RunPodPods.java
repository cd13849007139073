package dev.securetag.runpod;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.core.RetryPolicy;
import dev.securetag.core.internal.DaemonThreads;
import dev.securetag.core.internal.Json;
import dev.securetag.runpod.internal.Deadline;
import dev.securetag.runpod.internal.HttpSupport;
import dev.securetag.runpod.internal.Secret;
import dev.securetag.runpod.internal.Transport;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import okhttp3.Call;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client for RunPod's pods API (REST v2, {@code https://api.runpod.io/v2/pods}; the v1 API at {@code rest.runpod.io}
 * was retired on 2026-11-15): create a GPU pod, read its status, stop or restart it, terminate it, follow its logs
 * (server-sent events), and build the proxy URL of a port it exposes ({@code https://{podId}-{port}.proxy.runpod.net}).
 *
 * <pre>{@code
 * try (RunPodPods pods = RunPodPods.builder().apiKey(System.getenv("RUNPOD_API_KEY")).build()) {
 *   Pod pod = pods.create(PodSpec.builder().name("scratch").image("runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404")
 *       .gpuTypeId("NVIDIA GeForce RTX 4090").port("8888/http").build());
 *   try {
 *     ...
 *   } finally {
 *     pods.terminate(pod.id());   // a pod bills until it is terminated
 *   }
 * }
 * }</pre>
 *
 * <p>A refused create (400: no capacity for that GPU in that data center, or a rule violation; 402: no balance) is a
 * non-retriable {@link RunPodException} carrying RunPod's {@code detail}; 429 and 5xx are retried with backoff; a create
 * is only repeated when it provably did not reach RunPod, since a repeated create can start (and bill) a second pod.
 * Thread-safe. The API key is sent as a Bearer header and never appears in logs, exceptions or {@link #toString()}.
 */
public final class RunPodPods implements AutoCloseable {
  /** The REST v2 host (paths start with {@code /v2}). */
  public static final String DEFAULT_BASE_URL = "https://api.runpod.io";
  /** RunPod's HTTP proxy for pod ports; {@code {podId}} and {@code {port}} are replaced. */
  public static final String DEFAULT_PROXY_URL = "https://{podId}-{port}.proxy.runpod.net";

  private static final Logger LOG = LoggerFactory.getLogger(RunPodPods.class);

  private final HttpUrl base;
  private final String proxyTemplate;
  private final Secret apiKey;
  private final Timeouts timeouts;
  private final OkHttpClient http;
  private final OkHttpClient streaming;
  private final boolean ownsHttp;
  private final Transport transport;
  private final AtomicBoolean closed = new AtomicBoolean();

  private RunPodPods(Builder b) {
    HttpUrl u = HttpUrl.parse(b.baseUrl);
    if (u == null) {
      throw new IllegalArgumentException("RunPodPods.baseUrl is not an http(s) URL: " + b.baseUrl);
    }
    this.base = u;
    this.proxyTemplate = b.proxyUrlTemplate;
    this.apiKey = new Secret(b.apiKey);
    this.timeouts = b.timeouts;
    this.http = HttpSupport.withBearer(HttpSupport.derive(b.httpClient, timeouts.connect(), timeouts.read()), apiKey);
    // Log streams sit idle between lines: no read timeout, the caller closes them.
    this.streaming = http.newBuilder().readTimeout(Duration.ZERO).callTimeout(Duration.ZERO).build();
    this.ownsHttp = b.httpClient == null;
    this.transport = new Transport(http, b.retry, apiKey, "RunPod pods API",
        (kind, status, msg, ra, cause, id) -> new RunPodException(kind, status, msg, ra, cause, null, null));
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Creates a pod ({@code POST /v2/pods}); it starts PROVISIONING and reaches RUNNING when its container is up. The
   * pod bills from now on: terminate it.
   */
  public Pod create(PodSpec spec) {
    ensureOpen();
    Objects.requireNonNull(spec, "spec");
    Request req = new Request.Builder().url(url("pods")).post(HttpSupport.jsonBody(spec.toJson())).build();
    Pod pod = Pod.fromJson(parse(transport.call(req, false, callDeadline(), "create pod " + spec.name(), null).body(),
        "create pod"));
    LOG.info("created pod {} ({}, {}, {} $/h)", pod.id(), spec.name(), spec.gpuTypeId(), pod.costPerHour());
    return pod;
  }

  /** The pod, or empty when RunPod does not know it (never created, or terminated). */
  public Optional<Pod> get(String podId) {
    ensureOpen();
    Request req = new Request.Builder().url(url("pods", podId)).get().build();
    try {
      return Optional.of(Pod.fromJson(parse(transport.call(req, true, callDeadline(), "get pod " + podId, null).body(),
          "get pod")));
    } catch (RunPodException e) {
      if (e.kind() == Kind.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** All pods of the account ({@code GET /v2/pods}). */
  public List<Pod> list() {
    ensureOpen();
    Request req = new Request.Builder().url(url("pods")).get().build();
    JsonNode n = parse(transport.call(req, true, callDeadline(), "list pods", null).body(), "list pods");
    List<Pod> out = new ArrayList<>();
    n.path("pods").forEach(p -> out.add(Pod.fromJson(p)));
    return out;
  }

  /**
   * Terminates the pod for good ({@code DELETE /v2/pods/{id}}): compute is released and billing stops; a network
   * volume is only detached. Retried on transient failures.
   *
   * @return true when this call terminated it, false when it was already gone
   */
  public boolean terminate(String podId) {
    ensureOpen();
    Request req = new Request.Builder().url(url("pods", podId)).delete().build();
    try {
      transport.call(req, true, callDeadline(), "terminate pod " + podId, null);
      LOG.info("terminated pod {}", podId);
      return true;
    } catch (RunPodException e) {
      if (e.kind() == Kind.NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  /** {@code start}, {@code stop} or {@code restart} ({@code POST /v2/pods/{id}/action}); 409 when not valid now. */
  public Pod action(String podId, String action) {
    ensureOpen();
    if (!List.of("start", "stop", "restart").contains(action)) {
      throw new IllegalArgumentException("action must be start, stop or restart (use terminate()), was " + action);
    }
    Request req = new Request.Builder().url(url("pods", podId, "action"))
        .post(HttpSupport.jsonBody(Json.object().put("action", action))).build();
    return Pod.fromJson(parse(transport.call(req, false, callDeadline(), action + " pod " + podId, null).body(),
        action + " pod"));
  }

  /** One line of a pod's log stream. */
  public record LogLine(String source, String line, String ts) {}

  /**
   * Follows the pod's logs ({@code GET /v2/pods/{id}/logs}, server-sent events; {@code tail} earlier lines first) on a
   * daemon thread until the stream ends or the returned handle is closed.
   */
  public AutoCloseable followLogs(String podId, int tail, Consumer<LogLine> sink) {
    ensureOpen();
    HttpUrl u = url("pods", podId, "logs").newBuilder().addQueryParameter("tail", String.valueOf(tail)).build();
    Call call = streaming.newCall(new Request.Builder().url(u).header("Accept", "text/event-stream").get().build());
    Thread t = DaemonThreads.factory("runpod-pod-logs-" + podId).newThread(() -> {
      try (Response r = call.execute()) {
        if (!r.isSuccessful()) {
          LOG.debug("log stream of pod {} answered HTTP {}", podId, r.code());
          return;
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(r.body().byteStream(), StandardCharsets.UTF_8));
        StringBuilder data = new StringBuilder();
        for (String line; (line = in.readLine()) != null; ) {
          if (line.startsWith("data:")) {
            data.append(line.substring(5).strip());
          } else if (line.isEmpty() && data.length() > 0) {
            JsonNode n = Json.mapper().readTree(data.toString());
            data.setLength(0);
            sink.accept(new LogLine(n.path("source").asText("container"), n.path("line").asText(""),
                n.path("ts").asText(null)));
          }
        }
      } catch (IOException | RuntimeException e) {
        if (!call.isCanceled()) {
          LOG.debug("log stream of pod {} ended: {}", podId, apiKey.redact(String.valueOf(e.getMessage())));
        }
      }
    });
    t.start();
    return call::cancel;
  }

  /** The public URL of a pod's HTTP port through RunPod's proxy. */
  public String proxyUrl(String podId, int port) {
    return proxyTemplate.replace("{podId}", podId).replace("{port}", String.valueOf(port));
  }

  private HttpUrl url(String... segments) {
    HttpUrl.Builder b = base.newBuilder().addPathSegment("v2");
    for (String s : segments) {
      b.addPathSegment(s);
    }
    return b.build();
  }

  private JsonNode parse(String body, String what) {
    return HttpSupport.parse(transport, body, what, null);
  }

  private Deadline callDeadline() {
    return Deadline.after(timeouts.call());
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException("RunPodPods is closed");
    }
  }

  /** Releases the HTTP client when this instance created it; idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true) && ownsHttp) {
      HttpSupport.shutdownOwned(http);
    }
  }

  @Override
  public String toString() {
    return "RunPodPods[" + base + ", apiKey=" + apiKey + "]";
  }

  /** Configures {@link RunPodPods}; {@code apiKey} is required. */
  public static final class Builder {
    private String apiKey;
    private String baseUrl = DEFAULT_BASE_URL;
    private String proxyUrlTemplate = DEFAULT_PROXY_URL;
    private OkHttpClient httpClient;
    private Timeouts timeouts = Timeouts.defaults();
    private RetryPolicy retry = RetryPolicy.defaults();

    private Builder() {}

    /** The RunPod API key (sent as {@code Authorization: Bearer}). */
    public Builder apiKey(String v) {
      this.apiKey = v;
      return this;
    }

    /** The REST API host (default {@value #DEFAULT_BASE_URL}; a fake in tests). */
    public Builder baseUrl(String v) {
      this.baseUrl = v;
      return this;
    }

    /** How a pod port's URL is built (default {@value #DEFAULT_PROXY_URL}). */
    public Builder proxyUrlTemplate(String v) {
      this.proxyUrlTemplate = v;
      return this;
    }

    /** A shared client to derive from (its connection pool is reused). */
    public Builder httpClient(OkHttpClient v) {
      this.httpClient = v;
      return this;
    }

    public Builder timeouts(Timeouts v) {
      this.timeouts = v;
      return this;
    }

    public Builder retry(RetryPolicy v) {
      this.retry = v;
      return this;
    }

    public RunPodPods build() {
      if (apiKey == null || apiKey.isBlank()) {
        throw new IllegalArgumentException("RunPodPods needs an apiKey (RUNPOD_API_KEY)");
      }
      if (!proxyUrlTemplate.contains("{podId}") || !proxyUrlTemplate.contains("{port}")) {
        throw new IllegalArgumentException("proxyUrlTemplate must contain {podId} and {port}");
      }
      return new RunPodPods(this);
    }
  }
}
