package dev.securetag.testing.internal;

import com.sun.net.httpserver.HttpExchange;
import dev.securetag.core.internal.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Replies and request details on the JDK server's exchanges, as the fakes write them. */
public final class Exchanges {
  private Exchanges() {}

  /** A JSON reply ({@code Content-Type: application/json}); an empty body is sent as no body. */
  public static void send(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  /** RunPod's error body {@code {"error": message}}. */
  public static String error(String message) {
    return Json.write(Json.object().put("error", message));
  }

  /** The {@code wait} query parameter in milliseconds, clamped to RunPod's 1 s to 300 s; {@code dflt} when absent. */
  public static Duration waitParam(URI uri, Duration dflt) {
    String q = uri.getQuery();
    if (q != null) {
      for (String kv : q.split("&")) {
        if (kv.startsWith("wait=")) {
          try {
            long ms = Long.parseLong(kv.substring(5));
            return Duration.ofMillis(Math.max(1000, Math.min(300_000, ms)));
          } catch (NumberFormatException e) {
            return dflt;
          }
        }
      }
    }
    return dflt;
  }
}
