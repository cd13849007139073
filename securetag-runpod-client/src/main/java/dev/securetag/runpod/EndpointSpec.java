package dev.securetag.runpod;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.internal.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The serverless endpoint to deploy for the generated worker assets ({@code DeploymentAssets}): the worker image you
 * built and pushed from them, GPU pools, worker counts, idle timeout, execution timeout and the network volume that
 * holds the GGUF (when the assets were generated for network-volume storage). {@link RunPodEndpoints#deploy} turns it
 * into a serverless template and a queue endpoint. Environment values never appear in {@link #toString()} or plans.
 *
 * <pre>{@code
 * EndpointSpec spec = EndpointSpec.builder().name("securetag").image("ghcr.io/acme/securetag-worker:1.0")
 *     .gpuPools("ADA_24", "AMPERE_24").workers(0, 3).idleTimeoutSeconds(5)
 *     .networkVolume("vol_abc123").dataCenterId("EU-RO-1").build();
 * }</pre>
 */
public final class EndpointSpec {
  private final String name;
  private final String templateName;
  private final String image;
  private final List<String> gpuPools;
  private final int gpuCount;
  private final int workersMin;
  private final int workersMax;
  private final int idleTimeoutSeconds;
  private final int executionTimeoutMs;
  private final double queueDelaySeconds;
  private final String flashboot;
  private final String networkVolumeId;
  private final List<String> dataCenterIds;
  private final int diskGb;
  private final Map<String, String> env;
  private final String registryId;

  private EndpointSpec(Builder b) {
    this.name = b.name;
    this.templateName = b.templateName != null ? b.templateName : b.name + "-worker";
    this.image = b.image;
    this.gpuPools = List.copyOf(b.gpuPools);
    this.gpuCount = b.gpuCount;
    this.workersMin = b.workersMin;
    this.workersMax = b.workersMax;
    this.idleTimeoutSeconds = b.idleTimeoutSeconds;
    this.executionTimeoutMs = b.executionTimeoutMs;
    this.queueDelaySeconds = b.queueDelaySeconds;
    this.flashboot = b.flashboot;
    this.networkVolumeId = b.networkVolumeId;
    this.dataCenterIds = List.copyOf(b.dataCenterIds);
    this.diskGb = b.diskGb;
    this.env = Map.copyOf(b.env);
    this.registryId = b.registryId;
  }

  public static Builder builder() {
    return new Builder();
  }

  public String name() {
    return name;
  }

  public String templateName() {
    return templateName;
  }

  public String image() {
    return image;
  }

  public List<String> gpuPools() {
    return gpuPools;
  }

  public int workersMin() {
    return workersMin;
  }

  public int workersMax() {
    return workersMax;
  }

  public int idleTimeoutSeconds() {
    return idleTimeoutSeconds;
  }

  public String networkVolumeId() {
    return networkVolumeId;
  }

  /** The serverless template this spec needs ({@code CreateTemplateRequest}). */
  public ObjectNode templateJson() {
    ObjectNode t = Json.object();
    t.put("name", templateName);
    t.put("image", image);
    t.put("disk", diskGb);
    ObjectNode e = t.putObject("env");
    new TreeMap<>(env).forEach(e::put);
    t.putArray("ports");
    t.put("serverless", true);
    t.put("category", "NVIDIA");
    // A worker needs neither: both would inject env (PUBLIC_KEY, JUPYTER_PASSWORD) into every worker.
    t.put("startSsh", false);
    t.put("startJupyter", false);
    if (registryId != null) {
      t.put("registry", registryId);
    }
    return t;
  }

  /** The endpoint settings ({@code CreateEndpointRequest} without {@code templateId}). */
  public ObjectNode endpointJson() {
    ObjectNode n = Json.object();
    n.put("name", name);
    n.put("type", "QUEUE");
    ObjectNode gpu = n.putObject("gpu");
    ArrayNode pools = gpu.putArray("pools");
    gpuPools.forEach(pools::add);
    gpu.put("count", gpuCount);
    n.putObject("workers").put("min", workersMin).put("max", workersMax).put("idleTimeout", idleTimeoutSeconds);
    n.putObject("scaling").put("type", "QUEUE_DELAY").put("queueDelay", queueDelaySeconds);
    ArrayNode vols = n.putArray("networkVolumes");
    if (networkVolumeId != null) {
      vols.add(networkVolumeId);
    }
    ArrayNode dcs = n.putArray("dataCenterIds");
    dataCenterIds.forEach(dcs::add);
    n.put("timeout", executionTimeoutMs);
    n.put("flashboot", flashboot);
    return n;
  }

  /** Environment keys (values are not shown anywhere). */
  public List<String> envKeys() {
    return new ArrayList<>(new TreeMap<>(env).keySet());
  }

  Map<String, String> env() {
    return env;
  }

  @Override
  public String toString() {
    return "EndpointSpec{name=" + name + ", image=" + image + ", gpuPools=" + gpuPools + " x" + gpuCount + ", workers="
        + workersMin + ".." + workersMax + ", idleTimeout=" + idleTimeoutSeconds + "s, volume=" + networkVolumeId
        + ", env=" + envKeys() + "}";
  }

  /** Builds an {@link EndpointSpec}; {@code name}, {@code image} and at least one GPU pool are required. */
  public static final class Builder {
    private String name;
    private String templateName;
    private String image;
    private final List<String> gpuPools = new ArrayList<>();
    private int gpuCount = 1;
    private int workersMin = 0;
    private int workersMax = 3;
    private int idleTimeoutSeconds = 5;
    private int executionTimeoutMs = 600_000;
    private double queueDelaySeconds = 4;
    private String flashboot = "FLASHBOOT";
    private String networkVolumeId;
    private final List<String> dataCenterIds = new ArrayList<>();
    private int diskGb = 20;
    private final Map<String, String> env = new LinkedHashMap<>();
    private String registryId;

    private Builder() {}

    /** The endpoint's name, which is also how a later deploy finds it again. */
    public Builder name(String v) {
      this.name = v;
      return this;
    }

    /** The serverless template's name (default {@code <name>-worker}). */
    public Builder templateName(String v) {
      this.templateName = v;
      return this;
    }

    /** The worker image built from the deployment assets and pushed to a registry. */
    public Builder image(String v) {
      this.image = v;
      return this;
    }

    /** Serverless GPU pool ids, in preference order (the catalog's {@code pool}: e.g. ADA_24, AMPERE_48, HOPPER_141). */
    public Builder gpuPools(String... pools) {
      gpuPools.clear();
      gpuPools.addAll(List.of(pools));
      return this;
    }

    public Builder gpuCount(int v) {
      this.gpuCount = v;
      return this;
    }

    /** Minimum (always-on, billed) and maximum workers (defaults 0 and 3). */
    public Builder workers(int min, int max) {
      this.workersMin = min;
      this.workersMax = max;
      return this;
    }

    /** Seconds an idle worker stays up after a job (1-3600, default 5). */
    public Builder idleTimeoutSeconds(int v) {
      this.idleTimeoutSeconds = v;
      return this;
    }

    /** Per-job execution timeout in milliseconds (default 600000). */
    public Builder executionTimeoutMs(int v) {
      this.executionTimeoutMs = v;
      return this;
    }

    /** Scale up when jobs wait longer than this in the queue (default 4 s). */
    public Builder queueDelaySeconds(double v) {
      this.queueDelaySeconds = v;
      return this;
    }

    /** {@code OFF}, {@code FLASHBOOT} (default) or {@code PRIORITY_FLASHBOOT}. */
    public Builder flashboot(String v) {
      this.flashboot = v;
      return this;
    }

    /** The network volume with the GGUF (mounted at /runpod-volume in workers); pin its data center too. */
    public Builder networkVolume(String v) {
      this.networkVolumeId = v;
      return this;
    }

    public Builder dataCenterId(String v) {
      dataCenterIds.add(v);
      return this;
    }

    /** Container disk per worker in GB (default 20). */
    public Builder diskGb(int v) {
      this.diskGb = v;
      return this;
    }

    /** Worker environment (e.g. SECURETAG_HANDLER_MODE=stream); values are never printed. */
    public Builder env(String key, String value) {
      env.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
      return this;
    }

    /** Container registry credential id, for a private image. */
    public Builder registryId(String v) {
      this.registryId = v;
      return this;
    }

    public EndpointSpec build() {
      if (name == null || name.isBlank() || image == null || image.isBlank()) {
        throw new IllegalArgumentException("EndpointSpec needs a name and the worker image");
      }
      if (gpuPools.isEmpty()) {
        throw new IllegalArgumentException("EndpointSpec needs at least one GPU pool (e.g. ADA_24)");
      }
      if (workersMin < 0 || workersMax < 1 || workersMin > workersMax) {
        throw new IllegalArgumentException("EndpointSpec workers must satisfy 0 <= min <= max, max >= 1");
      }
      if (idleTimeoutSeconds < 1 || idleTimeoutSeconds > 3600) {
        throw new IllegalArgumentException("EndpointSpec idleTimeoutSeconds must be 1..3600");
      }
      if (!List.of("OFF", "FLASHBOOT", "PRIORITY_FLASHBOOT").contains(flashboot)) {
        throw new IllegalArgumentException("EndpointSpec flashboot must be OFF, FLASHBOOT or PRIORITY_FLASHBOOT");
      }
      if (gpuCount < 1 || diskGb < 1 || executionTimeoutMs < 5000 || queueDelaySeconds < 0.5) {
        throw new IllegalArgumentException("EndpointSpec gpuCount, diskGb >= 1, executionTimeoutMs >= 5000,"
            + " queueDelaySeconds >= 0.5");
      }
      return new EndpointSpec(this);
    }
  }
}
