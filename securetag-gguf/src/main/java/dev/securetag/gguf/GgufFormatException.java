package dev.securetag.gguf;

import dev.securetag.core.InvalidInputException;

/** A GGUF file (or a value destined for one) violates the format; the location names the file and field. */
public class GgufFormatException extends InvalidInputException {
  private static final long serialVersionUID = 1L;

  public GgufFormatException(String location, String message) {
    super(location, message);
  }

  public GgufFormatException(String location, String message, Throwable cause) {
    super(location, message, cause);
  }
}
