package dev.securetag.core;

import java.util.Objects;

/**
 * One chat turn for {@link LlmClient#chat}: a role ({@code system}, {@code user}, {@code assistant}, {@code tool}, or
 * another role the backend knows) and its text.
 */
public record ChatMessage(String role, String content) {

  public ChatMessage {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(content, "content");
    if (role.isBlank()) {
      throw new IllegalArgumentException("ChatMessage.role must not be blank");
    }
  }

  public static ChatMessage system(String content) {
    return new ChatMessage("system", content);
  }

  public static ChatMessage user(String content) {
    return new ChatMessage("user", content);
  }

  public static ChatMessage assistant(String content) {
    return new ChatMessage("assistant", content);
  }
}
