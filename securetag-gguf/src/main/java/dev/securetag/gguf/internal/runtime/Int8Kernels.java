package dev.securetag.gguf.internal.runtime;

import dev.securetag.core.Half;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API integer dot products of quantized weight rows with {@link Q8Activation}s, the arithmetic of llama.cpp's
 * {@code ggml_vec_dot_*_q8_*}: weights and activations are multiplied as 16-bit integers, pairs of products are
 * summed into 32-bit lanes, K-quant sub-block scales are applied in integers, and only the per-block (Q8_0/Q4_0/Q5_0)
 * or per-super-block (K-quants) integer sums are converted to float and scaled. The integer part is exact, so a
 * kernel differs from {@link Int8Reference} only in the order the float block terms are added.
 *
 * <p>Weights are read straight from the mapped buffer ({@code fromByteBuffer}): decoding a token streams every weight
 * byte once, and a bulk copy into a heap array first costs about a third of the memory bandwidth. Java 17's Vector API
 * has no 8-bit multiply-add (x86 {@code vpmaddubsw}/{@code vpdpbusd}), so bytes are widened to 16-bit lanes
 * ({@code vpmovsxbw}), multiplied ({@code vpmullw}, exact: |w x| < 2^15) and adjacent pairs summed in 32-bit lanes by
 * reinterpreting the product vector as ints.
 *
 */
public final class Int8Kernels {
  static final VectorSpecies<Float> F = VectorKernels.F;
  static final int L = VectorKernels.L;
  /** Int lanes matching the float lanes. */
  static final VectorSpecies<Integer> I = VectorKernels.I;
  /** Short lanes in a vector of the preferred size: 2L values. */
  static final VectorSpecies<Short> S = VectorKernels.AVAILABLE ? VectorSpecies.of(short.class, F.vectorShape()) : null;
  /** Bytes widened into {@link #S}: 2L values in half a vector. */
  static final VectorSpecies<Byte> BH = VectorKernels.AVAILABLE
      ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 16)) : null;
  /**
   * Scalar little-endian reads of the mapped weights. A {@code ByteBuffer} getter is an ordinary call that C2 stops
   * inlining in methods this big, and every such call spills all vector registers; view var handles are always
   * inlined.
   */
  private static final VarHandle SHORT_LE = MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LONG_LE = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle SHORT_A = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LONG_A = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

  /** Per-lane constants of the Q4_0/Q5_0 kernels: lanes 0-15 hold a block's 16 bytes, lanes beyond are zeroed. */
  private static final ShortVector NIBBLE16 = lanes16((short) 0xF);
  private static final ShortVector EIGHT16 = lanes16((short) 8);
  private static final ShortVector SIXTEEN16 = lanes16((short) 16);
  /** Bit {@code j} in lane {@code j} (j below 16): selects the Q5_0 high bit of each value. */
  private static final ShortVector BIT16 = VectorKernels.AVAILABLE ? ShortVector.fromArray(S, bits16(), 0) : null;
  private static final ThreadLocal<byte[]> ROW = ThreadLocal.withInitial(() -> new byte[0]);

  /** All fp16 values as floats: one load per block scale instead of a branchy conversion (ggml's own table). */
  private static final float[] HALF = new float[65536];
  static {
    for (int i = 0; i < 65536; i++) {
      HALF[i] = Half.f16ToFloat((short) i);
    }
  }

  /** The upper 8 of 16 int lanes (Q6_K: the second sub-block of a product vector). */
  private static final VectorMask<Integer> HI8 = VectorKernels.AVAILABLE && L == 16 ? VectorMask.fromLong(I, 0xFF00L) : null;

  private Int8Kernels() {}

  private static ShortVector lanes16(short v) {
    if (!VectorKernels.AVAILABLE) {
      return null;
    }
    short[] a = new short[S.length()];
    java.util.Arrays.fill(a, 0, 16, v);
    return ShortVector.fromArray(S, a, 0);
  }

  private static short[] bits16() {
    short[] a = new short[S.length()];
    for (int j = 0; j < 16; j++) {
      a[j] = (short) (1 << j);
    }
    return a;
  }

  // Every kernel below is written out in one method, helpers included: a vector passed to or returned from a method
  // that C2 does not inline is boxed on the heap, and C2 refuses to inline a helper it has already compiled on its own
  // once that code is big. Loops over a block's 32 bytes run once with 16 int lanes (AVX-512) and twice with 8.

  // ---------------------------------------------------------------------------------------------- Q8_0

  static float q8_0(ByteBuffer w, int off, int n, Q8Activation a) {
    short[] x = a.q0;
    float[] dx = a.d0;
    FloatVector acc = FloatVector.zero(F);
    for (int b = 0; b < n / 32; b++) {
      int o = off + 34 * b;
      IntVector s = IntVector.zero(I);
      for (int j = 0; j < 32; j += 2 * L) {
        IntVector v = (IntVector) ((ShortVector) ByteVector.fromByteBuffer(BH, w, o + 2 + j, LE).convertShape(VectorOperators.B2S, S, 0)).mul(ShortVector.fromArray(S, x, 32 * b + j)).reinterpretShape(I, 0);
        // |w x| <= 127 * 127, so a pair sums to at most 32258 and fits 16 bits: the high half of v * 0x10001 is the
        // pair's sum (two instructions instead of three shifts and an add).
        s = s.add(v.mul(0x10001).lanewise(VectorOperators.ASHR, 16));
      }
      acc = ((FloatVector) s.convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.broadcast(F, HALF[(short) SHORT_LE.get(w, o) & 0xFFFF] * dx[b]), acc);
    }
    return acc.reduceLanes(VectorOperators.ADD);
  }

  // ---------------------------------------------------------------------------------------------- Q4_0, Q5_0

  /**
   * Q4_0: 16 payload bytes per block, low nibbles are values 0..15, high nibbles 16..31, each minus 8. The row is
   * copied into a per-thread array with slack so that each block's 16 bytes can be read with the same 2L-byte loads
   * as every other kernel (a second vector shape of the same element type makes C2 compile the other kernels worse);
   * with 16 int lanes only the low half of each vector is a block's, the rest is masked to zero.
   */
  static float q4_0(ByteBuffer w, int off, int n, Q8Activation a) {
    short[] x = a.q0;
    float[] dx = a.d0;
    byte[] row = rowCopy(w, off, 18 * (n / 32));
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

  /** Q5_0: Q4_0's nibbles plus a fifth bit per value from the 32-bit {@code qh} (bit j for value j), minus 16. */
  static float q5_0(ByteBuffer w, int off, int n, Q8Activation a) {
    short[] x = a.q0;
    float[] dx = a.d0;
    byte[] row = rowCopy(w, off, 22 * (n / 32));
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

  /** The {@code len} bytes at {@code off} in this thread's row buffer, followed by at least 32 zero bytes. */
  private static byte[] rowCopy(ByteBuffer w, int off, int len) {
    byte[] r = ROW.get();
    if (r.length < len + 32) {
      r = new byte[len + 32];
      ROW.set(r);
    }
    w.get(off, r, 0, len);
    return r;
  }

  // ---------------------------------------------------------------------------------------------- Q4_K, Q5_K
  /**
   * Q4_K: per 256-value block, {@code d * sum_j sc_j * sum(q * x) - dmin * sum_j m_j * bsum_j}. The integer part is
   * llama.cpp's; high nibbles are used as {@code q & 0xF0}, i.e. times 16 (|16 q x| still fits 16 bits), which saves
   * a shift per vector: the low nibbles' scales are multiplied by 16 to match and the block sum divided by 16. The
   * four 64-value chunks run as a loop with the eight scales packed in one long: unrolled, the method grows past
   * the size up to which C2 keeps every vector in registers.
   */
  static float q4_K(ByteBuffer w, int off, int n, Q8Activation a) {
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

  /**
   * Q5_K: Q4_K with a fifth bit per value from the 32 {@code qh} bytes (bit 2c of byte l for value 64c + l, bit
   * 2c + 1 for value 64c + 32 + l). Values reach 31, so the high nibbles are shifted down (31 * 16 * 127 would not
   * fit 16 bits).
   */
  static float q5_K(ByteBuffer w, int off, int n, Q8Activation a) {
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

  // ---------------------------------------------------------------------------------------------- Q6_K

  /**
   * Q6_K: {@code d * sum_j sc_j * sum((q - 32) * x)} over 16 sub-blocks of 16 values with int8 scales. A product
   * vector of 2L values spans 2L / 16 sub-blocks: with 16 int lanes (AVX-512) lanes 0-7 of the paired products belong
   * to one sub-block and 8-15 to the next, so the scales are blended into one vector; with 8 lanes a vector is one
   * sub-block. Only the species the other kernels use appear here: a kernel on other shapes of the same element
   * type is compiled well or badly depending on which ran first.
   */
  static float q6_K(ByteBuffer w, int off, int n, Q8Activation a) {
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
}
