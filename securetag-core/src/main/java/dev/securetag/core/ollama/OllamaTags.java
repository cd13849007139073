package dev.securetag.core.ollama;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** The reply of {@code GET /api/tags}: the models a server offers. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OllamaTags(List<OllamaModelInfo> models) {
  public OllamaTags {
    models = models == null ? List.of() : List.copyOf(models);
  }
}
