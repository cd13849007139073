package dev.securetag.core;

import java.util.Optional;

/**
 * The caller's input is wrong: a corrupt or truncated file, a malformed dataset line, a missing config field, a
 * tensor of the wrong shape. The message names the file, field and position; {@link #location()} holds them
 * separately for programmatic reporting.
 */
public class InvalidInputException extends SecuretagException {
  private static final long serialVersionUID = 1L;

  private final String location;

  /** @param location what is at fault, e.g. {@code "train.jsonl:17"} or {@code "config.json: hidden_size"} */
  public InvalidInputException(String location, String message) {
    super(location + ": " + message);
    this.location = location;
  }

  public InvalidInputException(String location, String message, Throwable cause) {
    super(location + ": " + message, cause);
    this.location = location;
  }

  /** The file/field/position at fault. */
  public Optional<String> location() {
    return Optional.ofNullable(location);
  }
}
