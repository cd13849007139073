package dev.securetag.gguf.runtime.internal;

import static dev.securetag.gguf.runtime.internal.Kernels.*;

import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** F32 weights: the vector float dot and row decoder (the scalar path reads the floats directly). */
final class F32Kernels {
  private F32Kernels() {}

  /** Row at byte {@code off} of {@code w} times {@code x[xo..]}. */
  static float dot(ByteBuffer w, int off, float[] x, int xo, int n) {
    FloatVector acc = FloatVector.zero(F);
    int i = 0;
    for (; i <= n - L; i += L) {
      acc = FloatVector.fromByteBuffer(F, w, off + 4 * i, LE).fma(FloatVector.fromArray(F, x, xo + i), acc);
    }
    float s = acc.reduceLanes(VectorOperators.ADD);
    for (; i < n; i++) {
      s += w.getFloat(off + 4 * i) * x[xo + i];
    }
    return s;
  }

  /** Decodes the row at byte {@code off} into {@code out[0..n)}. */
  static void decode(ByteBuffer w, int off, float[] out, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector.fromByteBuffer(F, w, off + 4 * i, LE).intoArray(out, i);
    }
    for (; i < n; i++) {
      out[i] = w.getFloat(off + 4 * i);
    }
  }
}
