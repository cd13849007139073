package dev.securetag.core.ollama;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.ChatMessage;
import java.util.List;

/**
 * One chat message on the wire ({@code messages[]} of {@code /api/chat}, {@code message} of its replies): role and
 * content, plus thinking text, base64 images, tool calls and the tool name of a tool reply when present.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OllamaMessage(
    String role,
    String content,
    String thinking,
    List<String> images,
    @JsonProperty("tool_calls") JsonNode toolCalls,
    @JsonProperty("tool_name") String toolName) {

  /** A plain message. */
  public static OllamaMessage of(String role, String content) {
    return new OllamaMessage(role, content, null, null, null, null);
  }

  /** The wire form of a {@link ChatMessage}. */
  public static OllamaMessage of(ChatMessage m) {
    return of(m.role(), m.content());
  }

  /** This message as a {@link ChatMessage} (role and text only; an absent content is ""). */
  public ChatMessage toChatMessage() {
    return new ChatMessage(role == null || role.isBlank() ? "user" : role, content == null ? "" : content);
  }
}
