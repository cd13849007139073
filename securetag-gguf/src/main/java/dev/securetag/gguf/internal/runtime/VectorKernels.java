package dev.securetag.gguf.internal.runtime;

import dev.securetag.core.Half;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API dot products over ggml blocks. Each kernel loads {@code L} quantized bytes (one float vector's worth),
 * widens them to floats and accumulates with FMA; block scales multiply either the per-block partial sums or the
 * widened weights, so the arithmetic is the dequantize-then-dot of the scalar path, summed in a different order
 * (activations stay float32: int8 activations would not meet the float64-reference tolerances).
 */
public final class VectorKernels {
  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final int L = F.length();
  /** Vector kernels need at least 8 float lanes (AVX2 or AVX-512 / SVE-256 class hardware). */
  public static final boolean AVAILABLE = L >= 8 && L <= 16 && 32 % L == 0
      && !Boolean.getBoolean("securetag.gguf.scalar");
  static final VectorSpecies<Byte> B = AVAILABLE ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;
  /**
   * Bytes of the array-reading kernels and decoders: the same shape as {@link Int8Kernels}' byte loads, of which only
   * the first L bytes are used (row copies carry slack). The Vector API's shared code is compiled for the shapes it
   * has seen; a second byte shape beside the integer kernels made C2 compile them several times slower in some runs.
   * {@link #B} remains for the buffer-reading kernels of {@code -Dsecuretag.gguf.bufferKernels=true}.
   */
  static final VectorSpecies<Byte> BW = AVAILABLE ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 16)) : null;
  static final VectorSpecies<Short> S = AVAILABLE ? VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16)) : null;
  static final VectorSpecies<Integer> I = AVAILABLE ? VectorSpecies.of(int.class, F.vectorShape()) : null;
  private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

  private VectorKernels() {}

  /** Float lanes of the preferred vector shape on this machine. */
  public static int lanes() {
    return L;
  }

  /** Dot product of two float arrays. */
  public static float dot(float[] a, int ao, float[] b, int bo, int n) {
    int i = 0;
    float s = 0;
    if (AVAILABLE) {
      // Two accumulators: one FMA chain would wait on the FMA latency at every step.
      FloatVector acc0 = FloatVector.zero(F);
      FloatVector acc1 = FloatVector.zero(F);
      for (; i <= n - 2 * L; i += 2 * L) {
        acc0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc0);
        acc1 = FloatVector.fromArray(F, a, ao + i + L).fma(FloatVector.fromArray(F, b, bo + i + L), acc1);
      }
      for (; i <= n - L; i += L) {
        acc0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc0);
      }
      s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }
    for (; i < n; i++) {
      s += a[ao + i] * b[bo + i];
    }
    return s;
  }

  /**
   * Four dot products of one row {@code w} with four activation vectors, written to {@code out[r]} of each output:
   * the row is loaded once per four FMAs and the four chains run independently (a small matrix-matrix kernel for
   * batched prompt evaluation).
   */
  public static void dot4(float[] w, float[] x0, float[] x1, float[] x2, float[] x3, int n, float[] o0, float[] o1,
      float[] o2, float[] o3, int r) {
    FloatVector a0 = FloatVector.zero(F);
    FloatVector a1 = FloatVector.zero(F);
    FloatVector a2 = FloatVector.zero(F);
    FloatVector a3 = FloatVector.zero(F);
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector wv = FloatVector.fromArray(F, w, i);
      a0 = wv.fma(FloatVector.fromArray(F, x0, i), a0);
      a1 = wv.fma(FloatVector.fromArray(F, x1, i), a1);
      a2 = wv.fma(FloatVector.fromArray(F, x2, i), a2);
      a3 = wv.fma(FloatVector.fromArray(F, x3, i), a3);
    }
    float s0 = a0.reduceLanes(VectorOperators.ADD);
    float s1 = a1.reduceLanes(VectorOperators.ADD);
    float s2 = a2.reduceLanes(VectorOperators.ADD);
    float s3 = a3.reduceLanes(VectorOperators.ADD);
    for (; i < n; i++) {
      s0 += w[i] * x0[i];
      s1 += w[i] * x1[i];
      s2 += w[i] * x2[i];
      s3 += w[i] * x3[i];
    }
    o0[r] = s0;
    o1[r] = s1;
    o2[r] = s2;
    o3[r] = s3;
  }

  /**
   * The 4 x 4 block of a matrix-matrix product: rows {@code w0..w3} times inputs {@code x0..x3}, written to
   * {@code oj[r + i]} (input j, row i). Sixteen accumulators in registers, each loaded row and input vector used four
   * times, so the loop is bound by FMAs rather than loads (prompt processing).
   */
  public static void dot4x4(float[] w0, float[] w1, float[] w2, float[] w3, float[] x0, float[] x1, float[] x2,
      float[] x3, int n, float[] o0, float[] o1, float[] o2, float[] o3, int r) {
    FloatVector a00 = FloatVector.zero(F);
    FloatVector a01 = FloatVector.zero(F);
    FloatVector a02 = FloatVector.zero(F);
    FloatVector a03 = FloatVector.zero(F);
    FloatVector a10 = FloatVector.zero(F);
    FloatVector a11 = FloatVector.zero(F);
    FloatVector a12 = FloatVector.zero(F);
    FloatVector a13 = FloatVector.zero(F);
    FloatVector a20 = FloatVector.zero(F);
    FloatVector a21 = FloatVector.zero(F);
    FloatVector a22 = FloatVector.zero(F);
    FloatVector a23 = FloatVector.zero(F);
    FloatVector a30 = FloatVector.zero(F);
    FloatVector a31 = FloatVector.zero(F);
    FloatVector a32 = FloatVector.zero(F);
    FloatVector a33 = FloatVector.zero(F);
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector v0 = FloatVector.fromArray(F, x0, i);
      FloatVector v1 = FloatVector.fromArray(F, x1, i);
      FloatVector v2 = FloatVector.fromArray(F, x2, i);
      FloatVector v3 = FloatVector.fromArray(F, x3, i);
      FloatVector w = FloatVector.fromArray(F, w0, i);
      a00 = w.fma(v0, a00);
      a01 = w.fma(v1, a01);
      a02 = w.fma(v2, a02);
      a03 = w.fma(v3, a03);
      w = FloatVector.fromArray(F, w1, i);
      a10 = w.fma(v0, a10);
      a11 = w.fma(v1, a11);
      a12 = w.fma(v2, a12);
      a13 = w.fma(v3, a13);
      w = FloatVector.fromArray(F, w2, i);
      a20 = w.fma(v0, a20);
      a21 = w.fma(v1, a21);
      a22 = w.fma(v2, a22);
      a23 = w.fma(v3, a23);
      w = FloatVector.fromArray(F, w3, i);
      a30 = w.fma(v0, a30);
      a31 = w.fma(v1, a31);
      a32 = w.fma(v2, a32);
      a33 = w.fma(v3, a33);
    }
    o0[r] = a00.reduceLanes(VectorOperators.ADD) + tail(w0, x0, i, n);
    o1[r] = a01.reduceLanes(VectorOperators.ADD) + tail(w0, x1, i, n);
    o2[r] = a02.reduceLanes(VectorOperators.ADD) + tail(w0, x2, i, n);
    o3[r] = a03.reduceLanes(VectorOperators.ADD) + tail(w0, x3, i, n);
    o0[r + 1] = a10.reduceLanes(VectorOperators.ADD) + tail(w1, x0, i, n);
    o1[r + 1] = a11.reduceLanes(VectorOperators.ADD) + tail(w1, x1, i, n);
    o2[r + 1] = a12.reduceLanes(VectorOperators.ADD) + tail(w1, x2, i, n);
    o3[r + 1] = a13.reduceLanes(VectorOperators.ADD) + tail(w1, x3, i, n);
    o0[r + 2] = a20.reduceLanes(VectorOperators.ADD) + tail(w2, x0, i, n);
    o1[r + 2] = a21.reduceLanes(VectorOperators.ADD) + tail(w2, x1, i, n);
    o2[r + 2] = a22.reduceLanes(VectorOperators.ADD) + tail(w2, x2, i, n);
    o3[r + 2] = a23.reduceLanes(VectorOperators.ADD) + tail(w2, x3, i, n);
    o0[r + 3] = a30.reduceLanes(VectorOperators.ADD) + tail(w3, x0, i, n);
    o1[r + 3] = a31.reduceLanes(VectorOperators.ADD) + tail(w3, x1, i, n);
    o2[r + 3] = a32.reduceLanes(VectorOperators.ADD) + tail(w3, x2, i, n);
    o3[r + 3] = a33.reduceLanes(VectorOperators.ADD) + tail(w3, x3, i, n);
  }

  private static float tail(float[] w, float[] x, int i, int n) {
    float s = 0;
    for (; i < n; i++) {
      s += w[i] * x[i];
    }
    return s;
  }

  /** {@code y += a * x}. */
  public static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
    int i = 0;
    if (AVAILABLE) {
      FloatVector av = FloatVector.broadcast(F, a);
      for (; i <= n - L; i += L) {
        FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
      }
    }
    for (; i < n; i++) {
      y[yo + i] += a * x[xo + i];
    }
  }

  static float dotF32(ByteBuffer w, int off, float[] x, int xo, int n) {
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

  static float dotF16(ByteBuffer w, int off, float[] x, int xo, int n) {
    FloatVector acc = FloatVector.zero(F);
    int i = 0;
    for (; i <= n - L; i += L) {
      IntVector h = (IntVector) ShortVector.fromByteBuffer(S, w, off + 2 * i, LE)
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

  static float dotQ8_0(ByteBuffer w, int off, float[] x, int xo, int n) {
    FloatVector acc = FloatVector.zero(F);
    int nb = n / 32;
    for (int b = 0; b < nb; b++) {
      int o = off + 34 * b;
      float d = Half.f16ToFloat(w.getShort(o));
      FloatVector bs = FloatVector.zero(F);
      for (int j = 0; j < 32; j += L) {
        FloatVector q = (FloatVector) ByteVector.fromByteBuffer(B, w, o + 2 + j, LE)
            .convertShape(VectorOperators.B2F, F, 0);
        bs = q.fma(FloatVector.fromArray(F, x, xo + 32 * b + j), bs);
      }
      acc = bs.fma(FloatVector.broadcast(F, d), acc);
    }
    return acc.reduceLanes(VectorOperators.ADD);
  }

  static float dotQ4_0(ByteBuffer w, int off, float[] x, int xo, int n) {
    FloatVector acc = FloatVector.zero(F);
    int nb = n / 32;
    for (int b = 0; b < nb; b++) {
      int o = off + 18 * b;
      float d = Half.f16ToFloat(w.getShort(o));
      FloatVector bs = FloatVector.zero(F);
      int xb = xo + 32 * b;
      for (int j = 0; j < 16; j += L) {
        ByteVector q = ByteVector.fromByteBuffer(B, w, o + 2 + j, LE);
        FloatVector lo = (FloatVector) q.and((byte) 0xF).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0);
        FloatVector hi = (FloatVector) hiNibbles(q).sub((byte) 8)
            .convertShape(VectorOperators.B2F, F, 0);
        bs = lo.fma(FloatVector.fromArray(F, x, xb + j), bs);
        bs = hi.fma(FloatVector.fromArray(F, x, xb + 16 + j), bs);
      }
      acc = bs.fma(FloatVector.broadcast(F, d), acc);
    }
    return acc.reduceLanes(VectorOperators.ADD);
  }

  static float dotQ4_K(ByteBuffer w, int off, float[] x, int xo, int n) {
    FloatVector acc = FloatVector.zero(F);
    FloatVector mins = FloatVector.zero(F);
    int nb = n / 256;
    for (int b = 0; b < nb; b++) {
      int o = off + 144 * b;
      float d = Half.f16ToFloat(w.getShort(o));
      float dmin = Half.f16ToFloat(w.getShort(o + 2));
      int sc = o + 4;
      for (int c = 0; c < 4; c++) {
        int is = 2 * c;
        int qo = o + 16 + 32 * c;
        int xb = xo + 256 * b + 64 * c;
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector s1 = FloatVector.zero(F);
        FloatVector s2 = FloatVector.zero(F);
        for (int j = 0; j < 32; j += L) {
          ByteVector q = ByteVector.fromByteBuffer(B, w, qo + j, LE);
          FloatVector lo = (FloatVector) q.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0);
          FloatVector hi = (FloatVector) hiNibbles(q).convertShape(VectorOperators.B2F, F, 0);
          FloatVector x1 = FloatVector.fromArray(F, x, xb + j);
          FloatVector x2 = FloatVector.fromArray(F, x, xb + 32 + j);
          a1 = lo.fma(x1, a1);
          a2 = hi.fma(x2, a2);
          s1 = s1.add(x1);
          s2 = s2.add(x2);
        }
        acc = a1.fma(FloatVector.broadcast(F, d * scaleK(w, sc, is)), acc);
        acc = a2.fma(FloatVector.broadcast(F, d * scaleK(w, sc, is + 1)), acc);
        mins = s1.fma(FloatVector.broadcast(F, dmin * minK(w, sc, is)), mins);
        mins = s2.fma(FloatVector.broadcast(F, dmin * minK(w, sc, is + 1)), mins);
      }
    }
    return acc.sub(mins).reduceLanes(VectorOperators.ADD);
  }

  static float dotQ6_K(ByteBuffer w, int off, float[] x, int xo, int n) {
    float sum = 0;
    int nb = n / 256;
    for (int b = 0; b < nb; b++) {
      int o = off + 210 * b;
      float d = Half.f16ToFloat(w.getShort(o + 208));
      sum += dotQ6_KHalf(w, o, 0, d, x, xo + 256 * b) + dotQ6_KHalf(w, o, 1, d, x, xo + 256 * b + 128);
    }
    return sum;
  }

  private static float dotQ6_KHalf(ByteBuffer w, int o, int h, float d, float[] x, int xb) {
    int ql = o + 64 * h;
    int qh = o + 128 + 32 * h;
    int sc = o + 192 + 8 * h;
    FloatVector acc = FloatVector.zero(F);
    for (int l = 0; l < 32; l += L) {
      int is = l / 16;
      ByteVector a = ByteVector.fromByteBuffer(B, w, ql + l, LE);
      ByteVector c = ByteVector.fromByteBuffer(B, w, ql + 32 + l, LE);
      ByteVector hq = ByteVector.fromByteBuffer(B, w, qh + l, LE);
      acc = mulX(q6Lo(a, hq, 0), x, xb + l).fma(FloatVector.broadcast(F, d * w.get(sc + is)), acc);
      acc = mulX(q6Lo(c, hq, 2), x, xb + 32 + l).fma(FloatVector.broadcast(F, d * w.get(sc + is + 2)), acc);
      acc = mulX(q6Hi(a, hq, 4), x, xb + 64 + l).fma(FloatVector.broadcast(F, d * w.get(sc + is + 4)), acc);
      acc = mulX(q6Hi(c, hq, 6), x, xb + 96 + l).fma(FloatVector.broadcast(F, d * w.get(sc + is + 6)), acc);
    }
    return acc.reduceLanes(VectorOperators.ADD);
  }

  /**
   * Whether the quantized kernels read a row through a bulk copy into a heap array (the default): C2 compiles
   * {@code fromArray} on a {@code byte[]} to plain vector loads, while {@code fromByteBuffer} on a mapped buffer keeps
   * per-load bounds and liveness checks, which cost more than the one memcpy of the row. The property keeps the
   * buffer-reading kernels selectable for A/B benchmarks.
   */
  static final boolean ARRAY_KERNELS = !Boolean.getBoolean("securetag.gguf.bufferKernels");

  private static final ThreadLocal<byte[]> ROW = ThreadLocal.withInitial(() -> new byte[0]);

  /** The bytes {@code [off, off+len)} of {@code w} in this thread's reusable row buffer (at least 64 bytes slack). */
  static byte[] rowBytes(ByteBuffer w, int off, int len) {
    byte[] a = ROW.get();
    if (a.length < len + 64) {
      a = new byte[len + 64];
      ROW.set(a);
    }
    w.get(off, a, 0, len);
    return a;
  }

  private static float f16(byte[] a, int o) {
    return Half.f16ToFloat((short) ((a[o] & 0xFF) | (a[o + 1] << 8)));
  }

  static float dotQ8_0(byte[] w, float[] x, int xo, int n) {
    // Two accumulators and the scale applied to the weights: each block is an independent multiply and one FMA
    // per accumulator, so consecutive blocks do not wait on each other's FMA latency.
    FloatVector acc0 = FloatVector.zero(F);
    FloatVector acc1 = FloatVector.zero(F);
    int nb = n / 32;
    for (int b = 0; b < nb; b++) {
      int o = 34 * b;
      FloatVector d = FloatVector.broadcast(F, f16(w, o));
      int xb = xo + 32 * b;
      for (int j = 0; j < 32; j += 2 * L) {
        FloatVector q0 = (FloatVector) ints(w, o + 2 + j).convertShape(VectorOperators.I2F, F, 0);
        FloatVector q1 = (FloatVector) ints(w, o + 2 + j + L).convertShape(VectorOperators.I2F, F, 0);
        acc0 = q0.mul(d).fma(FloatVector.fromArray(F, x, xb + j), acc0);
        acc1 = q1.mul(d).fma(FloatVector.fromArray(F, x, xb + j + L), acc1);
      }
    }
    return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
  }

  static float dotQ4_K(byte[] w, float[] x, int xo, int n) {
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

  static float dotQ6_K(byte[] w, float[] x, int xo, int n) {
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

  /** Q6_K value from a low/high nibble and the high bits already shifted to bits 4..5, minus 32, as floats. */
  private static FloatVector q6(IntVector nibble, IntVector high) {
    return (FloatVector) nibble.or(high.and(0x30)).sub(32).convertShape(VectorOperators.I2F, F, 0);
  }

  /** {@code L} bytes from {@code w[o..]} sign-extended to int lanes. */
  private static IntVector ints(byte[] w, int o) {
    return (IntVector) ByteVector.fromArray(BW, w, o).convertShape(VectorOperators.B2I, I, 0);
  }

  private static int scaleK(byte[] b, int q, int j) {
    if (j < 4) {
      return b[q + j] & 63;
    }
    return (b[q + j + 4] & 0xF) | (((b[q + j - 4] & 0xFF) >> 6) << 4);
  }

  private static int minK(byte[] b, int q, int j) {
    if (j < 4) {
      return b[q + j + 4] & 63;
    }
    return ((b[q + j + 4] & 0xFF) >> 4) | (((b[q + j] & 0xFF) >> 6) << 4);
  }

  /**
   * Decodes one row into floats with vector instructions, for batched products where one decode serves every
   * token of the batch. Returns false for types without a vector decoder (the caller then uses the reference one).
   */
  static boolean decode(dev.securetag.gguf.GgmlType type, ByteBuffer w, int off, float[] out, int n) {
    // One small method per type: the Vector API only performs when C2 inlines every operation, and one method
    // holding all decoders exceeds the inlining budget.
    switch (type) {
      case F32 -> decodeF32(w, off, out, n);
      case F16 -> decodeF16(w, off, out, n);
      case Q8_0 -> {
        if (ARRAY_KERNELS) {
          decodeQ8_0(rowBytes(w, off, 34 * (n / 32)), out, n);
        } else {
          decodeQ8_0(w, off, out, n);
        }
      }
      case Q4_0 -> {
        if (ARRAY_KERNELS) {
          decodeQ4_0(rowBytes(w, off, 18 * (n / 32)), out, n);
        } else {
          decodeQ4_0(w, off, out, n);
        }
      }
      case Q4_K -> {
        if (ARRAY_KERNELS) {
          decodeQ4_K(rowBytes(w, off, 144 * (n / 256)), out, n);
        } else {
          decodeQ4_K(w, off, out, n);
        }
      }
      case Q6_K -> {
        if (ARRAY_KERNELS) {
          decodeQ6_K(rowBytes(w, off, 210 * (n / 256)), out, n);
        } else {
          for (int b = 0; b < n / 256; b++) {
            int o = off + 210 * b;
            float d = Half.f16ToFloat(w.getShort(o + 208));
            decodeQ6_KHalf(w, o, 0, d, out, 256 * b);
            decodeQ6_KHalf(w, o, 1, d, out, 256 * b + 128);
          }
        }
      }
      default -> {
        return false;
      }
    }
    return true;
  }

  private static void decodeF32(ByteBuffer w, int off, float[] out, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector.fromByteBuffer(F, w, off + 4 * i, LE).intoArray(out, i);
    }
    for (; i < n; i++) {
      out[i] = w.getFloat(off + 4 * i);
    }
  }

  private static void decodeF16(ByteBuffer w, int off, float[] out, int n) {
    int i = 0;
    for (; i <= n - L; i += L) {
      IntVector h = (IntVector) ShortVector.fromByteBuffer(S, w, off + 2 * i, LE)
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

  private static void decodeQ8_0(ByteBuffer w, int off, float[] out, int n) {
    for (int b = 0; b < n / 32; b++) {
      int o = off + 34 * b;
      float d = Half.f16ToFloat(w.getShort(o));
      for (int j = 0; j < 32; j += L) {
        scaled(ByteVector.fromByteBuffer(B, w, o + 2 + j, LE), d).intoArray(out, 32 * b + j);
      }
    }
  }

  private static void decodeQ8_0(byte[] w, float[] out, int n) {
    for (int b = 0; b < n / 32; b++) {
      int o = 34 * b;
      float d = f16(w, o);
      for (int j = 0; j < 32; j += L) {
        ((FloatVector) ints(w, o + 2 + j).convertShape(VectorOperators.I2F, F, 0)).mul(d).intoArray(out, 32 * b + j);
      }
    }
  }

  private static void decodeQ4_0(byte[] w, float[] out, int n) {
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

  private static void decodeQ4_0(ByteBuffer w, int off, float[] out, int n) {
    for (int b = 0; b < n / 32; b++) {
      int o = off + 18 * b;
      float d = Half.f16ToFloat(w.getShort(o));
      for (int j = 0; j < 16; j += L) {
        ByteVector q = ByteVector.fromByteBuffer(B, w, o + 2 + j, LE);
        scaled(q.and((byte) 0xF).sub((byte) 8), d).intoArray(out, 32 * b + j);
        scaled(hiNibbles(q).sub((byte) 8), d).intoArray(out, 32 * b + 16 + j);
      }
    }
  }

  private static void decodeQ4_K(ByteBuffer w, int off, float[] out, int n) {
    for (int b = 0; b < n / 256; b++) {
      int o = off + 144 * b;
      float d = Half.f16ToFloat(w.getShort(o));
      float dmin = Half.f16ToFloat(w.getShort(o + 2));
      for (int c = 0; c < 4; c++) {
        int is = 2 * c;
        FloatVector m1 = FloatVector.broadcast(F, dmin * minK(w, o + 4, is));
        FloatVector m2 = FloatVector.broadcast(F, dmin * minK(w, o + 4, is + 1));
        float d1 = d * scaleK(w, o + 4, is);
        float d2 = d * scaleK(w, o + 4, is + 1);
        int base = 256 * b + 64 * c;
        for (int j = 0; j < 32; j += L) {
          ByteVector q = ByteVector.fromByteBuffer(B, w, o + 16 + 32 * c + j, LE);
          scaled(q.and((byte) 0xF), d1).sub(m1).intoArray(out, base + j);
          scaled(hiNibbles(q), d2).sub(m2).intoArray(out, base + 32 + j);
        }
      }
    }
  }

  private static void decodeQ4_K(byte[] w, float[] out, int n) {
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

  private static void decodeQ6_K(byte[] w, float[] out, int n) {
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

  private static void decodeQ6_KHalf(ByteBuffer w, int o, int h, float d, float[] out, int base) {
    int ql = o + 64 * h;
    int qh = o + 128 + 32 * h;
    int sc = o + 192 + 8 * h;
    for (int l = 0; l < 32; l += L) {
      int is = l / 16;
      ByteVector a = ByteVector.fromByteBuffer(B, w, ql + l, LE);
      ByteVector c = ByteVector.fromByteBuffer(B, w, ql + 32 + l, LE);
      ByteVector hq = ByteVector.fromByteBuffer(B, w, qh + l, LE);
      scaled(q6Lo(a, hq, 0), d * w.get(sc + is)).intoArray(out, base + l);
      scaled(q6Lo(c, hq, 2), d * w.get(sc + is + 2)).intoArray(out, base + 32 + l);
      scaled(q6Hi(a, hq, 4), d * w.get(sc + is + 4)).intoArray(out, base + 64 + l);
      scaled(q6Hi(c, hq, 6), d * w.get(sc + is + 6)).intoArray(out, base + 96 + l);
    }
  }

  /**
   * Q6_K value from the low nibble of {@code q} and the two high bits of {@code hq} at {@code shift}, minus 32. Bits
   * are moved with 32-bit lane shifts and masked: x86 has no byte-lane shifts, and C2 emulates them slowly.
   */
  private static ByteVector q6Lo(ByteVector q, ByteVector hq, int shift) {
    return q.and((byte) 0xF).or(highBits(hq, shift)).sub((byte) 32);
  }

  /** Q6_K value from the high nibble of {@code q} and the two high bits of {@code hq} at {@code shift}, minus 32. */
  private static ByteVector q6Hi(ByteVector q, ByteVector hq, int shift) {
    return hiNibbles(q).or(highBits(hq, shift)).sub((byte) 32);
  }

  /** Bits {@code shift, shift+1} of each byte moved to bits 4 and 5 (mask 0x30). */
  private static ByteVector highBits(ByteVector hq, int shift) {
    IntVector i = hq.reinterpretAsInts();
    IntVector moved = shift < 4 ? i.lanewise(VectorOperators.LSHL, 4 - shift)
        : shift > 4 ? i.lanewise(VectorOperators.LSHR, shift - 4) : i;
    return moved.reinterpretAsBytes().and((byte) 0x30);
  }

  /** The high nibble of each byte, via a 32-bit shift and a mask (see {@link #q6Lo}). */
  private static ByteVector hiNibbles(ByteVector q) {
    return q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF);
  }

  private static FloatVector scaled(ByteVector q, float s) {
    return ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).mul(s);
  }

  private static FloatVector mulX(ByteVector q, float[] x, int xo) {
    return ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xo));
  }

  private static int scaleK(ByteBuffer b, int q, int j) {
    if (j < 4) {
      return b.get(q + j) & 63;
    }
    return (b.get(q + j + 4) & 0xF) | (((b.get(q + j - 4) & 0xFF) >> 6) << 4);
  }

  private static int minK(ByteBuffer b, int q, int j) {
    if (j < 4) {
      return b.get(q + j + 4) & 63;
    }
    return ((b.get(q + j + 4) & 0xFF) >> 4) | (((b.get(q + j) & 0xFF) >> 6) << 4);
  }
}
