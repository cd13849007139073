package dev.securetag.core;

/**
 * Root of every error securetag throws on purpose. Unchecked, like OkHttp's and langchain4j's errors; the
 * subtypes say what kind of thing went wrong: {@link InvalidInputException} (the caller's data is bad),
 * {@link UnsupportedFormatException} (valid but not something we handle), {@link RemoteServiceException}
 * (a remote model or endpoint failed; {@link #isRetriable()} says whether trying again can help).
 */
public class SecuretagException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SecuretagException(String message) {
    super(message);
  }

  public SecuretagException(String message, Throwable cause) {
    super(message, cause);
  }

  /** True when the same operation may succeed if repeated (rate limits, timeouts, 5xx, dropped connections). */
  public boolean isRetriable() {
    return false;
  }
}
