package dev.securetag.gguf.internal.quant;

import dev.securetag.core.internal.Half;
import java.nio.ByteBuffer;

/** The unquantized element types F32, F16 and BF16: one value per element, written and read as ggml stores them. */
public final class Floats {
  private Floats() {}

  /** Writes {@code n} values of {@code x} from {@code xo} as F32 (IEEE float32, little-endian) into {@code y[yo..]}. */
  public static void quantizeF32(float[] x, int xo, int n, byte[] y, int yo) {
    for (int i = 0; i < n; i++) {
      QuantMath.putInt(y, yo + 4 * i, Float.floatToRawIntBits(x[xo + i]));
    }
  }

  /** Reads {@code n} F32 values at byte {@code p} of {@code src} into {@code y[yo..]}. */
  public static void dequantizeF32(ByteBuffer src, int p, int n, float[] y, int yo) {
    ByteBuffer b = QuantMath.le(src);
    for (int i = 0; i < n; i++) {
      y[yo + i] = b.getFloat(p + 4 * i);
    }
  }

  /** Writes {@code n} values of {@code x} from {@code xo} as F16 (IEEE half precision, nearest even) into {@code y[yo..]}. */
  public static void quantizeF16(float[] x, int xo, int n, byte[] y, int yo) {
    for (int i = 0; i < n; i++) {
      QuantMath.putShort(y, yo + 2 * i, Half.floatToF16(x[xo + i]));
    }
  }

  /** Reads {@code n} F16 values at byte {@code p} of {@code src} into {@code y[yo..]}. */
  public static void dequantizeF16(ByteBuffer src, int p, int n, float[] y, int yo) {
    ByteBuffer b = QuantMath.le(src);
    for (int i = 0; i < n; i++) {
      y[yo + i] = QuantMath.f32(b.getShort(p + 2 * i));
    }
  }

  /** Writes {@code n} values of {@code x} from {@code xo} as BF16 (a float32's upper half, nearest even) into {@code y[yo..]}. */
  public static void quantizeBF16(float[] x, int xo, int n, byte[] y, int yo) {
    for (int i = 0; i < n; i++) {
      QuantMath.putShort(y, yo + 2 * i, Half.floatToBf16(x[xo + i]));
    }
  }

  /** Reads {@code n} BF16 values at byte {@code p} of {@code src} into {@code y[yo..]}. */
  public static void dequantizeBF16(ByteBuffer src, int p, int n, float[] y, int yo) {
    ByteBuffer b = QuantMath.le(src);
    for (int i = 0; i < n; i++) {
      y[yo + i] = Half.bf16ToFloat(b.getShort(p + 2 * i));
    }
  }
}
