package dev.securetag.examples.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Configuration from the process environment with a {@code .env} file as fallback, the way docker-compose
 * applications are usually run locally: real environment variables win, so secrets injected by the platform are
 * never shadowed by a stale file.
 */
public final class DotEnv {
  private final Map<String, String> values;

  private DotEnv(Map<String, String> values) {
    this.values = values;
  }

  /** Reads {@code file} if it exists (KEY=VALUE lines, # comments, optional quotes) under {@code env}. */
  public static DotEnv load(Path file, Map<String, String> env) {
    Map<String, String> merged = new LinkedHashMap<>();
    if (Files.exists(file)) {
      try {
        int lineNo = 0;
        for (String raw : Files.readAllLines(file)) {
          lineNo++;
          String line = raw.strip();
          if (line.isEmpty() || line.startsWith("#")) {
            continue;
          }
          if (line.startsWith("export ")) {
            line = line.substring(7).strip();
          }
          int eq = line.indexOf('=');
          if (eq <= 0) {
            throw new IllegalArgumentException(file + ":" + lineNo + ": expected KEY=VALUE");
          }
          String key = line.substring(0, eq).strip();
          String value = line.substring(eq + 1).strip();
          if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"")
              || value.startsWith("'") && value.endsWith("'"))) {
            value = value.substring(1, value.length() - 1);
          }
          merged.put(key, value);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file, e);
      }
    }
    merged.putAll(env);
    return new DotEnv(merged);
  }

  /** The value, or {@code fallback} when unset or blank. */
  public String get(String key, String fallback) {
    String v = values.get(key);
    return v == null || v.isBlank() ? fallback : v;
  }

  /** The value; throws naming the key when it is missing. */
  public String require(String key) {
    String v = get(key, null);
    if (v == null) {
      throw new IllegalArgumentException("missing configuration " + key + " (environment or .env)");
    }
    return v;
  }

  @Override
  public String toString() {
    // Values may be secrets; only the keys are shown.
    return "DotEnv" + values.keySet();
  }
}
