package dev.securetag.gguf.runtime.internal;

import dev.securetag.core.internal.Half;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
 * What the per-format kernel classes share ({@code Q8_0Kernels}, {@code Q4_0Kernels}, ..., {@code F16Kernels},
 * {@link FloatKernels}): the vector species, the fp16 table, little-endian var handles and the per-thread row copy.
 * Each format's class holds its Vector API kernels and, beside them, their scalar reference (ggml's generic code),
 * as llama3.java puts one tensor type per class; the format's quantizer and reference dequantizer are its class in
 * securetag-gguf's {@code internal.quant}.
 *
 * <p>C2 compiles the Vector API well only when every vector stays in registers and knows its exact class: each kernel
 * is one flat method without vector-typed helpers it might not inline, block scales are read with view
 * {@code VarHandle}s (a {@code ByteBuffer} getter stops being inlined in a big method, and every call spills the vector
 * registers), and every kernel of one element type uses one vector shape: a second shape beside the integer kernels
 * made C2 compile whichever kernel came second up to seven times slower, depending on run order. The species below
 * are therefore the only ones: {@link #S} and {@link #BH} for the integer kernels and the byte loads of the float
 * kernels, {@link #S_F16} for the F16 float kernels alone.
 */
public final class Kernels {
  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final int L = F.length();
  /** Vector kernels need at least 8 float lanes (AVX2 or AVX-512 / SVE-256 class hardware). */
  public static final boolean AVAILABLE = L >= 8 && L <= 16 && 32 % L == 0
      && !Boolean.getBoolean("securetag.gguf.scalar");
  /** Int lanes matching the float lanes. */
  static final VectorSpecies<Integer> I = AVAILABLE ? VectorSpecies.of(int.class, F.vectorShape()) : null;
  /** Short lanes in a vector of the preferred size: 2L values (the integer kernels' products). */
  static final VectorSpecies<Short> S = AVAILABLE ? VectorSpecies.of(short.class, F.vectorShape()) : null;
  /** Bytes widened into {@link #S} (2L values in half a vector); also the float kernels' byte loads (L used). */
  static final VectorSpecies<Byte> BH = AVAILABLE ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 16)) : null;
  /** L halves widened to int lanes: the F16 float kernels. */
  static final VectorSpecies<Short> S_F16 = AVAILABLE
      ? VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16)) : null;
  static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
  /**
   * Scalar little-endian reads of the mapped weights. A {@code ByteBuffer} getter is an ordinary call that C2 stops
   * inlining in methods this big, and every such call spills all vector registers; view var handles are always
   * inlined.
   */
  static final VarHandle SHORT_LE = MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
  static final VarHandle LONG_LE = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  static final VarHandle SHORT_A = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
  static final VarHandle LONG_A = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  /** All fp16 values as floats: one load per block scale instead of a branchy conversion (ggml's own table). */
  static final float[] HALF = new float[65536];

  static {
    for (int i = 0; i < 65536; i++) {
      HALF[i] = Half.f16ToFloat((short) i);
    }
  }

  /** Per-lane constants of the Q4_0/Q5_0 kernels: lanes 0-15 hold a block's 16 bytes, lanes beyond are zeroed. */
  static final ShortVector NIBBLE16 = lanes16((short) 0xF);
  static final ShortVector EIGHT16 = lanes16((short) 8);
  static final ShortVector SIXTEEN16 = lanes16((short) 16);

  private static final ThreadLocal<byte[]> ROW = ThreadLocal.withInitial(() -> new byte[0]);

  private Kernels() {}

  /** Float lanes of the preferred vector shape on this machine. */
  public static int lanes() {
    return L;
  }

  private static ShortVector lanes16(short v) {
    if (!AVAILABLE) {
      return null;
    }
    short[] a = new short[S.length()];
    java.util.Arrays.fill(a, 0, 16, v);
    return ShortVector.fromArray(S, a, 0);
  }

  /**
   * The bytes {@code [off, off+len)} of {@code w} in this thread's reusable row buffer, followed by at least 64 zero
   * bytes. C2 compiles {@code fromArray} on a {@code byte[]} to plain vector loads, while {@code fromByteBuffer} on a
   * mapped buffer keeps per-load bounds and liveness checks that cost more than one copy of the row (the float
   * kernels and decoders, and the Q4_0/Q5_0 integer kernels, read this copy).
   */
  static byte[] copyRow(ByteBuffer w, int off, int len) {
    byte[] a = ROW.get();
    if (a.length < len + 64) {
      a = new byte[len + 64];
      ROW.set(a);
    }
    w.get(off, a, 0, len);
    return a;
  }

  /** The fp16 value at byte {@code o} of {@code a}. */
  static float f16(byte[] a, int o) {
    return Half.f16ToFloat((short) ((a[o] & 0xFF) | (a[o + 1] << 8)));
  }

  /** The fp16 value at byte {@code o} of {@code w}. */
  static float f16(ByteBuffer w, int o) {
    return Half.f16ToFloat(w.getShort(o));
  }

  /** {@code L} bytes from {@code w[o..]} sign-extended to int lanes. */
  static IntVector ints(byte[] w, int o) {
    return (IntVector) ByteVector.fromArray(BH, w, o).convertShape(VectorOperators.B2I, I, 0);
  }

  /** Sub-block scale {@code j} (0..7) of a Q4_K/Q5_K block whose 12 scale bytes start at {@code q}. */
  static int scaleK(byte[] b, int q, int j) {
    if (j < 4) {
      return b[q + j] & 63;
    }
    return (b[q + j + 4] & 0xF) | (((b[q + j - 4] & 0xFF) >> 6) << 4);
  }

  /** Sub-block min {@code j} (0..7) of a Q4_K/Q5_K block. */
  static int minK(byte[] b, int q, int j) {
    if (j < 4) {
      return b[q + j + 4] & 63;
    }
    return ((b[q + j + 4] & 0xFF) >> 4) | (((b[q + j] & 0xFF) >> 6) << 4);
  }

  /** Sub-block scale {@code j} (0..7) of a Q4_K/Q5_K block whose 12 scale bytes start at {@code q}. */
  static int scaleK(ByteBuffer b, int q, int j) {
    if (j < 4) {
      return b.get(q + j) & 63;
    }
    return (b.get(q + j + 4) & 0xF) | (((b.get(q + j - 4) & 0xFF) >> 6) << 4);
  }

  /** Sub-block min {@code j} (0..7) of a Q4_K/Q5_K block. */
  static int minK(ByteBuffer b, int q, int j) {
    if (j < 4) {
      return b.get(q + j + 4) & 63;
    }
    return ((b.get(q + j + 4) & 0xFF) >> 4) | (((b.get(q + j) & 0xFF) >> 6) << 4);
  }
}
