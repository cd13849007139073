package dev.securetag.gguf.runtime.internal;

import static dev.securetag.gguf.runtime.internal.Kernels.*;

import dev.securetag.core.internal.Half;
import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/** F16 weights: the vector float dot and row decoder (halves widened in int lanes and re-biased exactly). */
final class F16Kernels {
  private F16Kernels() {}

  /** Row at byte {@code off} of {@code w} times {@code x[xo..]}. */
  static float dot(ByteBuffer w, int off, float[] x, int xo, int n) {
    FloatVector acc = FloatVector.zero(F);
    int i = 0;
    for (; i <= n - L; i += L) {
      IntVector h = (IntVector) ShortVector.fromByteBuffer(S_F16, w, off + 2 * i, LE)
          .convertShape(VectorOperators.S2I, I, 0);
      // Exponent re-bias by multiplication (2^112) handles normal and subnormal halves exactly; weights are finite.
      FloatVector mag = ((FloatVector) h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).reinterpretShape(F, 0)).mul(0x1p112f);
      FloatVector v = (FloatVector) ((IntVector) mag.reinterpretShape(I, 0))
          .or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretShape(F, 0);
      acc = v.fma(FloatVector.fromArray(F, x, xo + i), acc);
    }
    float s = acc.reduceLanes(VectorOperators.ADD);
    for (; i < n; i++) {
      s += Half.f16ToFloat(w.getShort(off + 2 * i)) * x[xo + i];
    }
    return s;
  }

  /** Decodes the row at byte {@code off} into {@code out[0..n)}. */
  static void decode(ByteBuffer w, int off, float[] out, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      IntVector h = (IntVector) ShortVector.fromByteBuffer(S_F16, w, off + 2 * i, LE)
          .convertShape(VectorOperators.S2I, I, 0);
      FloatVector mag = ((FloatVector) h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).reinterpretShape(F, 0)).mul(0x1p112f);
      ((FloatVector) ((IntVector) mag.reinterpretShape(I, 0)).or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16))
          .reinterpretShape(F, 0))
          .intoArray(out, i);
    }
    for (; i < n; i++) {
      out[i] = Half.f16ToFloat(w.getShort(off + 2 * i));
    }
  }
}
