package dev.securetag.core.ollama;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Ollama's error body {@code {"error": ".."}}, with securetag's optional {@code error_kind}: a stable code programs can
 * switch on (Ollama clients ignore it).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OllamaError(String error, @JsonProperty("error_kind") String errorKind) {

  /** An error without a kind. */
  public static OllamaError of(String message) {
    return new OllamaError(message, null);
  }
}
