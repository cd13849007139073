package dev.securetag.core;

import java.time.Duration;
import java.util.Optional;

/**
 * A remote model server or endpoint (RunPod, Ollama, an OpenAI-compatible server) failed. Carries the HTTP status
 * when there was one and the server's Retry-After hint. Retriable for connection failures, timeouts, 408, 429 and
 * 5xx; not for authentication, bad requests or unknown models. Messages never contain credentials.
 */
public class RemoteServiceException extends SecuretagException {
  private static final long serialVersionUID = 1L;

  /** What kind of remote failure this is; decides {@link #isRetriable()}. */
  public enum Kind {
    /** Could not connect, or the connection dropped. */
    CONNECTION(true),
    /** The request or the whole call ran past its deadline. */
    TIMEOUT(true),
    /** HTTP 429. */
    RATE_LIMITED(true),
    /** HTTP 5xx. */
    SERVER_ERROR(true),
    /** HTTP 401/403. */
    AUTHENTICATION(false),
    /** HTTP 404 or an unknown model/job. */
    NOT_FOUND(false),
    /** Other 4xx: the request itself is wrong. */
    INVALID_REQUEST(false),
    /** The remote job ran and reported failure (e.g. a RunPod job in FAILED state). */
    JOB_FAILED(false),
    /** The remote answered with something that is not the documented format. */
    BAD_RESPONSE(false);

    private final boolean retriable;

    Kind(boolean retriable) {
      this.retriable = retriable;
    }

    public boolean retriable() {
      return retriable;
    }
  }

  private final Kind kind;
  private final int httpStatus;
  private final Duration retryAfter;

  public RemoteServiceException(Kind kind, int httpStatus, String message, Duration retryAfter, Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.httpStatus = httpStatus;
    this.retryAfter = retryAfter;
  }

  public RemoteServiceException(Kind kind, String message) {
    this(kind, 0, message, null, null);
  }

  public RemoteServiceException(Kind kind, String message, Throwable cause) {
    this(kind, 0, message, null, cause);
  }

  /** Maps an HTTP status to a kind the way langchain4j does: 401/403, 404, 408, 429, 5xx, other 4xx. */
  public static Kind kindForStatus(int status) {
    if (status == 401 || status == 403) {
      return Kind.AUTHENTICATION;
    } else if (status == 404) {
      return Kind.NOT_FOUND;
    } else if (status == 408) {
      return Kind.TIMEOUT;
    } else if (status == 429) {
      return Kind.RATE_LIMITED;
    } else if (status >= 500) {
      return Kind.SERVER_ERROR;
    }
    return Kind.INVALID_REQUEST;
  }

  public Kind kind() {
    return kind;
  }

  /** The HTTP status, or 0 when the failure happened below HTTP. */
  public int httpStatus() {
    return httpStatus;
  }

  /** The server's Retry-After hint, when it sent one. */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  @Override
  public boolean isRetriable() {
    return kind.retriable();
  }
}
