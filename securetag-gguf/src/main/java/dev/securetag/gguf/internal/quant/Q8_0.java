package dev.securetag.gguf.internal.quant;

import java.nio.ByteBuffer;

/**
 * Q8_0: blocks of 32 signed bytes with one fp16 scale, {@code x = d * q}. Quantization is ggml's
 * {@code quantize_row_q8_0_ref} ({@code d = amax / 127}, {@code q = roundf(x / d)}); the runtime's integer and vector
 * kernels for this format are its {@code Q8_0Kernels}.
 */
public final class Q8_0 {
  /** Values per block. */
  public static final int BLOCK = 32;
  /** Bytes per block. */
  public static final int BYTES = 34;

  private Q8_0() {}

  /** Quantizes {@code n} values (whole blocks) of {@code x} from {@code xo} into {@code y[yo..]}, as ggml's reference does. */
  public static void quantize(float[] x, int xo, int n, byte[] y, int yo) {
    QuantMath.checkRow("Q8_0", BLOCK, n);
    for (int b = 0; b < n / BLOCK; b++) {
      quantizeBlock(x, xo + BLOCK * b, y, yo + BYTES * b);
    }
  }

  private static void quantizeBlock(float[] x, int xo, byte[] y, int yo) {
    float amax = 0;
    for (int j = 0; j < 32; j++) {
      amax = Math.max(amax, Math.abs(x[xo + j]));
    }
    float d = amax / 127;
    float id = d != 0 ? 1.0f / d : 0.0f;
    QuantMath.putShort(y, yo, QuantMath.f16(d));
    for (int j = 0; j < 32; j++) {
      y[yo + 2 + j] = (byte) (int) QuantMath.roundf(x[xo + j] * id);
    }
  }

  /** Decodes {@code n} values (whole blocks) stored at byte {@code p} of {@code src} into {@code y[yo..]}. */
  public static void dequantize(ByteBuffer src, int p, int n, float[] y, int yo) {
    QuantMath.checkRow("Q8_0", BLOCK, n);
    ByteBuffer b = QuantMath.le(src);
    int nb = n / BLOCK;
    for (int k = 0; k < nb; k++) {
      int o = p + 34 * k;
      float d = QuantMath.f32(b.getShort(o));
      for (int j = 0; j < 32; j++) {
        y[yo + 32 * k + j] = b.get(o + 2 + j) * d;
      }
    }
  }
}
