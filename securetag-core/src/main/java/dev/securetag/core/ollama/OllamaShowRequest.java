package dev.securetag.core.ollama;

import com.fasterxml.jackson.annotation.JsonInclude;

/** The body of {@code POST /api/show}; older clients send {@code name} instead of {@code model}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OllamaShowRequest(String model, String name) {

  /** The requested model: {@code model}, else {@code name}, else "". */
  public String requested() {
    return model != null ? model : name != null ? name : "";
  }
}
