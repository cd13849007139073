package dev.securetag.gguf.runtime.internal;

import dev.securetag.gguf.GgmlType;

/**
 * A transcription of ggml's {@code dequantize_row_*} (ggml-quants.c, the llama.cpp commit the fixtures name) that
 * shares no code with the module, so that its runtime can be checked against llama.cpp's bytes rather than against
 * its own quantizer. Plain scalar Java, float arithmetic in ggml's order; speed is irrelevant.
 */
final class GgmlReferenceDecoder {
  private GgmlReferenceDecoder() {}

  /** Decodes one row of {@code n} values of the named type ({@code GgmlType} name) starting at {@code b[off]}. */
  static float[] decode(String type, byte[] b, int off, int n) {
    float[] y = new float[n];
    switch (type) {
      case "F32" -> {
        for (int i = 0; i < n; i++) {
          y[i] = Float.intBitsToFloat(i32(b, off + 4 * i));
        }
      }
      case "F16" -> {
        for (int i = 0; i < n; i++) {
          y[i] = half(u16(b, off + 2 * i));
        }
      }
      case "BF16" -> {
        for (int i = 0; i < n; i++) {
          y[i] = Float.intBitsToFloat(u16(b, off + 2 * i) << 16);
        }
      }
      case "Q8_0" -> {
        for (int blk = 0; blk < n / 32; blk++) {
          int p = off + blk * 34;
          float d = half(u16(b, p));
          for (int j = 0; j < 32; j++) {
            y[blk * 32 + j] = b[p + 2 + j] * d;
          }
        }
      }
      case "Q4_0" -> {
        for (int blk = 0; blk < n / 32; blk++) {
          int p = off + blk * 18;
          float d = half(u16(b, p));
          for (int j = 0; j < 16; j++) {
            int q = b[p + 2 + j] & 0xFF;
            y[blk * 32 + j] = ((q & 0x0F) - 8) * d;
            y[blk * 32 + j + 16] = ((q >> 4) - 8) * d;
          }
        }
      }
      case "Q5_0" -> {
        for (int blk = 0; blk < n / 32; blk++) {
          int p = off + blk * 22;
          float d = half(u16(b, p));
          int qh = i32(b, p + 2);
          for (int j = 0; j < 16; j++) {
            int q = b[p + 6 + j] & 0xFF;
            int xh0 = ((qh >>> j) << 4) & 0x10;
            int xh1 = (qh >>> (j + 12)) & 0x10;
            y[blk * 32 + j] = (((q & 0x0F) | xh0) - 16) * d;
            y[blk * 32 + j + 16] = (((q >> 4) | xh1) - 16) * d;
          }
        }
      }
      case "Q4_K" -> {
        for (int blk = 0; blk < n / 256; blk++) {
          int p = off + blk * 144;
          float d = half(u16(b, p));
          float min = half(u16(b, p + 2));
          int scales = p + 4;
          int q = p + 16;
          int o = blk * 256;
          for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
            float d1 = d * scale(b, scales, is);
            float m1 = min * minOf(b, scales, is);
            float d2 = d * scale(b, scales, is + 1);
            float m2 = min * minOf(b, scales, is + 1);
            for (int l = 0; l < 32; l++) {
              y[o++] = d1 * (b[q + l] & 0x0F) - m1;
            }
            for (int l = 0; l < 32; l++) {
              y[o++] = d2 * ((b[q + l] & 0xFF) >> 4) - m2;
            }
          }
        }
      }
      case "Q5_K" -> {
        for (int blk = 0; blk < n / 256; blk++) {
          int p = off + blk * 176;
          float d = half(u16(b, p));
          float min = half(u16(b, p + 2));
          int scales = p + 4;
          int qh = p + 16;
          int ql = p + 48;
          int o = blk * 256;
          int u1 = 1;
          int u2 = 2;
          for (int j = 0, is = 0; j < 256; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            float d1 = d * scale(b, scales, is);
            float m1 = min * minOf(b, scales, is);
            float d2 = d * scale(b, scales, is + 1);
            float m2 = min * minOf(b, scales, is + 1);
            for (int l = 0; l < 32; l++) {
              y[o++] = d1 * ((b[ql + l] & 0x0F) + ((b[qh + l] & u1) != 0 ? 16 : 0)) - m1;
            }
            for (int l = 0; l < 32; l++) {
              y[o++] = d2 * (((b[ql + l] & 0xFF) >> 4) + ((b[qh + l] & u2) != 0 ? 16 : 0)) - m2;
            }
          }
        }
      }
      case "Q6_K" -> {
        for (int blk = 0; blk < n / 256; blk++) {
          int p = off + blk * 210;
          int ql = p;
          int qh = p + 128;
          int sc = p + 192;
          float d = half(u16(b, p + 208));
          int o = blk * 256;
          for (int part = 0; part < 2; part++, ql += 64, qh += 32, sc += 8, o += 128) {
            for (int l = 0; l < 32; l++) {
              int is = l / 16;
              int h = b[qh + l] & 0xFF;
              int q1 = ((b[ql + l] & 0x0F) | ((h & 3) << 4)) - 32;
              int q2 = ((b[ql + l + 32] & 0x0F) | (((h >> 2) & 3) << 4)) - 32;
              int q3 = (((b[ql + l] & 0xFF) >> 4) | (((h >> 4) & 3) << 4)) - 32;
              int q4 = (((b[ql + l + 32] & 0xFF) >> 4) | (((h >> 6) & 3) << 4)) - 32;
              y[o + l] = d * b[sc + is] * q1;
              y[o + l + 32] = d * b[sc + is + 2] * q2;
              y[o + l + 64] = d * b[sc + is + 4] * q3;
              y[o + l + 96] = d * b[sc + is + 6] * q4;
            }
          }
        }
      }
      default -> throw new IllegalArgumentException("no reference decoder for " + type);
    }
    return y;
  }

  /** Whether {@link #decode} knows the type. */
  static boolean supports(String type) {
    return switch (type) {
      case "F32", "F16", "BF16", "Q8_0", "Q4_0", "Q5_0", "Q4_K", "Q5_K", "Q6_K" -> true;
      default -> false;
    };
  }

  /** ggml's get_scale_min_k4, scale part. */
  private static int scale(byte[] b, int q, int j) {
    return j < 4 ? b[q + j] & 63 : (b[q + j + 4] & 0x0F) | (((b[q + j - 4] & 0xFF) >> 6) << 4);
  }

  /** ggml's get_scale_min_k4, min part. */
  private static int minOf(byte[] b, int q, int j) {
    return j < 4 ? b[q + j + 4] & 63 : ((b[q + j + 4] & 0xFF) >> 4) | (((b[q + j] & 0xFF) >> 6) << 4);
  }

  /** IEEE half to float, exact (subnormals included). */
  static float half(int h) {
    int e = (h >>> 10) & 0x1F;
    int m = h & 0x3FF;
    float v;
    if (e == 0) {
      v = m * 0x1p-24f;
    } else if (e == 31) {
      v = m == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
    } else {
      v = Float.intBitsToFloat(((e + 112) << 23) | (m << 13));
    }
    return (h & 0x8000) != 0 ? -v : v;
  }

  private static int u16(byte[] b, int p) {
    return (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8;
  }

  private static int i32(byte[] b, int p) {
    return (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF) << 16 | (b[p + 3] & 0xFF) << 24;
  }
}
