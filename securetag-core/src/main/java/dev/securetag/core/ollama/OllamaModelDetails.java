package dev.securetag.core.ollama;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** The {@code details} of a model in {@code /api/tags} and {@code /api/show}: format, family and size labels. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OllamaModelDetails(
    @JsonProperty("parent_model") String parentModel,
    String format,
    String family,
    List<String> families,
    @JsonProperty("parameter_size") String parameterSize,
    @JsonProperty("quantization_level") String quantizationLevel) {

  /** Details with only the format set. */
  public static OllamaModelDetails format(String format) {
    return new OllamaModelDetails(null, format, null, null, null, null);
  }
}
