package dev.securetag.runpod.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.internal.Json;
import java.util.Optional;

/**
 * Pulls generated text out of the output shapes RunPod workers produce: the seed's {@code {response, model}},
 * Ollama chat {@code {message:{content}}}, NDJSON lines carried as strings (worker-ollama streaming), OpenAI
 * {@code choices}, legacy vLLM {@code choices[].tokens}, and lists of any of these ({@code return_aggregate_stream}).
 */
public final class OutputText {
  private static final int SNIPPET = 300;

  private OutputText() {}

  /** The concatenated text of an output node; "" when it carries none. */
  public static String text(JsonNode node) {
    StringBuilder sb = new StringBuilder();
    append(node, sb, 0);
    return sb.toString();
  }

  private static void append(JsonNode node, StringBuilder sb, int depth) {
    if (node == null || node.isNull() || node.isMissingNode() || depth > 8) {
      return;
    }
    if (node.isArray()) {
      for (JsonNode e : node) {
        append(e, sb, depth + 1);
      }
    } else if (node.isTextual()) {
      String s = node.asText();
      String t = s.trim();
      if (t.startsWith("{")) {
        boolean parsedAll = true;
        StringBuilder inner = new StringBuilder();
        for (String line : t.split("\n")) {
          if (line.isBlank()) {
            continue;
          }
          Optional<JsonNode> j = tryParseJson(line);
          if (j.isEmpty() || !j.get().isObject()) {
            parsedAll = false;
            break;
          }
          append(j.get(), inner, depth + 1);
        }
        sb.append(parsedAll ? inner : s);
      } else {
        sb.append(s);
      }
    } else if (node.isObject()) {
      if (node.has("response")) {
        sb.append(node.get("response").asText(""));
      } else if (node.path("message").has("content")) {
        sb.append(node.get("message").get("content").asText(""));
      } else if (node.has("choices") && node.get("choices").isArray()) {
        for (JsonNode c : node.get("choices")) {
          if (c.path("message").has("content")) {
            sb.append(c.get("message").get("content").asText(""));
          } else if (c.path("delta").has("content")) {
            sb.append(c.get("delta").get("content").asText(""));
          } else if (c.has("text")) {
            sb.append(c.get("text").asText(""));
          } else if (c.has("tokens")) {
            append(c.get("tokens"), sb, depth + 1);
          }
        }
      } else if (node.has("text")) {
        append(node.get("text"), sb, depth + 1);
      } else if (node.has("output")) {
        append(node.get("output"), sb, depth + 1);
      }
    }
  }

  /** True when the node is in one of the shapes {@link #text(JsonNode)} understands (even if its text is empty). */
  public static boolean hasTextShape(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return false;
    }
    if (node.isTextual()) {
      return true;
    }
    if (node.isArray()) {
      for (JsonNode e : node) {
        if (hasTextShape(e)) {
          return true;
        }
      }
      return false;
    }
    return node.has("response") || node.path("message").has("content") || node.path("choices").isArray()
        || node.has("text") || (node.has("output") && hasTextShape(node.get("output")));
  }

  /** The model named by an output node, searching list elements and NDJSON strings. */
  public static Optional<String> model(JsonNode node) {
    if (node == null) {
      return Optional.empty();
    }
    if (node.isObject() && node.hasNonNull("model")) {
      return Optional.of(node.get("model").asText());
    }
    if (node.isArray()) {
      for (JsonNode e : node) {
        Optional<String> m = model(e);
        if (m.isPresent()) {
          return m;
        }
      }
    }
    if (node.isTextual() && node.asText().trim().startsWith("{")) {
      String first = node.asText().trim().split("\n")[0];
      return tryParseJson(first).filter(JsonNode::isObject).flatMap(OutputText::model);
    }
    return Optional.empty();
  }

  /** Parses JSON if the text is JSON; empty otherwise (used for opaque strings that often hold JSON). */
  public static Optional<JsonNode> tryParseJson(String text) {
    String t = text.trim();
    if (!(t.startsWith("{") || t.startsWith("["))) {
      return Optional.empty();
    }
    try {
      return Optional.of(Json.mapper().readTree(t));
    } catch (JsonProcessingException e) {
      // Opaque error strings are allowed to be non-JSON; the caller falls back to the raw text.
      return Optional.empty();
    }
  }

  /** Shortens text for messages and toString. */
  public static String snippet(String text) {
    if (text == null) {
      return "";
    }
    return text.length() <= SNIPPET ? text : text.substring(0, SNIPPET) + "...(" + text.length() + " chars)";
  }
}
