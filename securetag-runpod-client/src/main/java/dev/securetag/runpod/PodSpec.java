package dev.securetag.runpod;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.internal.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What pod to create ({@code POST /v2/pods}, REST v2 {@code CreatePodRequest}): image, one GPU type, container disk,
 * an optional network volume, exposed ports and environment. Environment values are never printed by
 * {@link #toString()}.
 *
 * <pre>{@code
 * PodSpec spec = PodSpec.builder().name("securetag-train").image("ghcr.io/you/securetag-trainer:0.1.0")
 *     .gpuTypeId("NVIDIA H100 80GB HBM3").networkVolume("vol_abc123", "/runpod-volume").dataCenterId("EU-RO-1")
 *     .build();
 * }</pre>
 */
public final class PodSpec {
  /** RunPod's usual mount point for a network volume. */
  public static final String DEFAULT_VOLUME_PATH = "/runpod-volume";

  private final String name;
  private final String image;
  private final String gpuTypeId;
  private final int gpuCount;
  private final String cloud;
  private final int diskGb;
  private final String networkVolumeId;
  private final String volumePath;
  private final List<String> ports;
  private final Map<String, String> env;
  private final List<String> dataCenterIds;
  private final String args;

  private PodSpec(Builder b) {
    this.name = b.name;
    this.image = b.image;
    this.gpuTypeId = b.gpuTypeId;
    this.gpuCount = b.gpuCount;
    this.cloud = b.cloud;
    this.diskGb = b.diskGb;
    this.networkVolumeId = b.networkVolumeId;
    this.volumePath = b.volumePath;
    this.ports = List.copyOf(b.ports);
    this.env = Map.copyOf(b.env);
    this.dataCenterIds = List.copyOf(b.dataCenterIds);
    this.args = b.args;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this spec's values, to derive a variant. */
  public Builder toBuilder() {
    Builder b = new Builder().name(name).image(image).gpuTypeId(gpuTypeId).gpuCount(gpuCount).cloud(cloud)
        .diskGb(diskGb).args(args);
    if (networkVolumeId != null) {
      b.networkVolume(networkVolumeId, volumePath);
    }
    ports.forEach(b::port);
    env.forEach(b::env);
    dataCenterIds.forEach(b::dataCenterId);
    return b;
  }

  public String name() {
    return name;
  }

  public String image() {
    return image;
  }

  public String gpuTypeId() {
    return gpuTypeId;
  }

  public List<String> ports() {
    return ports;
  }

  public Map<String, String> env() {
    return env;
  }

  public String networkVolumeId() {
    return networkVolumeId;
  }

  /** The REST v2 request body. */
  public ObjectNode toJson() {
    ObjectNode n = Json.object();
    n.put("name", name);
    n.put("image", image);
    n.putObject("gpu").put("id", gpuTypeId).put("count", gpuCount);
    n.put("cloud", cloud);
    n.put("disk", diskGb);
    if (networkVolumeId != null) {
      n.putObject("mounts").putArray("network").addObject().put("volumeId", networkVolumeId).put("path", volumePath);
    }
    if (!ports.isEmpty()) {
      ArrayNode p = n.putArray("ports");
      ports.forEach(p::add);
    }
    if (!env.isEmpty()) {
      ObjectNode e = n.putObject("env");
      new java.util.TreeMap<>(env).forEach(e::put);
    }
    if (!dataCenterIds.isEmpty()) {
      ArrayNode d = n.putArray("dataCenterIds");
      dataCenterIds.forEach(d::add);
    }
    if (args != null) {
      n.put("args", args);
    }
    return n;
  }

  @Override
  public String toString() {
    return "PodSpec{name=" + name + ", image=" + image + ", gpu=" + gpuCount + "x " + gpuTypeId + ", cloud=" + cloud
        + ", disk=" + diskGb + "GB" + (networkVolumeId != null ? ", volume=" + networkVolumeId + " at " + volumePath : "")
        + ", ports=" + ports + ", env=" + new java.util.TreeSet<>(env.keySet()) + ", dataCenters=" + dataCenterIds + "}";
  }

  /** Builds a {@link PodSpec}; {@code name}, {@code image} and {@code gpuTypeId} are required. */
  public static final class Builder {
    private String name;
    private String image;
    private String gpuTypeId;
    private int gpuCount = 1;
    private String cloud = "SECURE";
    private int diskGb = 50;
    private String networkVolumeId;
    private String volumePath = DEFAULT_VOLUME_PATH;
    private final List<String> ports = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private final List<String> dataCenterIds = new ArrayList<>();
    private String args;

    private Builder() {}

    public Builder name(String v) {
      this.name = v;
      return this;
    }

    /** The container image (for training: the securetag trainer image, see the module README). */
    public Builder image(String v) {
      this.image = v;
      return this;
    }

    /** A GPU type id as in the catalog, e.g. {@code "NVIDIA GeForce RTX 4090"}, {@code "NVIDIA H100 80GB HBM3"}. */
    public Builder gpuTypeId(String v) {
      this.gpuTypeId = v;
      return this;
    }

    public Builder gpuCount(int v) {
      this.gpuCount = v;
      return this;
    }

    /** {@code SECURE} (default) or {@code COMMUNITY}. */
    public Builder cloud(String v) {
      this.cloud = v;
      return this;
    }

    /** Container disk in GB (ephemeral; default 50). */
    public Builder diskGb(int v) {
      this.diskGb = v;
      return this;
    }

    /** Attaches an existing network volume (it must be in the pod's data center) at {@code path}. */
    public Builder networkVolume(String volumeId, String path) {
      this.networkVolumeId = volumeId;
      this.volumePath = path == null ? DEFAULT_VOLUME_PATH : path;
      return this;
    }

    /** An exposed port, {@code "8080/http"} or {@code "22/tcp"}. */
    public Builder port(String v) {
      if (!ports.contains(v)) {
        ports.add(v);
      }
      return this;
    }

    public Builder env(String key, String value) {
      env.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
      return this;
    }

    /** A preferred data center (pin the volume's data center when a network volume is attached). */
    public Builder dataCenterId(String v) {
      dataCenterIds.add(v);
      return this;
    }

    /** Arguments passed to the image's entrypoint. */
    public Builder args(String v) {
      this.args = v;
      return this;
    }

    public PodSpec build() {
      if (name == null || name.isBlank() || image == null || image.isBlank() || gpuTypeId == null
          || gpuTypeId.isBlank()) {
        throw new IllegalArgumentException("PodSpec needs name, image and gpuTypeId");
      }
      if (gpuCount < 1 || diskGb < 1) {
        throw new IllegalArgumentException("PodSpec gpuCount and diskGb must be >= 1");
      }
      if (!cloud.equals("SECURE") && !cloud.equals("COMMUNITY")) {
        throw new IllegalArgumentException("PodSpec cloud must be SECURE or COMMUNITY, was " + cloud);
      }
      for (String p : ports) {
        if (!p.matches("\\d{1,5}/(http|tcp)")) {
          throw new IllegalArgumentException("PodSpec port must look like 8080/http or 22/tcp, was " + p);
        }
      }
      return new PodSpec(this);
    }
  }
}
