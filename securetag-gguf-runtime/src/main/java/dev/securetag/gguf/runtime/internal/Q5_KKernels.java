package dev.securetag.gguf.runtime.internal;

import static dev.securetag.gguf.runtime.internal.Kernels.*;

import java.nio.ByteBuffer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/** Q5_K products: the integer dot with q8_K activations, vector and scalar reference. */
final class Q5_KKernels {
  private Q5_KKernels() {}

  // The integer kernel is one method, helpers included: a vector passed to or returned from a method that C2 does not
  // inline is boxed on the heap, and C2 refuses to inline a helper it has already compiled on its own once that code
  // is big. Loops over a block's 32 bytes run once with 16 int lanes (AVX-512) and twice with 8.

  /**
   * Q5_K: Q4_K with a fifth bit per value from the 32 {@code qh} bytes (bit 2c of byte l for value 64c + l, bit
   * 2c + 1 for value 64c + 32 + l). Values reach 31, so the high nibbles are shifted down (31 * 16 * 127 would not
   * fit 16 bits).
   */
  static float dot(ByteBuffer w, int off, int n, Q8Activation a) {
    short[] x = a.qk;
    float[] dx = a.dk;
    int[] bs = a.bsum32;
    FloatVector acc = FloatVector.zero(F);
    float mins = 0;
    for (int b = 0; b < n / 256; b++) {
      int o = off + 176 * b;
      int xo = 256 * b;
      // The 16-byte header: d, dmin, and 6-bit scales and mins packed as in get_scale_min_k4.
      long h0 = (long) LONG_LE.get(w, o);
      long h1 = (long) LONG_LE.get(w, o + 8);
      int lo4 = (int) (h0 >>> 32);
      int mid4 = (int) h1;
      int s4 = (int) (h1 >>> 32);
      long scales = (lo4 & 0x3F3F3F3FL) | ((long) (s4 & 0x0F0F0F0F | (lo4 >>> 2 & 0x30303030)) << 32);
      int msum = (mid4 & 63) * bs[8 * b] + (mid4 >>> 8 & 63) * bs[8 * b + 1] + (mid4 >>> 16 & 63) * bs[8 * b + 2]
          + (mid4 >>> 24 & 63) * bs[8 * b + 3] + (s4 >>> 4 & 15 | (mid4 >>> 6 & 3) << 4) * bs[8 * b + 4]
          + (s4 >>> 12 & 15 | (mid4 >>> 14 & 3) << 4) * bs[8 * b + 5]
          + (s4 >>> 20 & 15 | (mid4 >>> 22 & 3) << 4) * bs[8 * b + 6]
          + (s4 >>> 28 & 15 | (mid4 >>> 30 & 3) << 4) * bs[8 * b + 7];
      IntVector s = IntVector.zero(I);
      for (int c = 0; c < 4; c++) {
        int sca = (int) (scales >>> (16 * c)) & 0xFF;
        int scb = (int) (scales >>> (16 * c + 8)) & 0xFF;
        for (int j = 0; j < 32; j += 2 * L) {
          ShortVector q = ((ShortVector) ByteVector.fromByteBuffer(BH, w, o + 48 + 32 * c + j, LE).convertShape(VectorOperators.B2S, S, 0));
          ShortVector h = ((ShortVector) ByteVector.fromByteBuffer(BH, w, o + 16 + j, LE).convertShape(VectorOperators.B2S, S, 0));
          ShortVector lo = q.and((short) 0xF).or(h.lanewise(VectorOperators.LSHR, 2 * c).and((short) 1)
              .lanewise(VectorOperators.LSHL, 4));
          ShortVector hi = q.lanewise(VectorOperators.LSHR, 4).and((short) 0xF)
              .or(h.lanewise(VectorOperators.LSHR, 2 * c + 1).and((short) 1).lanewise(VectorOperators.LSHL, 4));
          IntVector v0 = (IntVector) lo.mul(ShortVector.fromArray(S, x, xo + 64 * c + j)).reinterpretShape(I, 0);
          IntVector v1 = (IntVector) hi.mul(ShortVector.fromArray(S, x, xo + 64 * c + 32 + j)).reinterpretShape(I, 0);
          s = s.add(v0.lanewise(VectorOperators.ASHR, 16).add(v0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(sca)).add(v1.lanewise(VectorOperators.ASHR, 16).add(v1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(scb));
        }
      }
      float d = dx[b];
      acc = ((FloatVector) s.convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.broadcast(F, HALF[(int) h0 & 0xFFFF] * d), acc);
      mins += HALF[(int) (h0 >>> 16) & 0xFFFF] * d * msum;
    }
    return acc.reduceLanes(VectorOperators.ADD) - mins;
  }

  /** The scalar reference of {@link #dot}: ggml's generic integer sums, scaled per super-block. */
  static float dotScalar(ByteBuffer w, int off, int n, Q8Activation a) {
    float sumf = 0;
    for (int b = 0; b < n / 256; b++) {
      int o = off + 176 * b;
      int x0 = 256 * b;
      int isum = 0;
      int msum = 0;
      for (int c = 0; c < 4; c++) {
        int s0 = 0;
        int s1 = 0;
        for (int l = 0; l < 32; l++) {
          int q = w.get(o + 48 + 32 * c + l) & 0xFF;
          int h = w.get(o + 16 + l) & 0xFF;
          int v0 = (q & 0xF) | (((h >> (2 * c)) & 1) << 4);
          int v1 = (q >> 4) | (((h >> (2 * c + 1)) & 1) << 4);
          s0 += v0 * a.qk[x0 + 64 * c + l];
          s1 += v1 * a.qk[x0 + 64 * c + 32 + l];
        }
        isum += scaleK(w, o + 4, 2 * c) * s0 + scaleK(w, o + 4, 2 * c + 1) * s1;
        msum += minK(w, o + 4, 2 * c) * a.bsum32[8 * b + 2 * c] + minK(w, o + 4, 2 * c + 1) * a.bsum32[8 * b + 2 * c + 1];
      }
      float d = f16(w, o) * a.dk[b];
      float dmin = f16(w, o + 2) * a.dk[b];
      sumf += d * isum;
      sumf -= dmin * msum;
    }
    return sumf;
  }
}
