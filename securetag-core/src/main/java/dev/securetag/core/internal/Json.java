package dev.securetag.core.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import dev.securetag.core.InvalidInputException;

/**
 * The one place Jackson is configured, so every module reads and writes JSON the same way: {@code Optional}
 * support, unknown properties tolerated on read (datasets and remote APIs grow fields), no pretty-printing (JSONL),
 * non-ASCII written as UTF-8 rather than escaped.
 */
public final class Json {
  private static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .addModule(new Jdk8Module())
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
          .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET)
          .build();

  private Json() {}

  /** The shared, thread-safe mapper. Do not reconfigure it; copy it with {@link ObjectMapper#copy()} instead. */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /** Serialises a value to one line of JSON. */
  public static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot serialise " + value.getClass().getName() + ": " + e.getOriginalMessage(), e);
    }
  }

  /**
   * Parses JSON into a value type.
   *
   * @param location names the input in the error message, e.g. {@code "train.jsonl:12"}
   * @throws InvalidInputException if the JSON is malformed or does not fit the type
   */
  public static <T> T read(String json, Class<T> type, String location) {
    try {
      return MAPPER.readValue(json, type);
    } catch (JsonProcessingException e) {
      throw new InvalidInputException(location, "invalid JSON for " + type.getSimpleName() + ": " + e.getOriginalMessage(), e);
    }
  }

  /** Parses a JSON tree; see {@link #read(String, Class, String)}. */
  public static JsonNode readTree(String json, String location) {
    try {
      return MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new InvalidInputException(location, "invalid JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** A new empty object node. */
  public static ObjectNode object() {
    return MAPPER.createObjectNode();
  }
}
