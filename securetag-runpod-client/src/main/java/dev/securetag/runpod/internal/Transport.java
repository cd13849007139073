package dev.securetag.runpod.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.core.RemoteServiceException;
import dev.securetag.core.RetryPolicy;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executes HTTP calls with the retry policy and a whole-call deadline, and turns failures into typed
 * {@link RemoteServiceException}s whose messages are scrubbed of the credential. Shared by the RunPod, Ollama and
 * OpenAI-compatible clients.
 */
public final class Transport {
  private static final Logger LOG = LoggerFactory.getLogger(Transport.class);

  /** Builds the exception type a client wants (RunPod adds the job id). */
  @FunctionalInterface
  public interface ErrorFactory {
    RemoteServiceException create(Kind kind, int status, String message, Duration retryAfter, Throwable cause, String jobId);
  }

  /** A completed non-streaming reply. */
  public record Reply(int status, String body) {}

  private final OkHttpClient http;
  private final RetryPolicy retry;
  private final Secret secret;
  private final String service;
  private final ErrorFactory errors;

  public Transport(OkHttpClient http, RetryPolicy retry, Secret secret, String service, ErrorFactory errors) {
    this.http = http;
    this.retry = retry;
    this.secret = secret;
    this.service = service;
    this.errors = errors;
  }

  public OkHttpClient http() {
    return http;
  }

  /** Runs the request to a 2xx reply and reads the body; retries per policy. */
  public Reply call(Request request, boolean idempotent, Deadline deadline, String what, String jobId) {
    return call(http, request, idempotent, deadline, what, jobId);
  }

  /** Like {@link #call(Request, boolean, Deadline, String, String)} on a derived client (other timeouts). */
  public Reply call(OkHttpClient client, Request request, boolean idempotent, Deadline deadline, String what, String jobId) {
    try (Response r = open(client, request, idempotent, deadline, what, jobId)) {
      ResponseBody body = r.body();
      return new Reply(r.code(), body.string());
    } catch (InterruptedIOException e) {
      if (Thread.currentThread().isInterrupted()) {
        CancellationException ce = new CancellationException(what + " interrupted");
        ce.initCause(e);
        throw ce;
      }
      throw failure(Kind.TIMEOUT, 0, what + " timed out while reading the reply", null, e, jobId);
    } catch (IOException e) {
      throw failure(Kind.CONNECTION, 0, what + " failed while reading the reply: " + e.getMessage(), null, e, jobId);
    }
  }

  /**
   * Opens the request and returns the 2xx response with its body unread (for streaming); the caller closes it.
   * Error statuses are read, mapped and retried per policy before anything is returned.
   */
  public Response open(OkHttpClient client, Request request, boolean idempotent, Deadline deadline, String what, String jobId) {
    int attempt = 0;
    while (true) {
      attempt++;
      if (deadline.expired()) {
        throw failure(Kind.TIMEOUT, 0, what + ": deadline of " + deadline.total().toMillis() + " ms exceeded", null, null, jobId);
      }
      RemoteServiceException error;
      boolean safe;
      Call call = client.newCall(request);
      call.timeout().timeout(Math.max(1, deadline.remainingNanos()), TimeUnit.NANOSECONDS);
      Response response = null;
      try {
        response = call.execute();
        if (response.isSuccessful()) {
          // The call timeout stays armed while the caller reads the body: the deadline covers the whole call.
          return response;
        }
        String body = response.body().string();
        Duration retryAfter = parseRetryAfter(response.header("Retry-After"));
        int code = response.code();
        response.close();
        error = failure(kindForStatus(code), code, what + " failed: HTTP " + code + errorDetail(body), retryAfter, null, jobId);
        // A 429 means the server refused the request without acting on it, so even a submit can be repeated.
        safe = idempotent || code == 429 || retry.retryNonIdempotent();
      } catch (ConnectException | UnknownHostException e) {
        error = failure(Kind.CONNECTION, 0, what + " could not connect: " + e.getMessage(), null, e, jobId);
        safe = true;
      } catch (InterruptedIOException e) {
        closeQuietly(response);
        if (Thread.currentThread().isInterrupted()) {
          CancellationException ce = new CancellationException(what + " interrupted");
          ce.initCause(e);
          throw ce;
        }
        error = failure(Kind.TIMEOUT, 0, what + " timed out: " + e.getMessage(), null, e, jobId);
        safe = idempotent || retry.retryNonIdempotent();
      } catch (IOException e) {
        closeQuietly(response);
        error = failure(Kind.CONNECTION, 0, what + " failed: " + e.getMessage(), null, e, jobId);
        safe = idempotent || retry.retryNonIdempotent();
      }
      if (!safe || !retry.shouldRetry(error, attempt)) {
        throw error;
      }
      Duration delay = backoff(attempt, error.retryAfter());
      if (delay.compareTo(deadline.remaining()) >= 0) {
        throw error;
      }
      LOG.debug("{}: attempt {} failed ({}), retrying in {} ms", what, attempt, error.kind(), delay.toMillis());
      Sleeper.sleep(delay);
    }
  }

  private static void closeQuietly(Response r) {
    if (r != null) {
      r.close();
    }
  }

  private static Kind kindForStatus(int code) {
    return RemoteServiceException.kindForStatus(code);
  }

  /** Delay before retry number {@code attempt} (1-based), as the policy says ({@link RetryPolicy#delayBefore}). */
  public Duration backoff(int attempt, Optional<Duration> retryAfter) {
    return retry.delayBefore(attempt, retryAfter);
  }

  /** The policy this transport retries with; clients report it as {@code LlmClient.retryPolicy()}. */
  public RetryPolicy retryPolicy() {
    return retry;
  }

  /** Builds a scrubbed exception. */
  public RemoteServiceException failure(Kind kind, int status, String message, Duration retryAfter, Throwable cause, String jobId) {
    return errors.create(kind, status, secret.redact(service + " " + message), retryAfter, cause, jobId);
  }

  private String errorDetail(String body) {
    if (body == null || body.isBlank()) {
      return "";
    }
    Optional<JsonNode> json = OutputText.tryParseJson(body);
    if (json.isPresent()) {
      JsonNode e = json.get().path("error");
      if (e.isTextual()) {
        return ": " + OutputText.snippet(e.asText());
      }
      if (e.path("message").isTextual()) {
        return ": " + OutputText.snippet(e.get("message").asText());
      }
      if (json.get().path("detail").isTextual()) {
        return ": " + OutputText.snippet(json.get().get("detail").asText());
      }
    }
    return ": " + OutputText.snippet(body.strip());
  }

  /** Parses {@code Retry-After} as delta-seconds or an HTTP date; null when absent or unparseable. */
  public static Duration parseRetryAfter(String header) {
    if (header == null || header.isBlank()) {
      return null;
    }
    String h = header.trim();
    try {
      double seconds = Double.parseDouble(h);
      return seconds < 0 ? null : Duration.ofMillis((long) (seconds * 1000));
    } catch (NumberFormatException notSeconds) {
      try {
        ZonedDateTime at = ZonedDateTime.parse(h, DateTimeFormatter.RFC_1123_DATE_TIME);
        Duration d = Duration.between(ZonedDateTime.now(at.getZone()), at);
        return d.isNegative() ? Duration.ZERO : d;
      } catch (DateTimeParseException notDate) {
        LOG.debug("ignoring unparseable Retry-After header");
        return null;
      }
    }
  }
}
