package dev.securetag.gguf.internal.quant;

import java.nio.ByteBuffer;

/**
 * Q5_K: Q4_K with a fifth bit per value in 32 {@code qh} bytes ({@code quantize_row_q5_K_ref}).
 */
public final class Q5_K {
  /** Values per block. */
  public static final int BLOCK = 256;
  /** Bytes per block. */
  public static final int BYTES = 176;

  private Q5_K() {}

  /** Quantizes {@code n} values (whole blocks) of {@code x} from {@code xo} into {@code y[yo..]}, as ggml's reference does. */
  public static void quantize(float[] x, int xo, int n, byte[] y, int yo) {
    QuantMath.checkRow("Q5_K", BLOCK, n);
    KQuants.KScratch s = new KQuants.KScratch();
    for (int b = 0; b < n / BLOCK; b++) {
      quantizeBlock(x, xo + BLOCK * b, y, yo + BYTES * b, s);
    }
  }

  private static void quantizeBlock(float[] x, int xo, byte[] y, int yo, KQuants.KScratch s) {
    KQuants.scalesAndValues(x, xo, y, yo, 31, -0.5f, 15, s);
    int[] lq = s.l;
    int qh = yo + 16;
    int ql = yo + 48;
    for (int i = 0; i < 32; i++) {
      y[qh + i] = 0;
    }
    int m1 = 1;
    int m2 = 2;
    for (int n = 0; n < 256; n += 64) {
      for (int j = 0; j < 32; j++) {
        int l1 = lq[n + j];
        if (l1 > 15) {
          l1 -= 16;
          y[qh + j] |= (byte) m1;
        }
        int l2 = lq[n + j + 32];
        if (l2 > 15) {
          l2 -= 16;
          y[qh + j] |= (byte) m2;
        }
        y[ql + j] = (byte) (l1 | (l2 << 4));
      }
      m1 <<= 2;
      m2 <<= 2;
      ql += 32;
    }
  }

  /** Decodes {@code n} values (whole blocks) stored at byte {@code p} of {@code src} into {@code y[yo..]}. */
  public static void dequantize(ByteBuffer src, int p, int n, float[] y, int yo) {
    QuantMath.checkRow("Q5_K", BLOCK, n);
    KQuants.dequantize(src, p, n, y, yo, true);
  }
}
