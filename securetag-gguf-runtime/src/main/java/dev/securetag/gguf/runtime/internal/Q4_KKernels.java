package dev.securetag.gguf.runtime.internal;

import static dev.securetag.gguf.runtime.internal.Kernels.*;

import java.nio.ByteBuffer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_K products: the integer dot with q8_K activations (vector and scalar reference), the float dot and the row
 * decoder for batched prompts.
 */
final class Q4_KKernels {
  private Q4_KKernels() {}

  // The integer kernel is one method, helpers included: a vector passed to or returned from a method that C2 does not
  // inline is boxed on the heap, and C2 refuses to inline a helper it has already compiled on its own once that code
  // is big. Loops over a block's 32 bytes run once with 16 int lanes (AVX-512) and twice with 8.

  /**
   * Q4_K: per 256-value block, {@code d * sum_j sc_j * sum(q * x) - dmin * sum_j m_j * bsum_j}. The integer part is
   * llama.cpp's; high nibbles are used as {@code q & 0xF0}, i.e. times 16 (|16 q x| still fits 16 bits), which saves
   * a shift per vector: the low nibbles' scales are multiplied by 16 to match and the block sum divided by 16. The
   * four 64-value chunks run as a loop with the eight scales packed in one long: unrolled, the method grows past
   * the size up to which C2 keeps every vector in registers.
   */
  static float dot(ByteBuffer w, int off, int n, Q8Activation a) {
    short[] x = a.qk;
    float[] dx = a.dk;
    int[] bs = a.bsum32;
    FloatVector acc = FloatVector.zero(F);
    float mins = 0;
    for (int b = 0; b < n / 256; b++) {
      int o = off + 144 * b;
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
          ShortVector q = ((ShortVector) ByteVector.fromByteBuffer(BH, w, o + 16 + 32 * c + j, LE).convertShape(VectorOperators.B2S, S, 0));
          ShortVector lo = q.and((short) 0xF);
          ShortVector hi = q.and((short) 0xF0);
          IntVector v0 = (IntVector) lo.mul(ShortVector.fromArray(S, x, xo + 64 * c + j)).reinterpretShape(I, 0);
          IntVector v1 = (IntVector) hi.mul(ShortVector.fromArray(S, x, xo + 64 * c + 32 + j)).reinterpretShape(I, 0);
          s = s.add(v0.lanewise(VectorOperators.ASHR, 16).add(v0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(sca << 4)).add(v1.lanewise(VectorOperators.ASHR, 16).add(v1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).mul(scb));
        }
      }
      float d = dx[b];
      acc = ((FloatVector) s.convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.broadcast(F, HALF[(int) h0 & 0xFFFF] * d * 0.0625f), acc);
      mins += HALF[(int) (h0 >>> 16) & 0xFFFF] * d * msum;
    }
    return acc.reduceLanes(VectorOperators.ADD) - mins;
  }

  /** The scalar reference of {@link #dot}: ggml's generic integer sums, scaled per super-block. */
  static float dotScalar(ByteBuffer w, int off, int n, Q8Activation a) {
    float sumf = 0;
    for (int b = 0; b < n / 256; b++) {
      int o = off + 144 * b;
      int x0 = 256 * b;
      int isum = 0;
      int msum = 0;
      for (int c = 0; c < 4; c++) {
        int s0 = 0;
        int s1 = 0;
        for (int l = 0; l < 32; l++) {
          int q = w.get(o + 16 + 32 * c + l) & 0xFF;
          s0 += (q & 0xF) * a.qk[x0 + 64 * c + l];
          s1 += (q >> 4) * a.qk[x0 + 64 * c + 32 + l];
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

  /** Row copy {@code w} times float activations {@code x[xo..]}: the float reference path. */
  static float dotFloat(byte[] w, float[] x, int xo, int n) {
    // The weight d*sc*q - dmin*m is formed with one FMA per vector and dotted with a second: two long-lived
    // accumulators, no per-sub-block partial sums to reduce.
    FloatVector acc0 = FloatVector.zero(F);
    FloatVector acc1 = FloatVector.zero(F);
    int nb = n / 256;
    for (int b = 0; b < nb; b++) {
      int o = 144 * b;
      float d = f16(w, o);
      float dmin = -f16(w, o + 2);
      int sc = o + 4;
      for (int c = 0; c < 4; c++) {
        int is = 2 * c;
        int qo = o + 16 + 32 * c;
        int xb = xo + 256 * b + 64 * c;
        FloatVector d1 = FloatVector.broadcast(F, d * scaleK(w, sc, is));
        FloatVector d2 = FloatVector.broadcast(F, d * scaleK(w, sc, is + 1));
        FloatVector m1 = FloatVector.broadcast(F, dmin * minK(w, sc, is));
        FloatVector m2 = FloatVector.broadcast(F, dmin * minK(w, sc, is + 1));
        for (int j = 0; j < 32; j += L) {
          // Nibbles are split in 32-bit lanes after widening: byte-lane shifts have no x86 instruction.
          IntVector q = ints(w, qo + j);
          FloatVector lo = (FloatVector) q.and(0xF).convertShape(VectorOperators.I2F, F, 0);
          FloatVector hi = (FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0xF).convertShape(VectorOperators.I2F, F, 0);
          acc0 = lo.fma(d1, m1).fma(FloatVector.fromArray(F, x, xb + j), acc0);
          acc1 = hi.fma(d2, m2).fma(FloatVector.fromArray(F, x, xb + 32 + j), acc1);
        }
      }
    }
    return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
  }

  /** Decodes row copy {@code w} into {@code out[0..n)}. */
  static void decode(byte[] w, float[] out, int n) {
    for (int b = 0; b < n / 256; b++) {
      int o = 144 * b;
      float d = f16(w, o);
      float dmin = f16(w, o + 2);
      for (int c = 0; c < 4; c++) {
        int is = 2 * c;
        FloatVector m1 = FloatVector.broadcast(F, dmin * minK(w, o + 4, is));
        FloatVector m2 = FloatVector.broadcast(F, dmin * minK(w, o + 4, is + 1));
        float d1 = d * scaleK(w, o + 4, is);
        float d2 = d * scaleK(w, o + 4, is + 1);
        int base = 256 * b + 64 * c;
        for (int j = 0; j < 32; j += L) {
          IntVector q = ints(w, o + 16 + 32 * c + j);
          ((FloatVector) q.and(0xF).convertShape(VectorOperators.I2F, F, 0)).mul(d1).sub(m1).intoArray(out, base + j);
          ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0xF).convertShape(VectorOperators.I2F, F, 0)).mul(d2).sub(m2)
              .intoArray(out, base + 32 + j);
        }
      }
    }
  }
}
