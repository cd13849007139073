package dev.securetag.testing;

import java.time.Duration;
import java.util.Optional;

/**
 * A failure {@link FakeRunPodEndpoint} injects instead of answering a request: an HTTP error status (optionally with
 * {@code Retry-After} and a body), or a dropped connection (closed before any response byte).
 */
public final class Fault {
  private final int status;
  private final Duration retryAfter;
  private final String body;
  private final boolean drop;
  private final boolean echoAuthorization;

  private Fault(int status, Duration retryAfter, String body, boolean drop, boolean echoAuthorization) {
    this.status = status;
    this.retryAfter = retryAfter;
    this.body = body;
    this.drop = drop;
    this.echoAuthorization = echoAuthorization;
  }

  /** Answers with this HTTP status and a small JSON error body. */
  public static Fault status(int status) {
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException("fault status must be 4xx or 5xx: " + status);
    }
    return new Fault(status, null, "{\"error\":\"injected fault " + status + "\"}", false, false);
  }

  /** HTTP 429 with {@code Retry-After} in whole seconds (RunPod does not document the header; servers in front may send it). */
  public static Fault rateLimited(Duration retryAfter) {
    return new Fault(429, retryAfter, "{\"error\":\"Too Many Requests\"}", false, false);
  }

  /** HTTP 429 without Retry-After. */
  public static Fault rateLimited() {
    return new Fault(429, null, "{\"error\":\"Too Many Requests\"}", false, false);
  }

  /** Closes the connection without answering. */
  public static Fault drop() {
    return new Fault(0, null, null, true, false);
  }

  /** Same status, but the body echoes the request's Authorization header (to test that clients redact it). */
  public Fault echoingAuthorization() {
    return new Fault(status, retryAfter, body, drop, true);
  }

  /** Same status with a custom body. */
  public Fault withBody(String newBody) {
    return new Fault(status, retryAfter, newBody, drop, echoAuthorization);
  }

  public int statusCode() {
    return status;
  }

  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  public Optional<String> body() {
    return Optional.ofNullable(body);
  }

  public boolean isDrop() {
    return drop;
  }

  public boolean echoesAuthorization() {
    return echoAuthorization;
  }

  @Override
  public String toString() {
    return drop ? "Fault{drop}" : "Fault{" + status + (retryAfter != null ? ", Retry-After=" + retryAfter : "") + "}";
  }
}
