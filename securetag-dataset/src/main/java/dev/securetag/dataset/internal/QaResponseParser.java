package dev.securetag.dataset.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Recovers question/answer pairs from what a model actually sends back, in synthetic-data-kit's order: fenced code
 * blocks (json-labelled, last first), then the outermost array or object, read leniently (single quotes, trailing
 * commas, comments, raw newlines in strings), then an object wrapping the array, key aliases in English and Spanish,
 * the complete elements of a truncated array, and finally a pattern over {@code "question": "...", "answer": "..."}.
 * Never invents a pair: when nothing is found the outcome says why.
 */
public final class QaResponseParser {
  /** The lenient reader; shared, thread-safe. */
  public static final ObjectMapper LENIENT = JsonMapper.builder()
      .enable(JsonReadFeature.ALLOW_SINGLE_QUOTES, JsonReadFeature.ALLOW_TRAILING_COMMA,
          JsonReadFeature.ALLOW_UNQUOTED_FIELD_NAMES, JsonReadFeature.ALLOW_JAVA_COMMENTS,
          JsonReadFeature.ALLOW_UNESCAPED_CONTROL_CHARS, JsonReadFeature.ALLOW_BACKSLASH_ESCAPING_ANY_CHARACTER)
      .build();

  private static final Pattern FENCE = Pattern.compile("```([A-Za-z0-9_-]*)[ \\t]*\\r?\\n?(.*?)```", Pattern.DOTALL);
  private static final Pattern OPEN_FENCE = Pattern.compile("```([A-Za-z0-9_-]*)[ \\t]*\\r?\\n?");
  private static final Set<String> QUESTION_KEYS = Set.of("question", "q", "prompt", "query", "instruction",
      "pregunta", "instrucción", "instruccion", "input_question");
  private static final Set<String> ANSWER_KEYS = Set.of("answer", "a", "response", "reply", "completion", "output",
      "respuesta", "salida", "answers");
  private static final List<String> WRAPPER_KEYS = List.of("qa_pairs", "pairs", "questions", "qa", "data", "items",
      "results", "preguntas", "pares", "output", "response");
  private static final Pattern PAIR_PATTERN = Pattern.compile(
      "\"(question|pregunta|q|prompt)\"\\s*:\\s*\"((?:\\\\.|[^\"\\\\])*)\"\\s*,\\s*\"(answer|respuesta|a|response)\"\\s*:\\s*\"((?:\\\\.|[^\"\\\\])*)\"",
      Pattern.CASE_INSENSITIVE | Pattern.DOTALL);

  /** A pair as found; either side may be blank (the caller decides what to drop). */
  public record RawPair(String question, String answer) {}

  /**
   * What was recovered. {@code failure} is non-null when nothing structured was found at all.
   *
   * @param missingFields elements that had no recognisable question or answer
   * @param truncated the array was cut off and only its complete elements were kept
   */
  public record Outcome(List<RawPair> pairs, int missingFields, boolean truncated, String failure) {}

  private QaResponseParser() {}

  public static Outcome parse(String response) {
    String text = response == null ? "" : response.replace("\uFEFF", "").strip();
    if (text.isEmpty()) {
      return new Outcome(List.of(), 0, false, "empty response");
    }
    for (String candidate : candidates(text)) {
      Outcome o = parseCandidate(candidate);
      if (o != null && (!o.pairs().isEmpty() || o.missingFields() > 0)) {
        return o;
      }
    }
    List<RawPair> found = new ArrayList<>();
    Matcher m = PAIR_PATTERN.matcher(text);
    while (m.find()) {
      found.add(new RawPair(unescape(m.group(2)), unescape(m.group(4))));
    }
    if (!found.isEmpty()) {
      return new Outcome(found, 0, false, null);
    }
    return new Outcome(List.of(), 0, false, "no JSON array or question/answer pairs found in "
        + text.length() + " characters");
  }

  /** Fenced blocks (json-labelled first, each group last first), an unterminated fence, then the whole text. */
  private static List<String> candidates(String text) {
    List<String> json = new ArrayList<>();
    List<String> other = new ArrayList<>();
    Matcher m = FENCE.matcher(text);
    int end = 0;
    while (m.find()) {
      (m.group(1).toLowerCase(Locale.ROOT).startsWith("json") ? json : other).add(0, m.group(2));
      end = m.end();
    }
    List<String> out = new ArrayList<>(json);
    out.addAll(other);
    Matcher open = OPEN_FENCE.matcher(text);
    if (open.find(end)) {
      // A response cut off inside a fence has an opening ``` and no closing one.
      out.add(text.substring(open.end()));
    }
    out.add(text);
    return out;
  }

  private static Outcome parseCandidate(String c) {
    int arr = c.indexOf('[');
    int obj = c.indexOf('{');
    if (arr < 0 && obj < 0) {
      return null;
    }
    if (arr >= 0 && (obj < 0 || arr < obj)) {
      int close = c.lastIndexOf(']');
      if (close > arr) {
        JsonNode node = readLenient(c.substring(arr, close + 1));
        if (node != null) {
          return fromNode(node, false);
        }
      }
      return incrementalArray(c.substring(arr));
    }
    Outcome sequence = objectSequence(c.substring(obj));
    if (sequence != null && !sequence.truncated() && (!sequence.pairs().isEmpty() || sequence.missingFields() > 0)) {
      return sequence;
    }
    int close = c.lastIndexOf('}');
    if (close > obj) {
      JsonNode node = readLenient(c.substring(obj, close + 1));
      if (node != null) {
        Outcome o = fromNode(node, false);
        if (!o.pairs().isEmpty() || o.missingFields() > 0) {
          return o;
        }
      }
    }
    // A wrapper object cut off inside its array: read the array's complete elements.
    if (arr > obj) {
      return incrementalArray(c.substring(arr));
    }
    // Objects without an enclosing array ("{...}\n{...}") followed by prose: keep the complete ones.
    return sequence;
  }

  private static JsonNode readLenient(String s) {
    try {
      return LENIENT.readTree(s);
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  private static Outcome incrementalArray(String s) {
    List<JsonNode> elements = new ArrayList<>();
    boolean truncated = false;
    try (JsonParser p = LENIENT.createParser(s)) {
      if (p.nextToken() != JsonToken.START_ARRAY) {
        return null;
      }
      while (true) {
        JsonToken t = p.nextToken();
        if (t == null) {
          truncated = true;
          break;
        }
        if (t == JsonToken.END_ARRAY) {
          break;
        }
        elements.add(p.readValueAsTree());
      }
    } catch (IOException e) {
      // The text ends (or breaks) inside an element: everything before it is complete and kept.
      truncated = true;
    }
    if (elements.isEmpty()) {
      return null;
    }
    Outcome o = fromElements(elements);
    return new Outcome(o.pairs(), o.missingFields(), truncated, null);
  }

  private static Outcome objectSequence(String s) {
    List<JsonNode> elements = new ArrayList<>();
    boolean truncated = false;
    try (JsonParser p = LENIENT.createParser(s)) {
      while (p.nextToken() == JsonToken.START_OBJECT) {
        elements.add(p.readValueAsTree());
      }
    } catch (IOException e) {
      truncated = true;
    }
    if (elements.isEmpty()) {
      return null;
    }
    List<JsonNode> flat = new ArrayList<>();
    for (JsonNode n : elements) {
      JsonNode inner = unwrap(n);
      if (inner != null && inner.isArray()) {
        inner.forEach(flat::add);
      } else {
        flat.add(n);
      }
    }
    Outcome o = fromElements(flat);
    return new Outcome(o.pairs(), o.missingFields(), truncated, null);
  }

  private static Outcome fromNode(JsonNode node, boolean truncated) {
    if (node.isArray()) {
      List<JsonNode> elements = new ArrayList<>();
      node.forEach(elements::add);
      Outcome o = fromElements(elements);
      return new Outcome(o.pairs(), o.missingFields(), truncated, null);
    }
    if (node.isObject()) {
      if (field(node, QUESTION_KEYS) != null || field(node, ANSWER_KEYS) != null) {
        return fromElements(List.of(node));
      }
      JsonNode inner = unwrap(node);
      if (inner != null) {
        return fromNode(inner, truncated);
      }
    }
    return new Outcome(List.of(), 0, truncated, null);
  }

  /** The array an object wraps: a known key first, else the first array of objects, else one nested level. */
  private static JsonNode unwrap(JsonNode node) {
    for (String k : WRAPPER_KEYS) {
      JsonNode v = node.get(k);
      if (v != null && v.isArray()) {
        return v;
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      JsonNode v = it.next().getValue();
      if (v.isArray() && !v.isEmpty() && v.get(0).isObject()) {
        return v;
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      JsonNode v = it.next().getValue();
      if (v.isObject()) {
        JsonNode inner = unwrap(v);
        if (inner != null) {
          return inner;
        }
      }
    }
    return null;
  }

  private static Outcome fromElements(List<JsonNode> elements) {
    List<RawPair> pairs = new ArrayList<>();
    int missing = 0;
    for (JsonNode e : elements) {
      if (!e.isObject()) {
        missing++;
        continue;
      }
      JsonNode q = field(e, QUESTION_KEYS);
      JsonNode a = field(e, ANSWER_KEYS);
      if (q == null || a == null) {
        missing++;
        continue;
      }
      pairs.add(new RawPair(text(q), text(a)));
    }
    return new Outcome(pairs, missing, false, null);
  }

  private static JsonNode field(JsonNode obj, Set<String> keys) {
    for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      if (keys.contains(f.getKey().strip().toLowerCase(Locale.ROOT))) {
        return f.getValue();
      }
    }
    return null;
  }

  private static String text(JsonNode v) {
    if (v.isArray()) {
      return v.isEmpty() ? "" : text(v.get(0));
    }
    if (v.isNull()) {
      return "";
    }
    return v.isValueNode() ? v.asText() : v.toString();
  }

  private static String unescape(String jsonStringBody) {
    try {
      return LENIENT.readTree("\"" + jsonStringBody + "\"").asText();
    } catch (JsonProcessingException e) {
      return jsonStringBody;
    }
  }
}
