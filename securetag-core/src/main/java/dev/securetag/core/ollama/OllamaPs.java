package dev.securetag.core.ollama;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** The reply of {@code GET /api/ps}: the models loaded in memory. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OllamaPs(List<OllamaRunningModel> models) {
  public OllamaPs {
    models = models == null ? List.of() : List.copyOf(models);
  }
}
