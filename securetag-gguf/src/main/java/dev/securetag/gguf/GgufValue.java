package dev.securetag.gguf;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A typed GGUF metadata value. The Java representation is normalized: every integer type is a {@link Long} (UINT64
 * holds the unsigned bits), FLOAT32 a {@link Float}, FLOAT64 a {@link Double}, BOOL a {@link Boolean}, STRING a
 * {@link String}, ARRAY an unmodifiable {@link List} of normalized elements of {@link #itemType()}. The exact type is
 * kept because llama.cpp rejects a key whose type differs from what it expects.
 */
public record GgufValue(GgufValueType type, GgufValueType itemType, Object value) {

  public GgufValue {
    if (type == null || value == null) {
      throw new IllegalArgumentException("GgufValue type and value must not be null");
    }
    if (type == GgufValueType.ARRAY) {
      if (itemType == null || itemType == GgufValueType.ARRAY) {
        throw new IllegalArgumentException("array item type must be a scalar or STRING type, got " + itemType);
      }
      if (!(value instanceof List<?> list)) {
        throw new IllegalArgumentException("ARRAY value must be a List");
      }
      List<Object> items = new ArrayList<>(list.size());
      for (Object o : list) {
        items.add(normalize(itemType, o));
      }
      value = Collections.unmodifiableList(items);
    } else {
      if (itemType != null) {
        throw new IllegalArgumentException("itemType is only for ARRAY values");
      }
      value = normalize(type, value);
    }
  }

  private static Object normalize(GgufValueType t, Object o) {
    if (o == null) {
      throw new IllegalArgumentException("null " + t + " value");
    }
    switch (t) {
      case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> {
        if (!(o instanceof Number n) || o instanceof Float || o instanceof Double) {
          throw new IllegalArgumentException(t + " needs an integer, got " + o.getClass().getSimpleName());
        }
        long v = n.longValue();
        if (!fits(t, v)) {
          throw new IllegalArgumentException(v + " is out of range for " + t);
        }
        return v;
      }
      case FLOAT32 -> {
        if (!(o instanceof Number n)) {
          throw new IllegalArgumentException("FLOAT32 needs a number");
        }
        return n.floatValue();
      }
      case FLOAT64 -> {
        if (!(o instanceof Number n)) {
          throw new IllegalArgumentException("FLOAT64 needs a number");
        }
        return n.doubleValue();
      }
      case BOOL -> {
        if (!(o instanceof Boolean)) {
          throw new IllegalArgumentException("BOOL needs a Boolean");
        }
        return o;
      }
      case STRING -> {
        if (!(o instanceof String)) {
          throw new IllegalArgumentException("STRING needs a String");
        }
        return o;
      }
      default -> throw new IllegalArgumentException("nested arrays are not supported by llama.cpp");
    }
  }

  private static boolean fits(GgufValueType t, long v) {
    return switch (t) {
      case UINT8 -> v >= 0 && v <= 0xFF;
      case INT8 -> v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE;
      case UINT16 -> v >= 0 && v <= 0xFFFF;
      case INT16 -> v >= Short.MIN_VALUE && v <= Short.MAX_VALUE;
      case UINT32 -> v >= 0 && v <= 0xFFFFFFFFL;
      case INT32 -> v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE;
      default -> true;
    };
  }

  /** A UINT32 value (counts, lengths, token ids). */
  public static GgufValue uint32(long v) {
    return new GgufValue(GgufValueType.UINT32, null, v);
  }

  /** An INT32 value. */
  public static GgufValue int32(int v) {
    return new GgufValue(GgufValueType.INT32, null, (long) v);
  }

  /** A UINT64 value. */
  public static GgufValue uint64(long v) {
    return new GgufValue(GgufValueType.UINT64, null, v);
  }

  /** A FLOAT32 value. */
  public static GgufValue float32(float v) {
    return new GgufValue(GgufValueType.FLOAT32, null, v);
  }

  /** A BOOL value. */
  public static GgufValue bool(boolean v) {
    return new GgufValue(GgufValueType.BOOL, null, v);
  }

  /** A STRING value. */
  public static GgufValue string(String v) {
    return new GgufValue(GgufValueType.STRING, null, v);
  }

  /** An ARRAY value with elements of {@code itemType}. */
  public static GgufValue array(GgufValueType itemType, List<?> items) {
    return new GgufValue(GgufValueType.ARRAY, itemType, items);
  }

  /** The value as a long (integer types). */
  public long asLong() {
    if (!(value instanceof Long l)) {
      throw new IllegalStateException("value of type " + type + " is not an integer");
    }
    return l;
  }

  /** The value as a float (FLOAT32/FLOAT64). */
  public float asFloat() {
    if (!(value instanceof Float) && !(value instanceof Double)) {
      throw new IllegalStateException("value of type " + type + " is not a float");
    }
    return ((Number) value).floatValue();
  }

  /** The value as a string (STRING). */
  public String asString() {
    if (!(value instanceof String s)) {
      throw new IllegalStateException("value of type " + type + " is not a string");
    }
    return s;
  }

  /** The value as a boolean (BOOL). */
  public boolean asBoolean() {
    if (!(value instanceof Boolean b)) {
      throw new IllegalStateException("value of type " + type + " is not a bool");
    }
    return b;
  }

  /** The elements (ARRAY). */
  public List<?> asList() {
    if (!(value instanceof List<?> l)) {
      throw new IllegalStateException("value of type " + type + " is not an array");
    }
    return l;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof GgufValue v) || type != v.type || itemType != v.itemType) {
      return false;
    }
    return bitEquals(value, v.value);
  }

  private static boolean bitEquals(Object a, Object b) {
    if (a instanceof Float x && b instanceof Float y) {
      return Float.floatToRawIntBits(x) == Float.floatToRawIntBits(y);
    }
    if (a instanceof Double x && b instanceof Double y) {
      return Double.doubleToRawLongBits(x) == Double.doubleToRawLongBits(y);
    }
    if (a instanceof List<?> x && b instanceof List<?> y) {
      if (x.size() != y.size()) {
        return false;
      }
      for (int i = 0; i < x.size(); i++) {
        if (!bitEquals(x.get(i), y.get(i))) {
          return false;
        }
      }
      return true;
    }
    return a.equals(b);
  }

  @Override
  public int hashCode() {
    return type.hashCode() * 31 + value.hashCode();
  }

  @Override
  public String toString() {
    if (value instanceof List<?> l) {
      return "ARRAY<" + itemType + ">[" + l.size() + "]";
    }
    return type + ":" + value;
  }
}
