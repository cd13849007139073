package dev.securetag.gguf.internal.quant;

import dev.securetag.core.internal.Half;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Rounding and little-endian helpers shared by the block formats, with ggml's semantics. */
final class QuantMath {
  /** ggml's {@code GROUP_MAX_EPS}: groups whose largest magnitude is below it quantize to zeros. */
  static final float GROUP_MAX_EPS = 1e-15f;

  private QuantMath() {}

  static int nearestInt(float f) {
    // ggml's nearest_int: adding 1.5 * 2^23 leaves round-half-even of f in the low mantissa bits.
    float val = f + 12582912.f;
    return (Float.floatToRawIntBits(val) & 0x007fffff) - 0x00400000;
  }

  static float roundf(float v) {
    // C roundf: half away from zero. Done in double because |v| + 0.5f can round up in float.
    double d = v;
    return (float) Math.copySign(Math.floor(Math.abs(d) + 0.5), d);
  }

  static short f16(float f) {
    return Half.floatToF16(f);
  }

  static float f32(short h) {
    return Half.f16ToFloat(h);
  }

  static void putShort(byte[] y, int o, short v) {
    y[o] = (byte) v;
    y[o + 1] = (byte) (v >> 8);
  }

  static void putInt(byte[] y, int o, int v) {
    y[o] = (byte) v;
    y[o + 1] = (byte) (v >> 8);
    y[o + 2] = (byte) (v >> 16);
    y[o + 3] = (byte) (v >> 24);
  }

  /** The little-endian view of {@code src} (itself when it already is one). */
  static ByteBuffer le(ByteBuffer src) {
    return src.order() == ByteOrder.LITTLE_ENDIAN ? src : src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Refuses a row length that is not a whole number of blocks. */
  static void checkRow(String type, int block, int n) {
    if (n % block != 0) {
      throw new IllegalArgumentException(type + " rows must be a multiple of " + block + ", got " + n);
    }
  }
}
