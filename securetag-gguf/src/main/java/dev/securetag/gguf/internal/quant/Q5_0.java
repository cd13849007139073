package dev.securetag.gguf.internal.quant;

import java.nio.ByteBuffer;

/**
 * Q5_0: Q4_0's nibbles plus a fifth bit per value in a 32-bit {@code qh}, {@code x = d * (q - 16)}
 * ({@code quantize_row_q5_0_ref}).
 */
public final class Q5_0 {
  /** Values per block. */
  public static final int BLOCK = 32;
  /** Bytes per block. */
  public static final int BYTES = 22;

  private Q5_0() {}

  /** Quantizes {@code n} values (whole blocks) of {@code x} from {@code xo} into {@code y[yo..]}, as ggml's reference does. */
  public static void quantize(float[] x, int xo, int n, byte[] y, int yo) {
    QuantMath.checkRow("Q5_0", BLOCK, n);
    for (int b = 0; b < n / BLOCK; b++) {
      quantizeBlock(x, xo + BLOCK * b, y, yo + BYTES * b);
    }
  }

  private static void quantizeBlock(float[] x, int xo, byte[] y, int yo) {
    float amax = 0;
    float max = 0;
    for (int j = 0; j < 32; j++) {
      float v = x[xo + j];
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    float d = max / -16;
    float id = d != 0 ? 1.0f / d : 0.0f;
    QuantMath.putShort(y, yo, QuantMath.f16(d));
    int qh = 0;
    for (int j = 0; j < 16; j++) {
      int q0 = Math.min(31, (byte) (int) (x[xo + j] * id + 16.5f));
      int q1 = Math.min(31, (byte) (int) (x[xo + 16 + j] * id + 16.5f));
      y[yo + 6 + j] = (byte) ((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10) >>> 4) << j;
      qh |= ((q1 & 0x10) >>> 4) << (j + 16);
    }
    QuantMath.putInt(y, yo + 2, qh);
  }

  /** Decodes {@code n} values (whole blocks) stored at byte {@code p} of {@code src} into {@code y[yo..]}. */
  public static void dequantize(ByteBuffer src, int p, int n, float[] y, int yo) {
    QuantMath.checkRow("Q5_0", BLOCK, n);
    ByteBuffer b = QuantMath.le(src);
    int nb = n / BLOCK;
    for (int k = 0; k < nb; k++) {
      int o = p + 22 * k;
      float d = QuantMath.f32(b.getShort(o));
      int qh = b.getInt(o + 2);
      for (int j = 0; j < 16; j++) {
        int q = b.get(o + 6 + j) & 0xFF;
        int h0 = ((qh >>> j) << 4) & 0x10;
        int h1 = (qh >>> (j + 12)) & 0x10;
        y[yo + 32 * k + j] = (((q & 0xF) | h0) - 16) * d;
        y[yo + 32 * k + j + 16] = (((q >> 4) | h1) - 16) * d;
      }
    }
  }
}
