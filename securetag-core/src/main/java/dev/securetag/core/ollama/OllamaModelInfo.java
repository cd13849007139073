package dev.securetag.core.ollama;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One entry of {@code /api/tags}: name (older servers only send {@code model}), modification time, size in bytes,
 * digest and details.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OllamaModelInfo(
    String name,
    String model,
    @JsonProperty("modified_at") String modifiedAt,
    Long size,
    String digest,
    OllamaModelDetails details) {

  /** The model's name: {@code name}, else {@code model}, else "". */
  public String displayName() {
    return name != null ? name : model != null ? model : "";
  }
}
