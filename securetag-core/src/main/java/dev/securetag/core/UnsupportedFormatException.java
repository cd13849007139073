package dev.securetag.core;

/**
 * The input is well-formed but uses something securetag does not handle (an unknown model architecture, a tensor
 * dtype, a GGUF version). Not retriable.
 */
public class UnsupportedFormatException extends InvalidInputException {
  private static final long serialVersionUID = 1L;

  public UnsupportedFormatException(String location, String message) {
    super(location, message);
  }

  public UnsupportedFormatException(String location, String message, Throwable cause) {
    super(location, message, cause);
  }
}
