package dev.securetag.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.securetag.core.internal.DaemonThreads;
import dev.securetag.core.internal.JdkHttpServers;
import dev.securetag.core.internal.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-memory RunPod management API (REST v2) on loopback for tests and local runs: pods ({@code /v2/pods}: create,
 * get, list, action, terminate, SSE logs), templates ({@code /v2/templates}) and serverless endpoints
 * ({@code /v2/serverless}), with the v2 wire shapes (wrapped lists, RFC 9457 problem errors, 201/204 codes), plus
 * RunPod's pod proxy: {@code /proxy/{podId}/{port}/...} forwards to the pod's "container".
 *
 * <p>A pod's container is whatever the {@link PodRuntime} starts — in securetag's tests the real training job server —
 * after a configurable start delay (PROVISIONING → STARTING → RUNNING; the proxy answers 502 until then). Faults:
 * refused creates (e.g. 400 no capacity), {@link #losePod(String) a pod lost mid-run} (container stopped, pod gone),
 * a slow start. Every terminate is recorded, so tests can assert that no pod was left billing.
 */
public final class FakeRunPodApi implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FakeRunPodApi.class);

  /** Starts a pod's container. */
  @FunctionalInterface
  public interface PodRuntime {
    Container start(String podId, Map<String, String> env) throws Exception;
  }

  /** A running container: where its ports answer on loopback, and its log. */
  public interface Container extends AutoCloseable {
    /** The loopback port serving {@code containerPort}, or -1. */
    int localPort(int containerPort);

    default List<String> logLines() {
      return List.of();
    }

    @Override
    void close();
  }

  private final String apiKey;
  private final PodRuntime runtime;
  private final Duration startDelay;
  private final HttpServer server;
  private final ExecutorService threads;
  private final ScheduledExecutorService scheduler;
  private final Map<String, ObjectNode> pods = new ConcurrentHashMap<>();
  private final Map<String, Container> containers = new ConcurrentHashMap<>();
  private final Map<String, ObjectNode> templates = Collections.synchronizedMap(new LinkedHashMap<>());
  private final Map<String, ObjectNode> endpoints = Collections.synchronizedMap(new LinkedHashMap<>());
  private final Set<String> terminated = ConcurrentHashMap.newKeySet();
  private final List<String> requests = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger ids = new AtomicInteger();
  private volatile int refuseCreates;
  private volatile int refuseStatus;
  private volatile String refuseDetail;

  private FakeRunPodApi(Builder b) {
    this.apiKey = b.apiKey;
    this.runtime = b.runtime;
    this.startDelay = b.startDelay;
    this.threads = DaemonThreads.cachedPool("fake-runpod-api");
    this.scheduler = DaemonThreads.scheduler("fake-runpod-api-pods");
    try {
      JdkHttpServers.enableNoDelay();
      this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    } catch (IOException e) {
      threads.shutdownNow();
      scheduler.shutdownNow();
      throw new IllegalStateException("cannot bind the fake RunPod API on loopback", e);
    }
    server.setExecutor(threads);
    server.createContext("/", this::handle);
    server.start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Base URL for {@code RunPodPods.Builder.baseUrl} / {@code RunPodEndpoints.Builder.baseUrl}. */
  public String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The proxy URL template for {@code RunPodPods.Builder.proxyUrlTemplate}. */
  public String proxyUrlTemplate() {
    return baseUrl() + "/proxy/{podId}/{port}";
  }

  /** The next {@code count} creates are refused with {@code status} and {@code detail} (e.g. 400, no capacity). */
  public FakeRunPodApi refuseCreates(int count, int status, String detail) {
    this.refuseStatus = status;
    this.refuseDetail = detail;
    this.refuseCreates = count;
    return this;
  }

  /** Simulates a host failure: the container stops and RunPod no longer knows the pod (404). */
  public void losePod(String podId) {
    pods.remove(podId);
    Container c = containers.remove(podId);
    if (c != null) {
      c.close();
    }
  }

  /** Pods that exist now (not terminated, not lost). */
  public List<String> livePods() {
    return List.copyOf(pods.keySet());
  }

  /** Pod ids that received a terminate ({@code DELETE} or action terminate), existing or not. */
  public Set<String> terminated() {
    return Set.copyOf(terminated);
  }

  /** Ids of every pod ever created. */
  public int podsCreated() {
    return (int) requests.stream().filter(r -> r.startsWith("POST /v2/pods ") || r.equals("POST /v2/pods")).count();
  }

  /** "METHOD path" of every API request (not proxied ones), in order. */
  public List<String> requests() {
    synchronized (requests) {
      return List.copyOf(requests);
    }
  }

  /** A copy of the pod's JSON as last stored, env included (for assertions). */
  public ObjectNode pod(String id) {
    ObjectNode p = pods.get(id);
    return p == null ? null : p.deepCopy();
  }

  public List<ObjectNode> templates() {
    synchronized (templates) {
      return templates.values().stream().map(ObjectNode::deepCopy).toList();
    }
  }

  public List<ObjectNode> endpoints() {
    synchronized (endpoints) {
      return endpoints.values().stream().map(ObjectNode::deepCopy).toList();
    }
  }

  // ------------------------------------------------------------------ routing

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      if (path.startsWith("/proxy/")) {
        proxy(ex, path);
        return;
      }
      requests.add(method + " " + path);
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      if (!("Bearer " + apiKey).equals(auth)) {
        problem(ex, 401, "missing bearer token");
        return;
      }
      String[] seg = path.substring(1).split("/");
      if (seg.length < 2 || !seg[0].equals("v2")) {
        problem(ex, 404, "resource not found");
        return;
      }
      JsonNode body = null;
      if (method.equals("POST") || method.equals("PATCH") || method.equals("PUT")) {
        try (InputStream in = ex.getRequestBody()) {
          String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
          body = text.isBlank() ? Json.object() : Json.mapper().readTree(text);
        } catch (IOException e) {
          problem(ex, 400, "request body is not JSON");
          return;
        }
      }
      switch (seg[1]) {
        case "pods" -> pods(ex, method, seg, body);
        case "templates" -> templates(ex, method, seg, body);
        case "serverless" -> serverless(ex, method, seg, body);
        default -> problem(ex, 404, "resource not found");
      }
    } catch (RuntimeException e) {
      LOG.warn("fake RunPod API failed on {}", ex.getRequestURI(), e);
      problem(ex, 500, "internal error: " + e.getMessage());
    }
  }

  // ------------------------------------------------------------------ pods

  private void pods(HttpExchange ex, String method, String[] seg, JsonNode body) throws IOException {
    if (seg.length == 2 && method.equals("POST")) {
      createPod(ex, body);
    } else if (seg.length == 2 && method.equals("GET")) {
      ObjectNode out = Json.object();
      ArrayNode list = out.putArray("pods");
      pods.values().forEach(p -> list.add(publicView(p)));
      json(ex, 200, out);
    } else if (seg.length == 3 && method.equals("GET")) {
      ObjectNode p = pods.get(seg[2]);
      if (p == null) {
        problem(ex, 404, "The requested Pod does not exist.");
      } else {
        json(ex, 200, publicView(p));
      }
    } else if (seg.length == 3 && method.equals("DELETE")) {
      terminated.add(seg[2]);
      if (stopPod(seg[2])) {
        ex.sendResponseHeaders(204, -1);
      } else {
        problem(ex, 404, "The requested Pod does not exist.");
      }
    } else if (seg.length == 4 && seg[3].equals("action") && method.equals("POST")) {
      podAction(ex, seg[2], body.path("action").asText());
    } else if (seg.length == 4 && seg[3].equals("logs") && method.equals("GET")) {
      podLogs(ex, seg[2]);
    } else {
      problem(ex, 405, "The requested method is not allowed for this path.");
    }
  }

  private void createPod(HttpExchange ex, JsonNode body) throws IOException {
    if (refuseCreates > 0) {
      refuseCreates--;
      problem(ex, refuseStatus, refuseDetail);
      return;
    }
    List<String> errors = new ArrayList<>();
    if (!body.path("name").isTextual()) {
      errors.add("name is required");
    }
    if (!body.path("image").isTextual() && !body.has("templateId")) {
      errors.add("image is required unless templateId is set");
    }
    if (body.has("gpu") == body.has("cpu")) {
      errors.add("exactly one of gpu or cpu must be set");
    }
    if (!errors.isEmpty()) {
      ObjectNode p = problemBody(422, "Request validation failed.");
      errors.forEach(p.putArray("errors")::add);
      json(ex, 422, p);
      return;
    }
    String id = "pod" + ids.incrementAndGet() + "x" + Long.toString(System.nanoTime() % 100000, 36);
    ObjectNode pod = ((ObjectNode) body).deepCopy();
    pod.put("id", id);
    pod.put("status", "PROVISIONING");
    pod.put("cost", 2.49);
    pod.put("createdAt", Instant.now().toString());
    pod.putNull("startedAt");
    pod.put("dataCenterId", body.path("dataCenterIds").path(0).asText("US-TX-3"));
    if (!pod.has("cloud")) {
      pod.put("cloud", "SECURE");
    }
    ((ObjectNode) pod.path("gpu")).put("vcpuCount", 16).put("memory", 125);
    pods.put(id, pod);
    scheduler.schedule(() -> boot(id), startDelay.toMillis(), TimeUnit.MILLISECONDS);
    json(ex, 201, publicView(pod));
  }

  private void boot(String id) {
    ObjectNode pod = pods.get(id);
    if (pod == null) {
      return;
    }
    pod.put("status", "STARTING");
    Map<String, String> env = new LinkedHashMap<>();
    pod.path("env").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
    try {
      Container c = runtime == null ? null : runtime.start(id, env);
      if (c != null) {
        containers.put(id, c);
      }
      if (pods.containsKey(id)) {
        pod.put("status", "RUNNING");
        pod.put("startedAt", Instant.now().toString());
      } else if (c != null) {
        containers.remove(id);
        c.close(); // terminated while starting
      }
    } catch (Exception e) {
      LOG.warn("pod {} failed to start: {}", id, e.toString());
      pod.put("status", "ERROR");
    }
  }

  private boolean stopPod(String id) {
    ObjectNode p = pods.remove(id);
    Container c = containers.remove(id);
    if (c != null) {
      c.close();
    }
    return p != null;
  }

  private void podAction(HttpExchange ex, String id, String action) throws IOException {
    ObjectNode p = pods.get(id);
    if (p == null) {
      problem(ex, 404, "The requested Pod does not exist.");
      return;
    }
    switch (action) {
      case "terminate" -> {
        terminated.add(id);
        stopPod(id);
        ex.sendResponseHeaders(204, -1);
      }
      case "stop" -> {
        Container c = containers.remove(id);
        if (c != null) {
          c.close();
        }
        p.put("status", "EXITED");
        json(ex, 200, publicView(p));
      }
      case "start", "restart" -> {
        if (action.equals("start") != PodStatusView.stopped(p)) {
          problem(ex, 409, "action " + action + " is not valid for status " + p.path("status").asText());
          return;
        }
        p.put("status", "PROVISIONING");
        scheduler.schedule(() -> boot(id), startDelay.toMillis(), TimeUnit.MILLISECONDS);
        json(ex, 200, publicView(p));
      }
      default -> problem(ex, 422, "action must be start, stop, restart or terminate");
    }
  }

  /** The SSE log stream: the container's lines as they appear, until the pod goes away. */
  private void podLogs(HttpExchange ex, String id) throws IOException {
    if (!pods.containsKey(id)) {
      problem(ex, 404, "The requested Pod does not exist.");
      return;
    }
    ex.getResponseHeaders().set("Content-Type", "text/event-stream");
    ex.getResponseHeaders().set("Cache-Control", "no-cache");
    ex.sendResponseHeaders(200, 0);
    OutputStream out = ex.getResponseBody();
    int sent = 0;
    while (pods.containsKey(id)) {
      Container c = containers.get(id);
      List<String> lines = c == null ? List.of() : c.logLines();
      for (; sent < lines.size(); sent++) {
        String ts = Instant.now().toString();
        ObjectNode d = Json.object().put("ts", ts).put("source", "container").put("line", lines.get(sent));
        out.write(("id: " + ts + "/" + sent + "\ndata: " + Json.write(d) + "\n\n").getBytes(StandardCharsets.UTF_8));
      }
      out.flush();
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static ObjectNode publicView(ObjectNode pod) {
    ObjectNode v = pod.deepCopy();
    ArrayNode actions = v.putArray("actions");
    switch (v.path("status").asText()) {
      case "RUNNING" -> List.of("stop", "restart", "terminate").forEach(actions::add);
      case "EXITED", "ERROR" -> List.of("start", "terminate").forEach(actions::add);
      default -> List.of("stop", "terminate").forEach(actions::add);
    }
    return v;
  }

  /** Status helpers. */
  private static final class PodStatusView {
    static boolean stopped(ObjectNode p) {
      String s = p.path("status").asText();
      return s.equals("EXITED") || s.equals("ERROR");
    }
  }

  // ------------------------------------------------------------------ proxy

  private void proxy(HttpExchange ex, String path) throws IOException {
    String[] seg = path.split("/", 5); // "", "proxy", podId, port, rest
    if (seg.length < 4) {
      text(ex, 404, "no such pod port");
      return;
    }
    String podId = seg[2];
    ObjectNode pod = pods.get(podId);
    if (pod == null) {
      text(ex, 404, "pod not found");
      return;
    }
    Container c = containers.get(podId);
    int local = c == null ? -1 : c.localPort(Integer.parseInt(seg[3]));
    if (!pod.path("status").asText().equals("RUNNING") || local < 0) {
      text(ex, 502, "Bad Gateway: the pod is not ready");
      return;
    }
    String rest = "/" + (seg.length > 4 ? seg[4] : "");
    String query = ex.getRequestURI().getRawQuery();
    URI target = URI.create("http://127.0.0.1:" + local + rest + (query != null ? "?" + query : ""));
    HttpURLConnection conn = (HttpURLConnection) target.toURL().openConnection();
    conn.setRequestMethod(ex.getRequestMethod());
    conn.setConnectTimeout(5000);
    conn.setReadTimeout(0);
    for (String h : List.of("Authorization", "Content-Type", "Accept")) {
      String v = ex.getRequestHeaders().getFirst(h);
      if (v != null) {
        conn.setRequestProperty(h, v);
      }
    }
    try {
      if (ex.getRequestMethod().equals("PUT") || ex.getRequestMethod().equals("POST")) {
        conn.setDoOutput(true);
        conn.setChunkedStreamingMode(64 * 1024);
        try (InputStream in = ex.getRequestBody(); OutputStream up = conn.getOutputStream()) {
          in.transferTo(up);
        }
      }
      int code = conn.getResponseCode();
      InputStream body = code >= 400 ? conn.getErrorStream() : conn.getInputStream();
      String type = conn.getContentType();
      if (type != null) {
        ex.getResponseHeaders().set("Content-Type", type);
      }
      ex.sendResponseHeaders(code, 0);
      OutputStream out = ex.getResponseBody();
      if (body != null) {
        byte[] buf = new byte[16 * 1024];
        try (body) {
          for (int r; (r = body.read(buf)) >= 0; ) {
            out.write(buf, 0, r);
            out.flush();
          }
        } catch (IOException lost) {
          // the container went away mid-response: end ours, as a proxy whose upstream died does
        }
      }
    } catch (IOException e) {
      text(ex, 502, "Bad Gateway: " + e.getMessage());
    } finally {
      conn.disconnect();
    }
  }

  // ------------------------------------------------------------------ templates

  private void templates(HttpExchange ex, String method, String[] seg, JsonNode body) throws IOException {
    if (seg.length == 2 && method.equals("GET")) {
      ObjectNode out = Json.object();
      ArrayNode list = out.putArray("templates");
      templates().forEach(list::add);
      json(ex, 200, out);
    } else if (seg.length == 2 && method.equals("POST")) {
      if (!body.path("name").isTextual() || !body.path("image").isTextual()) {
        problem(ex, 422, "Request validation failed: name and image are required.");
        return;
      }
      ObjectNode t = Json.object();
      t.put("id", "tpl" + ids.incrementAndGet());
      t.put("args", "").put("disk", 20);
      t.putArray("ports");
      t.putObject("env");
      t.putNull("registry");
      t.put("serverless", false).put("public", false).put("category", "NVIDIA").put("startSsh", true)
          .put("startJupyter", true);
      t.putArray("allowedCudaVersions");
      t.putObject("mounts");
      t.setAll((ObjectNode) body);
      templates.put(t.get("id").asText(), t);
      json(ex, 201, t);
    } else if (seg.length == 3 && (method.equals("GET") || method.equals("PATCH"))) {
      ObjectNode t = templates.get(seg[2]);
      if (t == null) {
        problem(ex, 404, "The requested template does not exist.");
        return;
      }
      if (method.equals("PATCH")) {
        t.setAll((ObjectNode) body);
      }
      json(ex, 200, t.deepCopy());
    } else {
      problem(ex, 405, "The requested method is not allowed for this path.");
    }
  }

  // ------------------------------------------------------------------ serverless endpoints

  private void serverless(HttpExchange ex, String method, String[] seg, JsonNode body) throws IOException {
    if (seg.length == 2 && method.equals("GET")) {
      ObjectNode out = Json.object();
      ArrayNode list = out.putArray("endpoints");
      endpoints().forEach(list::add);
      json(ex, 200, out);
    } else if (seg.length == 2 && method.equals("POST")) {
      createEndpoint(ex, (ObjectNode) body);
    } else if (seg.length == 3 && (method.equals("GET") || method.equals("PATCH"))) {
      ObjectNode e = endpoints.get(seg[2]);
      if (e == null) {
        problem(ex, 404, "The requested endpoint does not exist.");
        return;
      }
      if (method.equals("PATCH")) {
        String err = applyEndpoint(e, (ObjectNode) body);
        if (err != null) {
          problem(ex, Integer.parseInt(err.substring(0, 3)), err.substring(4));
          return;
        }
      }
      json(ex, 200, e.deepCopy());
    } else {
      problem(ex, 405, "The requested method is not allowed for this path.");
    }
  }

  private void createEndpoint(HttpExchange ex, ObjectNode body) throws IOException {
    List<String> errors = new ArrayList<>();
    for (String f : List.of("name", "type", "scaling")) {
      if (!body.has(f)) {
        errors.add(f + " is required");
      }
    }
    if (!body.has("image") && !body.has("templateId")) {
      errors.add("image is required unless templateId is set");
    }
    if (!errors.isEmpty()) {
      ObjectNode p = problemBody(422, "Request validation failed.");
      errors.forEach(p.putArray("errors")::add);
      json(ex, 422, p);
      return;
    }
    if (body.has("gpu") == body.has("cpu")) {
      problem(ex, 400, "exactly one of gpu or cpu must be set");
      return;
    }
    String id = "ep" + ids.incrementAndGet();
    ObjectNode e = Json.object();
    e.put("id", id);
    e.put("args", "").put("disk", 20);
    e.putArray("ports");
    e.putObject("env");
    e.putNull("registry");
    e.putObject("workers").put("min", 0).put("max", 3).put("idleTimeout", 10);
    e.putArray("dataCenterIds");
    e.putArray("networkVolumes");
    e.put("timeout", 300000).put("flashboot", "OFF").put("createdAt", Instant.now().toString());
    String err = applyEndpoint(e, body);
    if (err != null) {
      problem(ex, Integer.parseInt(err.substring(0, 3)), err.substring(4));
      return;
    }
    ObjectNode urls = e.putObject("requestUrls");
    for (String op : List.of("run", "runsync", "health")) {
      urls.put(op.equals("runsync") ? "runSync" : op, "https://api.runpod.ai/v2/" + id + "/" + op);
    }
    endpoints.put(id, e);
    json(ex, 201, e);
  }

  /** Applies a create or PATCH body the way the v2 API does (template resolved once, env merged, partial workers). */
  private String applyEndpoint(ObjectNode e, ObjectNode body) {
    ObjectNode b = body.deepCopy();
    if (b.has("templateId")) {
      ObjectNode t = templates.get(b.get("templateId").asText());
      if (t == null) {
        return "404 template " + b.get("templateId").asText() + " not found";
      }
      if (!t.path("serverless").asBoolean()) {
        return "422 template is not a serverless template";
      }
      ObjectNode env = t.path("env").deepCopy();
      if (b.has("env")) {
        env.setAll((ObjectNode) b.get("env"));
      }
      for (String f : List.of("image", "args", "disk", "ports", "registry")) {
        if (!b.has(f) && t.has(f)) {
          b.set(f, t.get(f).deepCopy());
        }
      }
      b.set("env", env);
      b.remove("templateId");
    }
    if (b.has("workers")) {
      ((ObjectNode) e.path("workers")).setAll((ObjectNode) b.remove("workers"));
    }
    if (b.has("gpu")) {
      ObjectNode g = e.has("gpu") ? (ObjectNode) e.get("gpu") : Json.object().put("count", 1);
      g.setAll((ObjectNode) b.remove("gpu"));
      if (!g.has("allowedCudaVersions")) {
        g.putArray("allowedCudaVersions");
      }
      if (!g.has("minCudaVersion")) {
        g.putNull("minCudaVersion");
      }
      e.set("gpu", g);
    }
    e.setAll(b);
    return null;
  }

  // ------------------------------------------------------------------ replies

  private static ObjectNode problemBody(int status, String detail) {
    String title = switch (status) {
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 402 -> "Payment Required";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 409 -> "Conflict";
      case 422 -> "Unprocessable Entity";
      case 429 -> "Too Many Requests";
      default -> "Internal Server Error";
    };
    return Json.object().put("title", title).put("status", status).put("detail", detail);
  }

  private static void problem(HttpExchange ex, int status, String detail) throws IOException {
    byte[] b = Json.write(problemBody(status, detail)).getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/problem+json");
    ex.sendResponseHeaders(status, b.length);
    ex.getResponseBody().write(b);
  }

  private static void json(HttpExchange ex, int status, JsonNode body) throws IOException {
    byte[] b = Json.write(body).getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, b.length);
    ex.getResponseBody().write(b);
  }

  private static void text(HttpExchange ex, int status, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "text/plain");
    ex.sendResponseHeaders(status, b.length);
    ex.getResponseBody().write(b);
  }

  /** Stops every container, the server and its threads. */
  @Override
  public void close() {
    containers.values().forEach(Container::close);
    containers.clear();
    pods.clear();
    server.stop(0);
    scheduler.shutdownNow();
    threads.shutdownNow();
  }

  /** Configures a {@link FakeRunPodApi}. */
  public static final class Builder {
    private String apiKey = "test-key";
    private PodRuntime runtime;
    private Duration startDelay = Duration.ofMillis(100);

    private Builder() {}

    /** The key requests must carry as {@code Authorization: Bearer} (default {@code test-key}). */
    public Builder apiKey(String v) {
      this.apiKey = v;
      return this;
    }

    /** Starts pod containers (none: pods run but serve nothing). */
    public Builder podRuntime(PodRuntime v) {
      this.runtime = v;
      return this;
    }

    /** Time from create until the container is started (a slow start: image pull, boot). */
    public Builder startDelay(Duration v) {
      this.startDelay = v;
      return this;
    }

    public FakeRunPodApi build() {
      return new FakeRunPodApi(this);
    }
  }
}
