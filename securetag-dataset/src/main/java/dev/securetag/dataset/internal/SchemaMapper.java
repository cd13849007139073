package dev.securetag.dataset.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.TrainingExample;
import dev.securetag.core.internal.Json;
import dev.securetag.dataset.RecordSchema;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Maps the common instruction-tuning record schemas onto {@link TrainingExample}: Alpaca, ShareGPT
 * ({@code conversations}), OpenAI chat ({@code messages}), prompt/completion and question/answer. A record that fits
 * none, or whose fields are not strings, is rejected with the reason.
 */
public final class SchemaMapper {
  /** A mapped record, or why it could not be mapped. */
  public record Mapped(TrainingExample example, RecordSchema schema, String error) {}

  private SchemaMapper() {}

  public static Mapped map(JsonNode node) {
    if (!node.isObject()) {
      return fail("expected a JSON object, found " + node.getNodeType().name().toLowerCase(Locale.ROOT));
    }
    try {
      if (node.has("conversations")) {
        return conversation(node, node.get("conversations"), "from", "value", RecordSchema.SHAREGPT);
      }
      if (node.has("messages")) {
        return conversation(node, node.get("messages"), "role", "content", RecordSchema.MESSAGES);
      }
      if (node.has("instruction") && node.has("output")) {
        return build(node, text(node, "instruction"), optText(node, "input"), text(node, "output"), RecordSchema.ALPACA);
      }
      if (node.has("prompt") && node.has("completion")) {
        return build(node, text(node, "prompt"), "", text(node, "completion"), RecordSchema.PROMPT_COMPLETION);
      }
      if (node.has("question") && node.has("answer")) {
        return build(node, text(node, "question"), "", text(node, "answer"), RecordSchema.QUESTION_ANSWER);
      }
    } catch (FieldException e) {
      return fail(e.getMessage());
    }
    List<String> keys = new ArrayList<>();
    node.fieldNames().forEachRemaining(keys::add);
    return fail("unrecognised schema (keys " + keys + "); expected Alpaca, ShareGPT, messages,"
        + " prompt/completion or question/answer");
  }

  private static Mapped conversation(JsonNode node, JsonNode turns, String roleKey, String textKey, RecordSchema schema) {
    if (!turns.isArray() || turns.isEmpty()) {
      return fail("\"" + (schema == RecordSchema.SHAREGPT ? "conversations" : "messages") + "\" must be a non-empty array");
    }
    List<String[]> list = new ArrayList<>();
    String system = null;
    int i = 0;
    for (JsonNode t : turns) {
      JsonNode r = t.has(roleKey) ? t.get(roleKey) : t.get(roleKey.equals("from") ? "role" : "from");
      JsonNode v = t.has(textKey) ? t.get(textKey) : t.get(textKey.equals("value") ? "content" : "value");
      if (r == null || !r.isTextual() || v == null || !v.isTextual()) {
        return fail("turn " + i + " needs string \"" + roleKey + "\" and \"" + textKey + "\"");
      }
      String role = switch (r.asText().toLowerCase(Locale.ROOT)) {
        case "system" -> "system";
        case "human", "user" -> "user";
        case "gpt", "assistant", "bot", "model" -> "assistant";
        default -> null;
      };
      if (role == null) {
        return fail("turn " + i + " has unknown role \"" + r.asText() + "\"");
      }
      if (role.equals("system")) {
        system = v.asText();
      } else {
        list.add(new String[] {role, v.asText()});
      }
      i++;
    }
    int lastAssistant = -1;
    for (int k = list.size() - 1; k >= 0; k--) {
      if (list.get(k)[0].equals("assistant")) {
        lastAssistant = k;
        break;
      }
    }
    if (lastAssistant < 1 || !list.get(lastAssistant - 1)[0].equals("user")) {
      return fail("conversation has no user turn followed by an assistant turn");
    }
    // Earlier turns become the input so a multi-turn conversation keeps its context in single-turn form.
    StringBuilder context = new StringBuilder();
    for (int k = 0; k < lastAssistant - 1; k++) {
      if (context.length() > 0) {
        context.append('\n');
      }
      context.append(list.get(k)[0].equals("user") ? "User: " : "Assistant: ").append(list.get(k)[1]);
    }
    Mapped m = build(node, list.get(lastAssistant - 1)[1], context.toString(), list.get(lastAssistant)[1], schema);
    if (m.example() != null && system != null) {
      TrainingExample e = TrainingExample.builder().from(m.example()).putMetadata("system", system).build();
      return new Mapped(e, schema, null);
    }
    return m;
  }

  private static Mapped build(JsonNode node, String instruction, String input, String output, RecordSchema schema) {
    if (instruction.isBlank()) {
      return fail("empty instruction/question");
    }
    if (output.isBlank()) {
      return fail("empty output/answer");
    }
    TrainingExample.Builder b = TrainingExample.builder().instruction(instruction).input(input).output(output);
    JsonNode meta = node.get("metadata");
    if (meta != null && meta.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> it = meta.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> f = it.next();
        b.putMetadata(f.getKey(), Json.mapper().convertValue(f.getValue(), Object.class));
      }
    }
    return new Mapped(b.build(), schema, null);
  }

  private static String text(JsonNode node, String key) {
    JsonNode v = node.get(key);
    if (v == null || !v.isTextual()) {
      throw new FieldException("\"" + key + "\" must be a string");
    }
    return v.asText();
  }

  private static String optText(JsonNode node, String key) {
    JsonNode v = node.get(key);
    if (v == null || v.isNull()) {
      return "";
    }
    if (!v.isTextual()) {
      throw new FieldException("\"" + key + "\" must be a string");
    }
    return v.asText();
  }

  private static Mapped fail(String error) {
    return new Mapped(null, null, error);
  }

  /** A field of the wrong type; caught in {@link #map} and turned into a rejection. */
  private static final class FieldException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    FieldException(String message) {
      super(message, null, false, false);
    }
  }
}
