package dev.securetag.gguf.runtime.internal;

import static dev.securetag.gguf.runtime.internal.Kernels.*;

import java.nio.ByteBuffer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorMask;

/**
 * Q6_K products: the integer dot with q8_K activations (vector and scalar reference), the float dot and the row
 * decoder for batched prompts.
 */
final class Q6_KKernels {
  private Q6_KKernels() {}

  /** The upper 8 of 16 int lanes (the second sub-block of a product vector). */
  private static final VectorMask<Integer> HI8 = AVAILABLE && L == 16 ? VectorMask.fromLong(I, 0xFF00L) : null;

  // The integer kernel is one method, helpers included: a vector passed to or returned from a method that C2 does not
  // inline is boxed on the heap, and C2 refuses to inline a helper it has already compiled on its own once that code
  // is big. Loops over a block's 32 bytes run once with 16 int lanes (AVX-512) and twice with 8.

  /**
   * Q6_K: {@code d * sum_j sc_j * sum((q - 32) * x)} over 16 sub-blocks of 16 values with int8 scales. A product
   * vector of 2L values spans 2L / 16 sub-blocks: with 16 int lanes (AVX-512) lanes 0-7 of the paired products belong
   * to one sub-block and 8-15 to the next, so the scales are blended into one vector; with 8 lanes a vector is one
   * sub-block. Only the species the other kernels use appear here: a kernel on other shapes of the same element
   * type is compiled well or badly depending on which ran first.
   */
  static float dot(ByteBuffer w, int off, int n, Q8Activation a) {
    short[] x = a.qk;
    float[] dx = a.dk;
    FloatVector acc = FloatVector.zero(F);
    for (int b = 0; b < n / 256; b++) {
      int o = off + 210 * b;
      int xo = 256 * b;
      IntVector s = IntVector.zero(I);
      for (int h = 0; h < 2; h++) {
        // The 8 int8 scales of this half: sub-block 8h + 2k + l / 16 for value run k.
        long sc = (long) LONG_LE.get(w, o + 192 + 8 * h);
        for (int l = 0; l < 32; l += 2 * L) {
          ShortVector qa = ((ShortVector) ByteVector.fromByteBuffer(BH, w, o + 64 * h + l, LE).convertShape(VectorOperators.B2S, S, 0));
          ShortVector qc = ((ShortVector) ByteVector.fromByteBuffer(BH, w, o + 64 * h + 32 + l, LE).convertShape(VectorOperators.B2S, S, 0));
          ShortVector hq = ((ShortVector) ByteVector.fromByteBuffer(BH, w, o + 128 + 32 * h + l, LE).convertShape(VectorOperators.B2S, S, 0));
          int xb = xo + 128 * h + l;
          // |(q - 32) x| <= 4064: pairs fit 16 bits, so the high half of v * 0x10001 is a pair's sum.
          IntVector v0 = (IntVector) qa.and((short) 0xF).or(hq.lanewise(VectorOperators.LSHL, 4).and((short) 0x30))
              .sub((short) 32).mul(ShortVector.fromArray(S, x, xb)).reinterpretShape(I, 0);
          IntVector v1 = (IntVector) qc.and((short) 0xF).or(hq.lanewise(VectorOperators.LSHL, 2).and((short) 0x30))
              .sub((short) 32).mul(ShortVector.fromArray(S, x, xb + 32)).reinterpretShape(I, 0);
          IntVector v2 = (IntVector) qa.lanewise(VectorOperators.LSHR, 4).and((short) 0xF).or(hq.and((short) 0x30))
              .sub((short) 32).mul(ShortVector.fromArray(S, x, xb + 64)).reinterpretShape(I, 0);
          IntVector v3 = (IntVector) qc.lanewise(VectorOperators.LSHR, 4).and((short) 0xF)
              .or(hq.lanewise(VectorOperators.LSHR, 2).and((short) 0x30)).sub((short) 32)
              .mul(ShortVector.fromArray(S, x, xb + 96)).reinterpretShape(I, 0);
          v0 = v0.mul(0x10001).lanewise(VectorOperators.ASHR, 16);
          v1 = v1.mul(0x10001).lanewise(VectorOperators.ASHR, 16);
          v2 = v2.mul(0x10001).lanewise(VectorOperators.ASHR, 16);
          v3 = v3.mul(0x10001).lanewise(VectorOperators.ASHR, 16);
          if (L == 16) {
            s = s.add(v0.mul(IntVector.broadcast(I, (byte) sc).blend((byte) (sc >>> 8), HI8)))
                .add(v1.mul(IntVector.broadcast(I, (byte) (sc >>> 16)).blend((byte) (sc >>> 24), HI8)))
                .add(v2.mul(IntVector.broadcast(I, (byte) (sc >>> 32)).blend((byte) (sc >>> 40), HI8)))
                .add(v3.mul(IntVector.broadcast(I, (byte) (sc >>> 48)).blend((byte) (sc >>> 56), HI8)));
          } else {
            int sh = l / 2;
            s = s.add(v0.mul((byte) (sc >>> sh))).add(v1.mul((byte) (sc >>> (sh + 16))))
                .add(v2.mul((byte) (sc >>> (sh + 32)))).add(v3.mul((byte) (sc >>> (sh + 48))));
          }
        }
      }
      acc = ((FloatVector) s.convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.broadcast(F, HALF[(short) SHORT_LE.get(w, o + 208) & 0xFFFF] * dx[b]), acc);
    }
    return acc.reduceLanes(VectorOperators.ADD);
  }

  /** The scalar reference of {@link #dot}: ggml's generic integer sums per 16-value sub-block. */
  static float dotScalar(ByteBuffer w, int off, int n, Q8Activation a) {
    float sumf = 0;
    for (int b = 0; b < n / 256; b++) {
      int o = off + 210 * b;
      int isum = 0;
      for (int h = 0; h < 2; h++) {
        int ql = o + 64 * h;
        int qh = o + 128 + 32 * h;
        int sc = o + 192 + 8 * h;
        int x0 = 256 * b + 128 * h;
        // 16-value sub-blocks: l in [0,16) and [16,32) of each of the four 32-value runs.
        for (int half = 0; half < 2; half++) {
          int s0 = 0;
          int s1 = 0;
          int s2 = 0;
          int s3 = 0;
          for (int l = 16 * half; l < 16 * half + 16; l++) {
            int qa = w.get(ql + l) & 0xFF;
            int qc = w.get(ql + 32 + l) & 0xFF;
            int hb = w.get(qh + l) & 0xFF;
            s0 += (((qa & 0xF) | ((hb & 3) << 4)) - 32) * a.qk[x0 + l];
            s1 += (((qc & 0xF) | (((hb >> 2) & 3) << 4)) - 32) * a.qk[x0 + 32 + l];
            s2 += (((qa >> 4) | (((hb >> 4) & 3) << 4)) - 32) * a.qk[x0 + 64 + l];
            s3 += (((qc >> 4) | (((hb >> 6) & 3) << 4)) - 32) * a.qk[x0 + 96 + l];
          }
          isum += w.get(sc + half) * s0 + w.get(sc + half + 2) * s1 + w.get(sc + half + 4) * s2
              + w.get(sc + half + 6) * s3;
        }
      }
      sumf += (f16(w, o + 208) * a.dk[b]) * isum;
    }
    return sumf;
  }

  /** Row copy {@code w} times float activations {@code x[xo..]}: the float reference path. */
  static float dotFloat(byte[] w, float[] x, int xo, int n) {
    FloatVector acc0 = FloatVector.zero(F);
    FloatVector acc1 = FloatVector.zero(F);
    int nb = n / 256;
    for (int b = 0; b < nb; b++) {
      int o = 210 * b;
      float d = f16(w, o + 208);
      for (int h = 0; h < 2; h++) {
        int ql = o + 64 * h;
        int qh = o + 128 + 32 * h;
        int sc = o + 192 + 8 * h;
        int xb = xo + 256 * b + 128 * h;
        for (int l = 0; l < 32; l += L) {
          int is = sc + l / 16;
          IntVector a = ints(w, ql + l);
          IntVector c = ints(w, ql + 32 + l);
          IntVector hq = ints(w, qh + l);
          FloatVector v0 = q6(a.and(0xF), hq.lanewise(VectorOperators.LSHL, 4));
          FloatVector v1 = q6(c.and(0xF), hq.lanewise(VectorOperators.LSHL, 2));
          FloatVector v2 = q6(a.lanewise(VectorOperators.LSHR, 4).and(0xF), hq);
          FloatVector v3 = q6(c.lanewise(VectorOperators.LSHR, 4).and(0xF), hq.lanewise(VectorOperators.LSHR, 2));
          acc0 = v0.mul(d * w[is]).fma(FloatVector.fromArray(F, x, xb + l), acc0);
          acc1 = v1.mul(d * w[is + 2]).fma(FloatVector.fromArray(F, x, xb + 32 + l), acc1);
          acc0 = v2.mul(d * w[is + 4]).fma(FloatVector.fromArray(F, x, xb + 64 + l), acc0);
          acc1 = v3.mul(d * w[is + 6]).fma(FloatVector.fromArray(F, x, xb + 96 + l), acc1);
        }
      }
    }
    return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
  }

  /** Decodes row copy {@code w} into {@code out[0..n)}. */
  static void decode(byte[] w, float[] out, int n) {
    for (int b = 0; b < n / 256; b++) {
      int o = 210 * b;
      float d = f16(w, o + 208);
      for (int h = 0; h < 2; h++) {
        int ql = o + 64 * h;
        int qh = o + 128 + 32 * h;
        int sc = o + 192 + 8 * h;
        int base = 256 * b + 128 * h;
        for (int l = 0; l < 32; l += L) {
          int is = sc + l / 16;
          IntVector a = ints(w, ql + l);
          IntVector c = ints(w, ql + 32 + l);
          IntVector hq = ints(w, qh + l);
          q6(a.and(0xF), hq.lanewise(VectorOperators.LSHL, 4)).mul(d * w[is]).intoArray(out, base + l);
          q6(c.and(0xF), hq.lanewise(VectorOperators.LSHL, 2)).mul(d * w[is + 2]).intoArray(out, base + 32 + l);
          q6(a.lanewise(VectorOperators.LSHR, 4).and(0xF), hq).mul(d * w[is + 4]).intoArray(out, base + 64 + l);
          q6(c.lanewise(VectorOperators.LSHR, 4).and(0xF), hq.lanewise(VectorOperators.LSHR, 2)).mul(d * w[is + 6])
              .intoArray(out, base + 96 + l);
        }
      }
    }
  }

  /** Q6_K value from a low/high nibble and the high bits already shifted to bits 4..5, minus 32, as floats. */
  private static FloatVector q6(IntVector nibble, IntVector high) {
    return (FloatVector) nibble.or(high.and(0x30)).sub(32).convertShape(VectorOperators.I2F, F, 0);
  }
}
