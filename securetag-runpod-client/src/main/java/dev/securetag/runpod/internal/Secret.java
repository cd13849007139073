package dev.securetag.runpod.internal;

import java.util.Objects;

/**
 * Holds a credential so that it cannot leak by accident: {@link #toString()} is masked and {@link #redact(String)}
 * scrubs it from any text (server error bodies can echo request headers).
 */
public final class Secret {
  private static final String MASK = "****";
  private final String value;

  public Secret(String value) {
    this.value = Objects.requireNonNull(value, "secret");
  }

  /** The raw value, only for building the outgoing header. */
  public String reveal() {
    return value;
  }

  public boolean isEmpty() {
    return value.isEmpty();
  }

  /** The text with every occurrence of the secret replaced by a mask. */
  public String redact(String text) {
    if (text == null || value.length() < 4) {
      return text;
    }
    return text.replace(value, MASK);
  }

  @Override
  public String toString() {
    return MASK;
  }
}
