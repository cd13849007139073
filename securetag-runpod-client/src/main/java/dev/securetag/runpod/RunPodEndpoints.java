package dev.securetag.runpod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.RetryPolicy;
import dev.securetag.core.internal.Json;
import dev.securetag.runpod.internal.Deadline;
import dev.securetag.runpod.internal.HttpSupport;
import dev.securetag.runpod.internal.Secret;
import dev.securetag.runpod.internal.Transport;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deploys the serverless endpoint for the generated worker assets through RunPod's management API (REST v2:
 * {@code /v2/templates}, {@code /v2/serverless}), idempotently: the template and the endpoint are found by name,
 * created when missing, updated (PATCH) only in what differs, and left alone when they already match. The endpoint id
 * it returns is what {@link RunPodClient.Builder#endpointId} takes.
 *
 * <pre>{@code
 * try (RunPodEndpoints api = RunPodEndpoints.builder().apiKey(System.getenv("RUNPOD_API_KEY")).build()) {
 *   RunPodEndpoints.Deployment d = api.deploy(EndpointSpec.builder().name("securetag")
 *       .image("ghcr.io/acme/securetag-worker:1.0").gpuPools("ADA_24").workers(0, 3).idleTimeoutSeconds(5)
 *       .networkVolume("vol_abc123").dataCenterId("EU-RO-1").build());
 *   RunPodClient client = RunPodClient.builder().endpointId(d.endpointId()).apiKey(...).build();
 * }
 * }</pre>
 *
 * <p>RunPod applies a template to an endpoint once, when it is named in a create or update ("later template edits do
 * not affect the endpoint"), so a changed image or environment is re-applied to the endpoint here as well. Environment
 * comparison is a subset check (RunPod may add variables of its own); a variable removed from the spec is not removed
 * from a live endpoint. Environment values are never logged.
 */
public final class RunPodEndpoints implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RunPodEndpoints.class);

  /** What a deploy did to one resource. */
  public enum Action { CREATED, UPDATED, UNCHANGED }

  /**
   * The deployed endpoint.
   *
   * @param changes the endpoint fields an update changed (empty when created or unchanged)
   */
  public record Deployment(String endpointId, String templateId, Action template, Action endpoint,
      List<String> changes) {
    public Deployment {
      changes = List.copyOf(changes);
    }
  }

  private final HttpUrl base;
  private final Secret apiKey;
  private final Timeouts timeouts;
  private final OkHttpClient http;
  private final boolean ownsHttp;
  private final Transport transport;
  private final AtomicBoolean closed = new AtomicBoolean();

  private RunPodEndpoints(Builder b) {
    HttpUrl u = HttpUrl.parse(b.baseUrl);
    if (u == null) {
      throw new IllegalArgumentException("RunPodEndpoints.baseUrl is not an http(s) URL: " + b.baseUrl);
    }
    this.base = u;
    this.apiKey = new Secret(b.apiKey);
    this.timeouts = b.timeouts;
    this.http = HttpSupport.withBearer(HttpSupport.derive(b.httpClient, timeouts.connect(), timeouts.read()), apiKey);
    this.ownsHttp = b.httpClient == null;
    this.transport = new Transport(http, b.retry, apiKey, "RunPod management API",
        (kind, status, msg, ra, cause, id) -> new RunPodException(kind, status, msg, ra, cause, null, null));
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Creates or updates the template and the endpoint so that they match {@code spec}; returns the endpoint id. */
  public Deployment deploy(EndpointSpec spec) {
    ensureOpen();
    Objects.requireNonNull(spec, "spec");
    ObjectNode wantTemplate = spec.templateJson();
    JsonNode template = findOne("templates", "templates", spec.templateName());
    Action templateAction;
    if (template == null) {
      template = call("POST", url("templates"), wantTemplate, "create template " + spec.templateName());
      templateAction = Action.CREATED;
    } else if (!templateMatches(template, wantTemplate)) {
      template = call("PATCH", url("templates", template.path("id").asText()), wantTemplate,
          "update template " + spec.templateName());
      templateAction = Action.UPDATED;
    } else {
      templateAction = Action.UNCHANGED;
    }
    String templateId = template.path("id").asText();

    JsonNode endpoint = findOne("serverless", "endpoints", spec.name());
    ObjectNode want = spec.endpointJson();
    Action endpointAction;
    List<String> changes = new ArrayList<>();
    if (endpoint == null) {
      want.put("templateId", templateId);
      endpoint = call("POST", url("serverless"), want, "create endpoint " + spec.name());
      endpointAction = Action.CREATED;
    } else {
      ObjectNode patch = Json.object();
      diff(endpoint, want, wantTemplate, spec, templateId, patch, changes);
      if (changes.isEmpty()) {
        endpointAction = Action.UNCHANGED;
      } else {
        endpoint = call("PATCH", url("serverless", endpoint.path("id").asText()), patch,
            "update endpoint " + spec.name());
        endpointAction = Action.UPDATED;
      }
    }
    String endpointId = endpoint.path("id").asText();
    LOG.info("RunPod endpoint {} ({}): template {} {}, endpoint {}{}", spec.name(), endpointId, templateId,
        templateAction.name().toLowerCase(Locale.ROOT), endpointAction.name().toLowerCase(Locale.ROOT),
        changes.isEmpty() ? "" : " " + changes);
    return new Deployment(endpointId, templateId, templateAction, endpointAction, changes);
  }

  /** What {@link #deploy} would create for {@code spec}, for a dry run; needs no API key and shows no env values. */
  public static String plan(EndpointSpec spec) {
    ObjectNode e = spec.endpointJson();
    return "RunPod serverless deployment (created, or updated where it differs, by name):\n"
        + "  template " + spec.templateName() + ": image " + spec.image() + ", disk "
        + spec.templateJson().path("disk").asInt() + " GB, env " + spec.envKeys() + ", serverless\n"
        + "  endpoint " + spec.name() + " (queue): GPU pools " + e.at("/gpu/pools") + " x" + e.at("/gpu/count")
        + ", workers " + spec.workersMin() + ".." + spec.workersMax() + ", idle timeout " + spec.idleTimeoutSeconds()
        + " s, execution timeout " + e.path("timeout").asInt() / 1000 + " s, scale at queue delay "
        + e.at("/scaling/queueDelay").asDouble() + " s, flashboot " + e.path("flashboot").asText()
        + (spec.networkVolumeId() != null ? ", network volume " + spec.networkVolumeId() : ", no network volume")
        + (e.path("dataCenterIds").isEmpty() ? "" : ", data centers " + e.path("dataCenterIds")) + "\n";
  }

  private static boolean templateMatches(JsonNode have, ObjectNode want) {
    return have.path("image").asText().equals(want.path("image").asText())
        && have.path("disk").asInt() == want.path("disk").asInt()
        && have.path("env").equals(want.path("env"))
        && have.path("serverless").asBoolean(false)
        && Objects.equals(have.path("registry").asText(null), want.path("registry").asText(null));
  }

  private static void diff(JsonNode have, ObjectNode want, ObjectNode template, EndpointSpec spec, String templateId,
      ObjectNode patch, List<String> changes) {
    boolean container = false;
    if (!have.path("image").asText().equals(template.path("image").asText())) {
      changes.add("image");
      container = true;
    }
    if (have.path("disk").asInt() != template.path("disk").asInt()) {
      changes.add("disk");
      container = true;
    }
    for (Map.Entry<String, String> e : spec.env().entrySet()) {
      if (!e.getValue().equals(have.path("env").path(e.getKey()).asText(null))) {
        changes.add("env");
        container = true;
        break;
      }
    }
    if (container) {
      // Re-applies the template's image, disk and env: RunPod copies a template into an endpoint only when named.
      patch.put("templateId", templateId);
    }
    JsonNode hg = have.path("gpu");
    if (!hg.path("pools").equals(want.at("/gpu/pools")) || hg.path("count").asInt(1) != want.at("/gpu/count").asInt()) {
      changes.add("gpu");
      patch.set("gpu", want.get("gpu"));
    }
    JsonNode hw = have.path("workers");
    JsonNode ww = want.get("workers");
    if (hw.path("min").asInt(-1) != ww.path("min").asInt() || hw.path("max").asInt(-1) != ww.path("max").asInt()
        || hw.path("idleTimeout").asInt(-1) != ww.path("idleTimeout").asInt()) {
      changes.add("workers");
      patch.set("workers", ww);
    }
    JsonNode hs = have.path("scaling");
    if (!hs.path("type").asText().equals("QUEUE_DELAY")
        || hs.path("queueDelay").asDouble() != want.at("/scaling/queueDelay").asDouble()) {
      changes.add("scaling");
      patch.set("scaling", want.get("scaling"));
    }
    for (String f : List.of("networkVolumes", "dataCenterIds")) {
      if (!asSet(have.path(f)).equals(asSet(want.get(f)))) {
        changes.add(f);
        patch.set(f, want.get(f));
      }
    }
    if (have.path("timeout").asLong() != want.path("timeout").asLong()) {
      changes.add("timeout");
      patch.set("timeout", want.get("timeout"));
    }
    if (!have.path("flashboot").asText().equals(want.path("flashboot").asText())) {
      changes.add("flashboot");
      patch.set("flashboot", want.get("flashboot"));
    }
  }

  private static java.util.Set<String> asSet(JsonNode array) {
    java.util.Set<String> s = new HashSet<>();
    array.forEach(n -> s.add(n.asText()));
    return s;
  }

  /** The one resource with this name, null when none; two with the name is an error (which one to update?). */
  private JsonNode findOne(String collection, String key, String name) {
    JsonNode list = call("GET", url(collection), null, "list " + collection);
    List<JsonNode> found = new ArrayList<>();
    list.path(key).forEach(n -> {
      if (name.equals(n.path("name").asText())) {
        found.add(n);
      }
    });
    if (found.size() > 1) {
      List<String> ids = found.stream().map(n -> n.path("id").asText()).toList();
      throw new IllegalStateException(found.size() + " RunPod " + collection + " are named " + name + " " + ids
          + ": rename or delete all but one, so a deploy knows which to update");
    }
    return found.isEmpty() ? null : found.get(0);
  }

  private JsonNode call(String method, HttpUrl url, ObjectNode body, String what) {
    ObjectNode b = body;
    Request.Builder r = new Request.Builder().url(url);
    switch (method) {
      case "GET" -> r.get();
      case "POST" -> r.post(HttpSupport.jsonBody(b));
      default -> r.method(method, HttpSupport.jsonBody(b));
    }
    // Creates are not idempotent; GET and PATCH (same body, same result) are.
    String reply = transport.call(r.build(), !method.equals("POST"), Deadline.after(timeouts.call()), what, null).body();
    return HttpSupport.parse(transport, reply, what, null);
  }

  private HttpUrl url(String... segments) {
    HttpUrl.Builder b = base.newBuilder().addPathSegment("v2");
    for (String s : segments) {
      b.addPathSegment(s);
    }
    return b.build();
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException("RunPodEndpoints is closed");
    }
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true) && ownsHttp) {
      HttpSupport.shutdownOwned(http);
    }
  }

  @Override
  public String toString() {
    return "RunPodEndpoints[" + base + ", apiKey=" + apiKey + "]";
  }

  /** Configures {@link RunPodEndpoints}; {@code apiKey} is required. */
  public static final class Builder {
    private String apiKey;
    private String baseUrl = RunPodPods.DEFAULT_BASE_URL;
    private OkHttpClient httpClient;
    private Timeouts timeouts = Timeouts.defaults();
    private RetryPolicy retry = RetryPolicy.defaults();

    private Builder() {}

    public Builder apiKey(String v) {
      this.apiKey = v;
      return this;
    }

    /** The REST API host (default {@code https://api.runpod.io}; a fake in tests). */
    public Builder baseUrl(String v) {
      this.baseUrl = v;
      return this;
    }

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

    public RunPodEndpoints build() {
      if (apiKey == null || apiKey.isBlank()) {
        throw new IllegalArgumentException("RunPodEndpoints needs an apiKey (RUNPOD_API_KEY)");
      }
      return new RunPodEndpoints(this);
    }
  }
}
