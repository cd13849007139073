package dev.securetag.dataset.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads judge ratings: a JSON array (or wrapped array, or a single object) of {@code {"index": i, "rating": n}},
 * leniently, falling back to a {@code "rating": n} pattern in order. Ratings outside 1..10 are not accepted, and
 * none is ever invented: missing ones are simply absent from the result.
 */
public final class RatingParser {
  private static final Set<String> RATING_KEYS = Set.of("rating", "score", "puntuación", "puntuacion", "nota",
      "calificación", "calificacion", "valoración", "valoracion");
  private static final Set<String> INDEX_KEYS = Set.of("index", "id", "n", "pair", "número", "numero", "indice",
      "índice");
  private static final Pattern RATING = Pattern.compile(
      "\"(?:rating|score|puntuaci[oó]n|nota)\"\\s*:\\s*\"?(\\d+(?:\\.\\d+)?)", Pattern.CASE_INSENSITIVE);
  private static final Pattern FENCE = Pattern.compile("```[A-Za-z]*\\s*(.*?)```", Pattern.DOTALL);

  private RatingParser() {}

  /** Ratings by 1-based pair index, for a batch of {@code count} pairs. */
  public static Map<Integer, Double> parse(String response, int count) {
    Map<Integer, Double> out = new HashMap<>();
    String text = response == null ? "" : response.strip();
    Matcher f = FENCE.matcher(text);
    String body = text;
    while (f.find()) {
      body = f.group(1);
    }
    JsonNode node = tryRead(body);
    if (node != null) {
      List<JsonNode> items = new ArrayList<>();
      if (node.isArray()) {
        node.forEach(items::add);
      } else if (node.isObject()) {
        JsonNode arr = firstArray(node);
        if (arr != null) {
          arr.forEach(items::add);
        } else {
          items.add(node);
        }
      }
      for (int i = 0; i < items.size(); i++) {
        JsonNode it = items.get(i);
        Double r = null;
        Integer idx = null;
        if (it.isNumber()) {
          r = it.asDouble();
        } else if (it.isObject()) {
          JsonNode rv = field(it, RATING_KEYS);
          JsonNode iv = field(it, INDEX_KEYS);
          if (rv != null && (rv.isNumber() || rv.isTextual())) {
            r = number(rv.asText());
          }
          if (iv != null && iv.canConvertToInt()) {
            idx = iv.asInt();
          }
        }
        int index = idx != null && idx >= 1 && idx <= count ? idx : i + 1;
        if (r != null && r >= 1 && r <= 10 && index <= count) {
          out.putIfAbsent(index, r);
        }
      }
      if (!out.isEmpty()) {
        return out;
      }
    }
    Matcher m = RATING.matcher(text);
    int i = 1;
    while (m.find() && i <= count) {
      Double r = number(m.group(1));
      if (r != null && r >= 1 && r <= 10) {
        out.put(i, r);
      }
      i++;
    }
    return out;
  }

  private static JsonNode tryRead(String s) {
    int a = s.indexOf('[');
    int o = s.indexOf('{');
    int start = a < 0 ? o : o < 0 ? a : Math.min(a, o);
    if (start < 0) {
      return null;
    }
    char close = s.charAt(start) == '[' ? ']' : '}';
    int end = s.lastIndexOf(close);
    if (end <= start) {
      return null;
    }
    try {
      return QaResponseParser.LENIENT.readTree(s.substring(start, end + 1));
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  private static JsonNode firstArray(JsonNode obj) {
    for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
      JsonNode v = it.next().getValue();
      if (v.isArray()) {
        return v;
      }
    }
    return null;
  }

  private static JsonNode field(JsonNode obj, Set<String> keys) {
    for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      if (keys.contains(f.getKey().toLowerCase(Locale.ROOT))) {
        return f.getValue();
      }
    }
    return null;
  }

  private static Double number(String s) {
    try {
      return Double.parseDouble(s.strip());
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
