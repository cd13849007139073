package dev.securetag.gguf;

import java.util.Arrays;

/**
 * One tensor-info record of a GGUF file: name, element type, dimensions innermost first ({@code ne[0]} is the row
 * length) and the data offset relative to the start of the data section.
 */
public record GgufTensorInfo(String name, GgmlType type, long[] ne, long offset) {
  public GgufTensorInfo {
    ne = ne.clone();
  }

  @Override
  public long[] ne() {
    return ne.clone();
  }

  /** Number of elements. */
  public long numel() {
    long n = 1;
    for (long d : ne) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** Number of rows ({@code numel / ne[0]}). */
  public long rows() {
    return ne[0] == 0 ? 0 : numel() / ne[0];
  }

  /** Bytes of tensor data (without alignment padding). */
  public long byteSize() {
    return type.byteSize(ne);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GgufTensorInfo t
        && name.equals(t.name)
        && type == t.type
        && Arrays.equals(ne, t.ne)
        && offset == t.offset;
  }

  @Override
  public int hashCode() {
    return (name.hashCode() * 31 + type.hashCode()) * 31 + Arrays.hashCode(ne) + Long.hashCode(offset);
  }

  @Override
  public String toString() {
    return name + " " + type + " " + Arrays.toString(ne) + " @" + offset;
  }
}
