package dev.securetag.runpod;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The answer of {@code GET /health}: job counters ({@code completed, failed, inProgress, inQueue, retried}) and
 * worker counters ({@code idle, running, initializing, ready, throttled, ...}, kept as a map because RunPod adds keys).
 */
public record EndpointHealth(Map<String, Long> jobs, Map<String, Long> workers) {

  public EndpointHealth {
    jobs = Collections.unmodifiableMap(new LinkedHashMap<>(jobs));
    workers = Collections.unmodifiableMap(new LinkedHashMap<>(workers));
  }

  /** Parses the health JSON. */
  public static EndpointHealth fromJson(JsonNode node) {
    return new EndpointHealth(counters(node.get("jobs")), counters(node.get("workers")));
  }

  private static Map<String, Long> counters(JsonNode n) {
    Map<String, Long> m = new LinkedHashMap<>();
    if (n != null && n.isObject()) {
      n.properties().forEach(e -> m.put(e.getKey(), e.getValue().asLong()));
    }
    return m;
  }

  public long jobsInQueue() {
    return jobs.getOrDefault("inQueue", 0L);
  }

  public long jobsInProgress() {
    return jobs.getOrDefault("inProgress", 0L);
  }

  /** Workers ready to take a job right now ({@code idle + ready}). */
  public long workersIdle() {
    return workers.getOrDefault("idle", 0L) + workers.getOrDefault("ready", 0L);
  }

  public long workersRunning() {
    return workers.getOrDefault("running", 0L);
  }

  /** True when no worker is up, so the next job pays a cold start. */
  public boolean isCold() {
    return workers.values().stream().mapToLong(Long::longValue).sum() - workers.getOrDefault("throttled", 0L) == 0;
  }
}
