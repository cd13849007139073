package dev.securetag.runpod;

import java.util.Locale;

/** Lifecycle status of a RunPod pod (REST v2 {@code Pod.status}); {@link #UNKNOWN} for values this SDK does not know. */
public enum PodStatus {
  PROVISIONING, STARTING, RUNNING, EXITED, ERROR, TERMINATED, UNKNOWN;

  /** Parses the API value, {@link #UNKNOWN} when absent or new. */
  public static PodStatus parse(String s) {
    if (s == null) {
      return UNKNOWN;
    }
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return UNKNOWN;
    }
  }

  /** True when the container is gone or dead and will not come back by itself. */
  public boolean isGone() {
    return this == EXITED || this == ERROR || this == TERMINATED;
  }
}
