package dev.securetag.gguf.runtime.internal;

import dev.securetag.core.internal.Half;
import dev.securetag.gguf.GgmlType;

/**
 * One activation vector quantized to 8 bits per value the way llama.cpp's CPU backend quantizes the input of a
 * matrix product before its integer dot products, so that this runtime's products equal llama.cpp's up to float
 * summation order:
 *
 * <ul>
 *   <li><b>q8_0 grid</b> (input of Q8_0, Q4_0, Q5_0, Q4_1, Q5_1 weights; x86 {@code quantize_row_q8_0} /
 *       {@code quantize_row_q8_1}): per block of 32, {@code amax = max|x|}, scale {@code d = fp16(amax / 127)}
 *       (kept as the float value of that half), {@code q = rint(x * (127 / amax))} (ties to even); q8_1 also keeps
 *       {@code s = fp16(amax / 127 * sum(q))}.
 *   <li><b>q8_K grid</b> (input of Q4_K, Q5_K, Q6_K weights; {@code quantize_row_q8_K_ref}): per block of 256,
 *       {@code max} = the signed value of largest magnitude (first one on ties), {@code iscale = -127 / max},
 *       {@code q = min(127, rint(iscale * x))}, float32 scale {@code d = 1 / iscale}, and the sums of each 16
 *       values ({@code bsums}).
 * </ul>
 *
 * <p>The values are stored widened to {@code short} so that vector kernels load them straight into 16-bit lanes.
 * Each grid is computed on first use after {@link #set}; the float arrays hold the dequantized activations
 * ({@code d * q}) for the batched float kernels of prompt processing.
 */
public final class Q8Activation {
  private final int n;
  final short[] q0;
  /** {@link #q0} as bytes: the native kernels' operand. */
  final byte[] q0b;
  final float[] d0;
  final float[] s0;
  final short[] qk;
  /** {@link #qk} as bytes: the native kernels' operand. */
  final byte[] qkb;
  final float[] dk;
  final int[] bsum16;
  /** {@link #bsum16} as 16-bit values (at most 16 x 127 in magnitude): the native kernels' operand. */
  final short[] bsum16s;
  final int[] bsum32;
  private final float[] x;
  private final float[] f0;
  private final float[] fk;
  private boolean has0;
  private boolean hasK;
  private boolean hasF0;
  private boolean hasFK;

  public Q8Activation(int n) {
    this.n = n;
    this.x = new float[n];
    // Slack: the Q4_0/Q5_0 kernels read a full vector at value 32b + 16 of the last block.
    this.q0 = new short[n + 32];
    this.q0b = new byte[n + 32];
    this.d0 = new float[(n + 31) / 32];
    this.s0 = new float[(n + 31) / 32];
    boolean k = n % 256 == 0;
    this.qk = k ? new short[n] : null;
    this.qkb = k ? new byte[n] : null;
    this.dk = k ? new float[n / 256] : null;
    this.bsum16 = k ? new int[n / 16] : null;
    this.bsum16s = k ? new short[n / 16] : null;
    this.bsum32 = k ? new int[n / 32] : null;
    this.f0 = new float[n];
    this.fk = k ? new float[n] : null;
  }

  /** True for the weight types with an integer dot product (every quantized type the runtime runs). */
  public static boolean hasIntegerDot(GgmlType t) {
    return switch (t) {
      case Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K -> true;
      default -> false;
    };
  }

  /** True for the types whose activations use the q8_K grid (256-value blocks); the others use q8_0. */
  public static boolean usesQ8K(GgmlType t) {
    return t == GgmlType.Q4_K || t == GgmlType.Q5_K || t == GgmlType.Q6_K;
  }

  /** Values per vector. */
  public int length() {
    return n;
  }

  /** Takes {@code src[0..n)} as the new activation; quantized forms are recomputed on demand. */
  public void set(float[] src) {
    System.arraycopy(src, 0, x, 0, n);
    has0 = false;
    hasK = false;
    hasF0 = false;
    hasFK = false;
  }

  /** The float activation last {@link #set}. */
  public float[] floats() {
    return x;
  }

  /** Makes sure the q8_0 grid is computed; returns this. */
  public Q8Activation q8_0() {
    if (!has0) {
      if (n % 32 != 0) {
        throw new IllegalStateException("q8_0 needs a multiple of 32 values, got " + n);
      }
      quantizeQ8_0(x, n, q0, q0b, d0, s0);
      has0 = true;
    }
    return this;
  }

  /** Makes sure the q8_K grid is computed; returns this. */
  public Q8Activation q8_K() {
    if (!hasK) {
      if (qk == null) {
        throw new IllegalStateException("q8_K needs a multiple of 256 values, got " + n);
      }
      quantizeQ8_K(x, n, qk, qkb, dk, bsum16, bsum16s, bsum32);
      hasK = true;
    }
    return this;
  }

  /** The q8_0-grid activation dequantized to floats ({@code d * q}). */
  public float[] dequantized0() {
    if (!hasF0) {
      q8_0();
      for (int i = 0; i < n; i++) {
        f0[i] = d0[i >> 5] * q0[i];
      }
      hasF0 = true;
    }
    return f0;
  }

  /** The q8_K-grid activation dequantized to floats ({@code d * q}). */
  public float[] dequantizedK() {
    if (!hasFK) {
      q8_K();
      for (int i = 0; i < n; i++) {
        fk[i] = dk[i >> 8] * qk[i];
      }
      hasFK = true;
    }
    return fk;
  }

  /**
   * llama.cpp's x86 {@code quantize_row_q8_0}: the scale is stored as fp16 and the values are rounded with
   * {@code _mm256_round_ps(.., _MM_ROUND_NEAREST)} (ties to even) after multiplying by {@code 127 / amax}, which
   * differs from the reference quantizer only on exact ties. {@code s} is q8_1's {@code fp16(d * sum(q))}.
   */
  static void quantizeQ8_0(float[] x, int n, short[] q, byte[] qb, float[] d, float[] s) {
    for (int b = 0; b < n / 32; b++) {
      int o = 32 * b;
      float amax = 0;
      for (int j = 0; j < 32; j++) {
        amax = Math.max(amax, Math.abs(x[o + j]));
      }
      float df = amax / 127f;
      float id = amax != 0f ? 127f / amax : 0f;
      int sum = 0;
      for (int j = 0; j < 32; j++) {
        int v = (int) Math.rint(x[o + j] * id);
        q[o + j] = (short) v;
        qb[o + j] = (byte) v;
        sum += v;
      }
      d[b] = Half.f16ToFloat(Half.floatToF16(df));
      s[b] = Half.f16ToFloat(Half.floatToF16(df * sum));
    }
  }

  /** {@code quantize_row_q8_K_ref}. */
  static void quantizeQ8_K(float[] x, int n, short[] q, byte[] qb, float[] d, int[] bsum16, short[] bsum16s,
      int[] bsum32) {
    for (int b = 0; b < n / 256; b++) {
      int o = 256 * b;
      float max = 0;
      float amax = 0;
      for (int j = 0; j < 256; j++) {
        float ax = Math.abs(x[o + j]);
        if (ax > amax) {
          amax = ax;
          max = x[o + j];
        }
      }
      if (amax == 0f) {
        d[b] = 0;
        java.util.Arrays.fill(q, o, o + 256, (short) 0);
        java.util.Arrays.fill(qb, o, o + 256, (byte) 0);
      } else {
        float iscale = -127f / max;
        for (int j = 0; j < 256; j++) {
          // nearest_int: round half to even, exact for |v| < 2^22.
          int v = Math.min(127, (int) Math.rint(iscale * x[o + j]));
          q[o + j] = (short) v;
          qb[o + j] = (byte) v;
        }
        d[b] = 1 / iscale;
      }
      for (int j = 0; j < 16; j++) {
        int sum = 0;
        for (int i = 0; i < 16; i++) {
          sum += q[o + 16 * j + i];
        }
        bsum16[16 * b + j] = sum;
        bsum16s[16 * b + j] = (short) sum;
      }
      for (int j = 0; j < 8; j++) {
        bsum32[8 * b + j] = bsum16[16 * b + 2 * j] + bsum16[16 * b + 2 * j + 1];
      }
    }
  }
}
