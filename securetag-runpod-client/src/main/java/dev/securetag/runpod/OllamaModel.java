package dev.securetag.runpod;

import com.fasterxml.jackson.databind.JsonNode;

/** One entry of Ollama's {@code /api/tags}: name, size in bytes, digest, modification time and {@code details}. */
public record OllamaModel(String name, long size, String digest, String modifiedAt, JsonNode details) {

  static OllamaModel fromJson(JsonNode n) {
    String name = n.hasNonNull("name") ? n.get("name").asText() : n.path("model").asText("");
    return new OllamaModel(name, n.path("size").asLong(0), n.path("digest").asText(""), n.path("modified_at").asText(""),
        n.path("details"));
  }
}
