package dev.securetag.gguf;

import java.util.Optional;

/** GGUF metadata value types ({@code gguf_type}) with their on-disk ids. */
public enum GgufValueType {
  UINT8(0),
  INT8(1),
  UINT16(2),
  INT16(3),
  UINT32(4),
  INT32(5),
  FLOAT32(6),
  BOOL(7),
  STRING(8),
  ARRAY(9),
  UINT64(10),
  INT64(11),
  FLOAT64(12);

  private final int id;

  GgufValueType(int id) {
    this.id = id;
  }

  /** The id written in the file. */
  public int id() {
    return id;
  }

  /** The type with this id, empty when unknown. */
  public static Optional<GgufValueType> fromId(int id) {
    for (GgufValueType t : values()) {
      if (t.id == id) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  /** Size in bytes of a fixed-size scalar, -1 for STRING and ARRAY. */
  public int scalarBytes() {
    return switch (this) {
      case UINT8, INT8, BOOL -> 1;
      case UINT16, INT16 -> 2;
      case UINT32, INT32, FLOAT32 -> 4;
      case UINT64, INT64, FLOAT64 -> 8;
      case STRING, ARRAY -> -1;
    };
  }
}
