package dev.securetag.gguf.runtime.internal;

import static dev.securetag.gguf.runtime.internal.Kernels.*;

import java.nio.ByteBuffer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/** Q4_0 products: the integer dot with q8_0 activations (vector and scalar reference) and the row decoder. */
final class Q4_0Kernels {
  private Q4_0Kernels() {}

  // The integer kernel is one method, helpers included: a vector passed to or returned from a method that C2 does not
  // inline is boxed on the heap, and C2 refuses to inline a helper it has already compiled on its own once that code
  // is big. Loops over a block's 32 bytes run once with 16 int lanes (AVX-512) and twice with 8.

  /**
   * Q4_0: 16 payload bytes per block, low nibbles are values 0..15, high nibbles 16..31, each minus 8. The row is
   * copied into a per-thread array with slack so that each block's 16 bytes can be read with the same 2L-byte loads
   * as every other kernel (a second vector shape of the same element type makes C2 compile the other kernels worse);
   * with 16 int lanes only the low half of each vector is a block's, the rest is masked to zero.
   */
  static float dot(ByteBuffer w, int off, int n, Q8Activation a) {
    short[] x = a.q0;
    float[] dx = a.d0;
    byte[] row = copyRow(w, off, 18 * (n / 32));
    FloatVector acc = FloatVector.zero(F);
    for (int b = 0; b < n / 32; b++) {
      int o = 18 * b;
      ShortVector q = (ShortVector) ByteVector.fromArray(BH, row, o + 2).convertShape(VectorOperators.B2S, S, 0);
      ShortVector lo = q.and(NIBBLE16).sub(EIGHT16);
      ShortVector hi = q.lanewise(VectorOperators.LSHR, 4).and(NIBBLE16).sub(EIGHT16);
      // |(q - 8) x| <= 1016: the products of values j and j + 16 fit 16 bits together, and so does a pair of those.
      IntVector v = (IntVector) lo.mul(ShortVector.fromArray(S, x, 32 * b))
          .add(hi.mul(ShortVector.fromArray(S, x, 32 * b + 16))).reinterpretShape(I, 0);
      IntVector s = v.mul(0x10001).lanewise(VectorOperators.ASHR, 16);
      acc = ((FloatVector) s.convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.broadcast(F, HALF[(short) SHORT_A.get(row, o) & 0xFFFF] * dx[b]), acc);
    }
    return acc.reduceLanes(VectorOperators.ADD);
  }

  /** The scalar reference of {@link #dot}: ggml's generic integer block sums. */
  static float dotScalar(ByteBuffer w, int off, int n, Q8Activation a) {
    float sumf = 0;
    for (int b = 0; b < n / 32; b++) {
      int o = off + 18 * b;
      int sumi0 = 0;
      int sumi1 = 0;
      for (int j = 0; j < 16; j++) {
        int q = w.get(o + 2 + j) & 0xFF;
        sumi0 += ((q & 0xF) - 8) * a.q0[32 * b + j];
        sumi1 += ((q >> 4) - 8) * a.q0[32 * b + j + 16];
      }
      sumf += (sumi0 + sumi1) * f16(w, o) * a.d0[b];
    }
    return sumf;
  }

  /** Decodes row copy {@code w} into {@code out[0..n)}; the float dot is this decode and {@link FloatKernels#dot}. */
  static void decode(byte[] w, float[] out, int n) {
    for (int b = 0; b < n / 32; b++) {
      int o = 18 * b;
      float d = f16(w, o);
      for (int j = 0; j < 16; j += L) {
        IntVector q = ints(w, o + 2 + j);
        ((FloatVector) q.and(0xF).sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d).intoArray(out, 32 * b + j);
        ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0xF).sub(8).convertShape(VectorOperators.I2F, F, 0))
            .mul(d).intoArray(out, 32 * b + 16 + j);
      }
    }
  }
}
