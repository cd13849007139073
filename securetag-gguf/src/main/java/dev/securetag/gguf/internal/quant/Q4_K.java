package dev.securetag.gguf.internal.quant;

import java.nio.ByteBuffer;

/**
 * Q4_K: super-blocks of 256 values in eight sub-blocks of 32, 4-bit values with 6-bit sub-block scales and mins and
 * fp16 super-block {@code d} and {@code dmin}: {@code x = d * sc_j * q - dmin * m_j} ({@code quantize_row_q4_K_ref}).
 */
public final class Q4_K {
  /** Values per block. */
  public static final int BLOCK = 256;
  /** Bytes per block. */
  public static final int BYTES = 144;

  private Q4_K() {}

  /** Quantizes {@code n} values (whole blocks) of {@code x} from {@code xo} into {@code y[yo..]}, as ggml's reference does. */
  public static void quantize(float[] x, int xo, int n, byte[] y, int yo) {
    QuantMath.checkRow("Q4_K", BLOCK, n);
    KQuants.KScratch s = new KQuants.KScratch();
    for (int b = 0; b < n / BLOCK; b++) {
      quantizeBlock(x, xo + BLOCK * b, y, yo + BYTES * b, s);
    }
  }

  private static void quantizeBlock(float[] x, int xo, byte[] y, int yo, KQuants.KScratch s) {
    KQuants.scalesAndValues(x, xo, y, yo, 15, -1.0f, 20, s);
    int[] lq = s.l;
    int qo = yo + 16;
    for (int j = 0; j < 256; j += 64) {
      for (int i = 0; i < 32; i++) {
        y[qo + i] = (byte) (lq[j + i] | (lq[j + i + 32] << 4));
      }
      qo += 32;
    }
  }

  /** Decodes {@code n} values (whole blocks) stored at byte {@code p} of {@code src} into {@code y[yo..]}. */
  public static void dequantize(ByteBuffer src, int p, int n, float[] y, int yo) {
    QuantMath.checkRow("Q4_K", BLOCK, n);
    KQuants.dequantize(src, p, n, y, yo, false);
  }
}
