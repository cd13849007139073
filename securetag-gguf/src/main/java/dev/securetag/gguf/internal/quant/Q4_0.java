package dev.securetag.gguf.internal.quant;

import java.nio.ByteBuffer;

/**
 * Q4_0: blocks of 32 values as 4-bit nibbles (values 0..15 low nibbles, 16..31 high) with one fp16 scale,
 * {@code x = d * (q - 8)}; {@code d} is the signed value of largest magnitude over -8 ({@code quantize_row_q4_0_ref}).
 */
public final class Q4_0 {
  /** Values per block. */
  public static final int BLOCK = 32;
  /** Bytes per block. */
  public static final int BYTES = 18;

  private Q4_0() {}

  /** Quantizes {@code n} values (whole blocks) of {@code x} from {@code xo} into {@code y[yo..]}, as ggml's reference does. */
  public static void quantize(float[] x, int xo, int n, byte[] y, int yo) {
    QuantMath.checkRow("Q4_0", BLOCK, n);
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
    float d = max / -8;
    float id = d != 0 ? 1.0f / d : 0.0f;
    QuantMath.putShort(y, yo, QuantMath.f16(d));
    for (int j = 0; j < 16; j++) {
      int q0 = Math.min(15, (byte) (int) (x[xo + j] * id + 8.5f));
      int q1 = Math.min(15, (byte) (int) (x[xo + 16 + j] * id + 8.5f));
      y[yo + 2 + j] = (byte) (q0 | (q1 << 4));
    }
  }

  /** Decodes {@code n} values (whole blocks) stored at byte {@code p} of {@code src} into {@code y[yo..]}. */
  public static void dequantize(ByteBuffer src, int p, int n, float[] y, int yo) {
    QuantMath.checkRow("Q4_0", BLOCK, n);
    ByteBuffer b = QuantMath.le(src);
    int nb = n / BLOCK;
    for (int k = 0; k < nb; k++) {
      int o = p + 18 * k;
      float d = QuantMath.f32(b.getShort(o));
      for (int j = 0; j < 16; j++) {
        int q = b.get(o + 2 + j) & 0xFF;
        y[yo + 32 * k + j] = ((q & 0xF) - 8) * d;
        y[yo + 32 * k + j + 16] = ((q >> 4) - 8) * d;
      }
    }
  }
}
