package dev.securetag.core.ollama;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** The reply of {@code POST /api/show}: Modelfile, parameters, template, details, model info and capabilities. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OllamaShowResponse(
    String modelfile,
    String parameters,
    String template,
    OllamaModelDetails details,
    @JsonProperty("model_info") JsonNode modelInfo,
    List<String> capabilities) {}
