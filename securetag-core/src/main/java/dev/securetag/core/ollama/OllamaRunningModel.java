package dev.securetag.core.ollama;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One entry of {@code /api/ps}: a model loaded in memory, with {@link OllamaModelInfo}'s fields (less the
 * modification time) plus when it will be unloaded and how many of its bytes sit in GPU memory.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OllamaRunningModel(
    String name,
    String model,
    Long size,
    String digest,
    OllamaModelDetails details,
    @JsonProperty("expires_at") String expiresAt,
    @JsonProperty("size_vram") Long sizeVram) {

  /** The running form of a {@code /api/tags} entry. */
  public static OllamaRunningModel of(OllamaModelInfo m, String expiresAt, long sizeVram) {
    return new OllamaRunningModel(m.name(), m.model(), m.size(), m.digest(), m.details(), expiresAt, sizeVram);
  }
}
