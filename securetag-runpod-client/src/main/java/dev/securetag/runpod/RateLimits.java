package dev.securetag.runpod;

import dev.securetag.core.RateLimiter;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Client-side pacing per RunPod operation, so one busy client stays under the endpoint's documented limits instead of
 * collecting 429s: {@link #runPodDocumented()} uses the per-10-second rates RunPod publishes (run 1000, runsync 2000,
 * status 2000, stream 2000, cancel 100, purge-queue 2). Calls wait for a free slot within their deadline. The real
 * limit is per endpoint and shared by every client, and RunPod raises it with running workers, so this is a guard,
 * not a guarantee; 429s are still retried. Retries inside one call are not paced again. Each operation's pacing is a
 * securetag-core {@link RateLimiter} (the one limiter every securetag client uses).
 */
public final class RateLimits {
  private static final Duration TEN_SECONDS = Duration.ofSeconds(10);

  private final Map<String, RateLimiter> limiters;
  private final Map<String, String> descriptions;

  private RateLimits(Map<String, RateLimiter> limiters, Map<String, String> descriptions) {
    this.limiters = Collections.unmodifiableMap(limiters);
    this.descriptions = Collections.unmodifiableMap(descriptions);
  }

  /** No pacing (the default). */
  public static RateLimits none() {
    return new RateLimits(new LinkedHashMap<>(), new LinkedHashMap<>());
  }

  /** RunPod's documented base rates per operation and endpoint. */
  public static RateLimits runPodDocumented() {
    return none()
        .with("run", 1000, TEN_SECONDS)
        .with("runsync", 2000, TEN_SECONDS)
        .with("status", 2000, TEN_SECONDS)
        .with("stream", 2000, TEN_SECONDS)
        .with("cancel", 100, TEN_SECONDS)
        .with("purge-queue", 2, TEN_SECONDS);
  }

  /**
   * A copy with {@code operation} (the path segment: {@code run}, {@code runsync}, {@code status}, {@code stream},
   * {@code cancel}, {@code retry}, {@code purge-queue}, {@code health}) limited to {@code permits} per {@code window}.
   */
  public RateLimits with(String operation, int permits, Duration window) {
    Map<String, RateLimiter> l = new LinkedHashMap<>(limiters);
    Map<String, String> d = new LinkedHashMap<>(descriptions);
    l.put(operation, RateLimiter.of(permits, window));
    d.put(operation, permits + "/" + window.toMillis() + "ms");
    return new RateLimits(l, d);
  }

  /** The operations that are paced. */
  public Set<String> operations() {
    return limiters.keySet();
  }

  /** Nanoseconds the caller must wait before starting {@code operation} now (0 when unpaced). */
  long reserve(String operation) {
    RateLimiter l = limiters.get(operation);
    return l == null ? 0 : l.reserve(System.nanoTime());
  }

  @Override
  public String toString() {
    return "RateLimits" + descriptions;
  }
}
