package dev.securetag.core.internal;

/**
 * IEEE half-precision (F16) and bfloat16 (BF16) conversions, bit-exact with numpy/ggml: round to nearest even,
 * NaN and infinities preserved, subnormals handled. Java 17 has no {@code Float.float16ToFloat}.
 */
public final class Half {
  private Half() {}

  /** F16 bits (low 16 bits of {@code h}) to float. */
  public static float f16ToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      // Subnormal: value = mant * 2^-24.
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    if (exp == 31) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** Float to F16 bits, round to nearest even (as numpy {@code astype(float16)} and ggml's converter). */
  public static short floatToF16(float f) {
    int x = Float.floatToRawIntBits(f);
    int sign = (x >>> 16) & 0x8000;
    int exp = (x >>> 23) & 0xff;
    int mant = x & 0x7fffff;
    if (exp == 0xff) {
      // NaN keeps a quiet payload bit so it stays NaN.
      return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
    }
    int e = exp - 127 + 15;
    if (e >= 31) {
      return (short) (sign | 0x7c00);
    }
    if (e <= 0) {
      if (e < -10) {
        return (short) sign;
      }
      // Subnormal half: shift the full 24-bit significand and round to nearest even.
      int m = mant | 0x800000;
      int shift = 14 - e;
      int half = 1 << (shift - 1);
      int rounded = m >>> shift;
      int rem = m & ((1 << shift) - 1);
      if (rem > half || (rem == half && (rounded & 1) != 0)) {
        rounded++;
      }
      return (short) (sign | rounded);
    }
    int h = (e << 10) | (mant >>> 13);
    int rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
      h++; // may carry into the exponent, which is the correct rounding to the next binade or to infinity
    }
    return (short) (sign | h);
  }

  /** BF16 bits to float (exact). */
  public static float bf16ToFloat(short b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }

  /** Float to BF16 bits, round to nearest even; NaN stays a quiet NaN (as PyTorch and ggml do). */
  public static short floatToBf16(float f) {
    int x = Float.floatToRawIntBits(f);
    if ((x & 0x7fffffff) > 0x7f800000) {
      return (short) ((x >>> 16) | 64);
    }
    return (short) ((x + (0x7fff + ((x >>> 16) & 1))) >>> 16);
  }
}
