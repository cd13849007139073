package dev.securetag.gguf.runtime.internal;

import static dev.securetag.gguf.runtime.internal.Kernels.*;

import java.nio.ByteBuffer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/** Q5_0 products: the integer dot with q8_0 activations, vector and scalar reference. */
final class Q5_0Kernels {
  /** Bit {@code j} in lane {@code j} (j below 16): selects the Q5_0 high bit of each value. */
  private static final ShortVector BIT16 = AVAILABLE ? ShortVector.fromArray(S, bits16(), 0) : null;

  private Q5_0Kernels() {}

  private static short[] bits16() {
    short[] a = new short[S.length()];
    for (int j = 0; j < 16; j++) {
      a[j] = (short) (1 << j);
    }
    return a;
  }

  // The integer kernel is one method, helpers included: a vector passed to or returned from a method that C2 does not
  // inline is boxed on the heap, and C2 refuses to inline a helper it has already compiled on its own once that code
  // is big. Loops over a block's 32 bytes run once with 16 int lanes (AVX-512) and twice with 8.

  /** Q5_0: Q4_0's nibbles plus a fifth bit per value from the 32-bit {@code qh} (bit j for value j), minus 16. */
  static float dot(ByteBuffer w, int off, int n, Q8Activation a) {
    short[] x = a.q0;
    float[] dx = a.d0;
    byte[] row = copyRow(w, off, 22 * (n / 32));
    FloatVector acc = FloatVector.zero(F);
    for (int b = 0; b < n / 32; b++) {
      int o = 22 * b;
      long hdr = (long) LONG_A.get(row, o);
      int qh = (int) (hdr >>> 16);
      ShortVector q = (ShortVector) ByteVector.fromArray(BH, row, o + 6).convertShape(VectorOperators.B2S, S, 0);
      ShortVector lo = q.and(NIBBLE16);
      ShortVector hi = q.lanewise(VectorOperators.LSHR, 4).and(NIBBLE16);
      lo = lo.blend(lo.or((short) 16), ShortVector.broadcast(S, (short) qh).and(BIT16).compare(VectorOperators.NE, (short) 0));
      hi = hi.blend(hi.or((short) 16), ShortVector.broadcast(S, (short) (qh >>> 16)).and(BIT16).compare(VectorOperators.NE, (short) 0));
      // |(q - 16) x| <= 2032: a value pair and a pair of those fit 16 bits.
      IntVector v = (IntVector) lo.sub(SIXTEEN16).mul(ShortVector.fromArray(S, x, 32 * b))
          .add(hi.sub(SIXTEEN16).mul(ShortVector.fromArray(S, x, 32 * b + 16))).reinterpretShape(I, 0);
      IntVector s = v.mul(0x10001).lanewise(VectorOperators.ASHR, 16);
      acc = ((FloatVector) s.convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.broadcast(F, HALF[(int) hdr & 0xFFFF] * dx[b]), acc);
    }
    return acc.reduceLanes(VectorOperators.ADD);
  }

  /** The scalar reference of {@link #dot}: ggml's generic integer block sums. */
  static float dotScalar(ByteBuffer w, int off, int n, Q8Activation a) {
    float sumf = 0;
    for (int b = 0; b < n / 32; b++) {
      int o = off + 22 * b;
      int qh = w.getInt(o + 2);
      int sumi0 = 0;
      int sumi1 = 0;
      for (int j = 0; j < 16; j++) {
        int q = w.get(o + 6 + j) & 0xFF;
        int h0 = ((qh >>> j) << 4) & 0x10;
        int h1 = (qh >>> (j + 12)) & 0x10;
        sumi0 += (((q & 0xF) | h0) - 16) * a.q0[32 * b + j];
        sumi1 += (((q >> 4) | h1) - 16) * a.q0[32 * b + j + 16];
      }
      sumf += (f16(w, o) * a.d0[b]) * (sumi0 + sumi1);
    }
    return sumf;
  }
}
