package dev.securetag.gguf.internal;

import java.util.List;

/**
 * One output tensor of a conversion: its GGUF name and dimensions, the checkpoint tensors it is made of (several
 * for stacked Mixtral experts), the head count for the Q/K row permutation (0 for none), and whether the converter
 * keeps it in F32.
 */
public record TensorPlan(String name, long[] ne, List<String> parts, int permuteHeads, boolean keepF32,
    float[] generated) {

  /** Row length ({@code ne[0]}). */
  public int rowLen() {
    return (int) ne[0];
  }

  /** Number of rows. */
  public long rows() {
    long n = 1;
    for (int i = 1; i < ne.length; i++) {
      n *= ne[i];
    }
    return n;
  }

  /** Number of elements. */
  public long numel() {
    return rows() * ne[0];
  }

  /** Layer index parsed from {@code blk.N.}, or -1. */
  public int layer() {
    return layerOf(name);
  }

  static int layerOf(String name) {
    if (!name.startsWith("blk.")) {
      return -1;
    }
    int dot = name.indexOf('.', 4);
    try {
      return dot < 0 ? -1 : Integer.parseInt(name.substring(4, dot));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** llama.cpp's {@code weight_name_comparer}: non-layer tensors first, then by layer, then by name. */
  public static int compareLlamaCpp(String a, String b) {
    int la = layerOf(a);
    int lb = layerOf(b);
    if (la != lb) {
      return Integer.compare(la, lb);
    }
    return a.compareTo(b);
  }
}
