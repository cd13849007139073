package dev.securetag.gguf.internal.quant;

import java.nio.ByteBuffer;

/**
 * Q5_1: 5-bit values (nibbles plus {@code qh}) with an fp16 scale and minimum, {@code x = d * q + m}
 * ({@code quantize_row_q5_1_ref}).
 */
public final class Q5_1 {
  /** Values per block. */
  public static final int BLOCK = 32;
  /** Bytes per block. */
  public static final int BYTES = 24;

  private Q5_1() {}

  /** Quantizes {@code n} values (whole blocks) of {@code x} from {@code xo} into {@code y[yo..]}, as ggml's reference does. */
  public static void quantize(float[] x, int xo, int n, byte[] y, int yo) {
    QuantMath.checkRow("Q5_1", BLOCK, n);
    for (int b = 0; b < n / BLOCK; b++) {
      quantizeBlock(x, xo + BLOCK * b, y, yo + BYTES * b);
    }
  }

  private static void quantizeBlock(float[] x, int xo, byte[] y, int yo) {
    float min = Float.MAX_VALUE;
    float max = -Float.MAX_VALUE;
    for (int j = 0; j < 32; j++) {
      float v = x[xo + j];
      if (v < min) {
        min = v;
      }
      if (v > max) {
        max = v;
      }
    }
    float d = (max - min) / 31;
    float id = d != 0 ? 1.0f / d : 0.0f;
    QuantMath.putShort(y, yo, QuantMath.f16(d));
    QuantMath.putShort(y, yo + 2, QuantMath.f16(min));
    int qh = 0;
    for (int j = 0; j < 16; j++) {
      int q0 = ((int) ((x[xo + j] - min) * id + 0.5f)) & 0xFF;
      int q1 = ((int) ((x[xo + 16 + j] - min) * id + 0.5f)) & 0xFF;
      y[yo + 8 + j] = (byte) ((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10) >>> 4) << j;
      qh |= ((q1 & 0x10) >>> 4) << (j + 16);
    }
    QuantMath.putInt(y, yo + 4, qh);
  }

  /** Decodes {@code n} values (whole blocks) stored at byte {@code p} of {@code src} into {@code y[yo..]}. */
  public static void dequantize(ByteBuffer src, int p, int n, float[] y, int yo) {
    QuantMath.checkRow("Q5_1", BLOCK, n);
    ByteBuffer b = QuantMath.le(src);
    int nb = n / BLOCK;
    for (int k = 0; k < nb; k++) {
      int o = p + 24 * k;
      float d = QuantMath.f32(b.getShort(o));
      float m = QuantMath.f32(b.getShort(o + 2));
      int qh = b.getInt(o + 4);
      for (int j = 0; j < 16; j++) {
        int q = b.get(o + 8 + j) & 0xFF;
        int h0 = ((qh >>> j) << 4) & 0x10;
        int h1 = (qh >>> (j + 12)) & 0x10;
        y[yo + 32 * k + j] = ((q & 0xF) | h0) * d + m;
        y[yo + 32 * k + j + 16] = ((q >> 4) | h1) * d + m;
      }
    }
  }
}
