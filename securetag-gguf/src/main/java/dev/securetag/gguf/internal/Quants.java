package dev.securetag.gguf.internal;

import dev.securetag.core.Half;
import dev.securetag.gguf.GgmlType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Row quantizers and dequantizers for the ggml block formats, following llama.cpp's reference (no importance matrix)
 * code paths. All arithmetic is IEEE float32 in the reference's order of evaluation, because llama.cpp compiles these
 * routines without FMA contraction or reassociation; changing the order changes last bits and thus output bytes.
 */
public final class Quants {
  private static final float GROUP_MAX_EPS = 1e-15f;

  private Quants() {}

  /** True for the types this class encodes and decodes. */
  public static boolean supports(GgmlType t) {
    return switch (t) {
      case F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K -> true;
      default -> false;
    };
  }

  /** Quantizes {@code n} values (a multiple of the block size) of {@code x} from {@code xo} into {@code y[yo..]}. */
  public static void quantize(GgmlType t, float[] x, int xo, int n, byte[] y, int yo) {
    if (n % t.blockSize() != 0) {
      throw new IllegalArgumentException(t + " rows must be a multiple of " + t.blockSize() + ", got " + n);
    }
    int nb = n / t.blockSize();
    switch (t) {
      case F32 -> {
        for (int i = 0; i < n; i++) {
          putInt(y, yo + 4 * i, Float.floatToRawIntBits(x[xo + i]));
        }
      }
      case F16 -> {
        for (int i = 0; i < n; i++) {
          putShort(y, yo + 2 * i, Half.floatToF16(x[xo + i]));
        }
      }
      case BF16 -> {
        for (int i = 0; i < n; i++) {
          putShort(y, yo + 2 * i, Half.floatToBf16(x[xo + i]));
        }
      }
      case Q8_0 -> {
        for (int b = 0; b < nb; b++) {
          q8_0(x, xo + 32 * b, y, yo + 34 * b);
        }
      }
      case Q4_0 -> {
        for (int b = 0; b < nb; b++) {
          q4_0(x, xo + 32 * b, y, yo + 18 * b);
        }
      }
      case Q4_1 -> {
        for (int b = 0; b < nb; b++) {
          q4_1(x, xo + 32 * b, y, yo + 20 * b);
        }
      }
      case Q5_0 -> {
        for (int b = 0; b < nb; b++) {
          q5_0(x, xo + 32 * b, y, yo + 22 * b);
        }
      }
      case Q5_1 -> {
        for (int b = 0; b < nb; b++) {
          q5_1(x, xo + 32 * b, y, yo + 24 * b);
        }
      }
      case Q4_K, Q5_K -> {
        KScratch s = new KScratch();
        for (int b = 0; b < nb; b++) {
          if (t == GgmlType.Q4_K) {
            qK(x, xo + 256 * b, y, yo + 144 * b, 15, -1.0f, 20, s);
          } else {
            qK(x, xo + 256 * b, y, yo + 176 * b, 31, -0.5f, 15, s);
          }
        }
      }
      case Q6_K -> {
        KScratch s = new KScratch();
        for (int b = 0; b < nb; b++) {
          q6_K(x, xo + 256 * b, y, yo + 210 * b, s);
        }
      }
      default -> throw new UnsupportedOperationException("quantization to " + t + " is not supported");
    }
  }

  private static int nearestInt(float f) {
    // ggml's nearest_int: adding 1.5 * 2^23 leaves round-half-even of f in the low mantissa bits.
    float val = f + 12582912.f;
    return (Float.floatToRawIntBits(val) & 0x007fffff) - 0x00400000;
  }

  private static float roundf(float v) {
    // C roundf: half away from zero. Done in double because |v| + 0.5f can round up in float.
    double d = v;
    return (float) Math.copySign(Math.floor(Math.abs(d) + 0.5), d);
  }

  private static short f16(float f) {
    return Half.floatToF16(f);
  }

  private static float f32(short h) {
    return Half.f16ToFloat(h);
  }

  private static void putShort(byte[] y, int o, short v) {
    y[o] = (byte) v;
    y[o + 1] = (byte) (v >> 8);
  }

  private static void putInt(byte[] y, int o, int v) {
    y[o] = (byte) v;
    y[o + 1] = (byte) (v >> 8);
    y[o + 2] = (byte) (v >> 16);
    y[o + 3] = (byte) (v >> 24);
  }

  private static void q8_0(float[] x, int xo, byte[] y, int yo) {
    float amax = 0;
    for (int j = 0; j < 32; j++) {
      amax = Math.max(amax, Math.abs(x[xo + j]));
    }
    float d = amax / 127;
    float id = d != 0 ? 1.0f / d : 0.0f;
    putShort(y, yo, f16(d));
    for (int j = 0; j < 32; j++) {
      y[yo + 2 + j] = (byte) (int) roundf(x[xo + j] * id);
    }
  }

  private static void q4_0(float[] x, int xo, byte[] y, int yo) {
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
    putShort(y, yo, f16(d));
    for (int j = 0; j < 16; j++) {
      int q0 = Math.min(15, (byte) (int) (x[xo + j] * id + 8.5f));
      int q1 = Math.min(15, (byte) (int) (x[xo + 16 + j] * id + 8.5f));
      y[yo + 2 + j] = (byte) (q0 | (q1 << 4));
    }
  }

  private static void q4_1(float[] x, int xo, byte[] y, int yo) {
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
    float d = (max - min) / 15;
    float id = d != 0 ? 1.0f / d : 0.0f;
    putShort(y, yo, f16(d));
    putShort(y, yo + 2, f16(min));
    for (int j = 0; j < 16; j++) {
      int q0 = Math.min(15, (byte) (int) ((x[xo + j] - min) * id + 0.5f));
      int q1 = Math.min(15, (byte) (int) ((x[xo + 16 + j] - min) * id + 0.5f));
      y[yo + 4 + j] = (byte) (q0 | (q1 << 4));
    }
  }

  private static void q5_0(float[] x, int xo, byte[] y, int yo) {
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
    putShort(y, yo, f16(d));
    int qh = 0;
    for (int j = 0; j < 16; j++) {
      int q0 = Math.min(31, (byte) (int) (x[xo + j] * id + 16.5f));
      int q1 = Math.min(31, (byte) (int) (x[xo + 16 + j] * id + 16.5f));
      y[yo + 6 + j] = (byte) ((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10) >>> 4) << j;
      qh |= ((q1 & 0x10) >>> 4) << (j + 16);
    }
    putInt(y, yo + 2, qh);
  }

  private static void q5_1(float[] x, int xo, byte[] y, int yo) {
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
    putShort(y, yo, f16(d));
    putShort(y, yo + 2, f16(min));
    int qh = 0;
    for (int j = 0; j < 16; j++) {
      int q0 = ((int) ((x[xo + j] - min) * id + 0.5f)) & 0xFF;
      int q1 = ((int) ((x[xo + 16 + j] - min) * id + 0.5f)) & 0xFF;
      y[yo + 8 + j] = (byte) ((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10) >>> 4) << j;
      qh |= ((q1 & 0x10) >>> 4) << (j + 16);
    }
    putInt(y, yo + 4, qh);
  }

  /** Per-thread scratch arrays for the K-quants (one instance per quantize call). */
  private static final class KScratch {
    final int[] l = new int[256];
    final int[] laux = new int[32];
    final float[] w = new float[32];
    final float[] scales = new float[16];
    final float[] mins = new float[16];
    final int[] packed = new int[12];
    final float[] xm = new float[32];
    float theMin;
  }

  private static float makeQkx2Quants(int n, int nmax, float[] x, int xo, float[] w, int[] l, int lo, int[] laux,
      float rmin, float rdelta, int nstep, KScratch s) {
    float min = x[xo];
    float max = x[xo];
    float sumW = w[0];
    float sumX = sumW * x[xo];
    for (int i = 1; i < n; i++) {
      float v = x[xo + i];
      if (v < min) {
        min = v;
      }
      if (v > max) {
        max = v;
      }
      float ww = w[i];
      sumW += ww;
      sumX += ww * v;
    }
    if (min > 0) {
      min = 0;
    }
    if (max == min) {
      for (int i = 0; i < n; i++) {
        l[lo + i] = 0;
      }
      s.theMin = -min;
      return 0.f;
    }
    float[] xm = s.xm;
    for (int i = 0; i < n; i++) {
      xm[i] = x[xo + i] - min;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float bestMad = 0;
    for (int i = 0; i < n; i++) {
      int q = nearestInt(iscale * xm[i]);
      q = Math.max(0, Math.min(nmax, q));
      l[lo + i] = q;
      float diff = scale * q + min - x[xo + i];
      diff = diff * diff;
      bestMad += w[i] * diff;
    }
    for (int is = 0; is <= nstep; is++) {
      iscale = (rmin + rdelta * is + nmax) / (max - min);
      float sumL = 0;
      float sumL2 = 0;
      float sumXl = 0;
      for (int i = 0; i < n; i++) {
        int q = nearestInt(iscale * xm[i]);
        q = Math.max(0, Math.min(nmax, q));
        laux[i] = q;
        float ww = w[i];
        sumL += ww * q;
        sumL2 += ww * q * q;
        sumXl += ww * q * x[xo + i];
      }
      float det = sumW * sumL2 - sumL * sumL;
      if (det > 0) {
        float thisScale = (sumW * sumXl - sumX * sumL) / det;
        float thisMin = (sumL2 * sumX - sumL * sumXl) / det;
        if (thisMin > 0) {
          thisMin = 0;
          thisScale = sumXl / sumL2;
        }
        float mad = 0;
        for (int i = 0; i < n; i++) {
          float diff = thisScale * laux[i] + thisMin - x[xo + i];
          diff = diff * diff;
          mad += w[i] * diff;
        }
        if (mad < bestMad) {
          System.arraycopy(laux, 0, l, lo, n);
          bestMad = mad;
          scale = thisScale;
          min = thisMin;
          // The reference keeps iterating with the updated min (also in max - min), so refresh x - min.
          for (int i = 0; i < n; i++) {
            xm[i] = x[xo + i] - min;
          }
        }
      }
    }
    s.theMin = -min;
    return scale;
  }

  /** Q4_K (nmax 15) and Q5_K (nmax 31) share everything but the trial range and the packing. */
  private static void qK(float[] x, int xo, byte[] y, int yo, int nmax, float rmin, int nstep, KScratch s) {
    int[] lq = s.l;
    float maxScale = 0;
    float maxMin = 0;
    for (int j = 0; j < 8; j++) {
      int xb = xo + 32 * j;
      float sumX2 = 0;
      for (int i = 0; i < 32; i++) {
        sumX2 += x[xb + i] * x[xb + i];
      }
      float avX = (float) Math.sqrt(sumX2 / 32);
      for (int i = 0; i < 32; i++) {
        s.w[i] = avX + Math.abs(x[xb + i]);
      }
      s.scales[j] = makeQkx2Quants(32, nmax, x, xb, s.w, lq, 32 * j, s.laux, rmin, 0.1f, nstep, s);
      s.mins[j] = s.theMin;
      if (s.scales[j] > maxScale) {
        maxScale = s.scales[j];
      }
      if (s.mins[j] > maxMin) {
        maxMin = s.mins[j];
      }
    }
    float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
    float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
    int[] sc = s.packed;
    for (int j = 0; j < 12; j++) {
      sc[j] = 0;
    }
    for (int j = 0; j < 8; j++) {
      int ls = Math.min(63, nearestInt(invScale * s.scales[j])) & 0xFF;
      int lm = Math.min(63, nearestInt(invMin * s.mins[j])) & 0xFF;
      if (j < 4) {
        sc[j] = ls;
        sc[j + 4] = lm;
      } else {
        sc[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4);
        sc[j - 4] |= (ls >> 4) << 6;
        sc[j] |= (lm >> 4) << 6;
      }
    }
    short dh = f16(maxScale / 63.f);
    short dminh = f16(maxMin / 63.f);
    putShort(y, yo, dh);
    putShort(y, yo + 2, dminh);
    for (int j = 0; j < 12; j++) {
      y[yo + 4 + j] = (byte) sc[j];
    }
    float dAll = f32(dh);
    float mAll = f32(dminh);
    for (int j = 0; j < 8; j++) {
      int scj;
      int mj;
      if (j < 4) {
        scj = sc[j] & 63;
        mj = sc[j + 4] & 63;
      } else {
        scj = (sc[j + 4] & 0xF) | ((sc[j - 4] >> 6) << 4);
        mj = (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
      }
      float d = dAll * scj;
      if (d == 0) {
        continue;
      }
      float dm = mAll * mj;
      for (int i = 0; i < 32; i++) {
        int q = nearestInt((x[xo + 32 * j + i] + dm) / d);
        lq[32 * j + i] = Math.max(0, Math.min(nmax, q));
      }
    }
    if (nmax == 15) {
      int qo = yo + 16;
      for (int j = 0; j < 256; j += 64) {
        for (int i = 0; i < 32; i++) {
          y[qo + i] = (byte) (lq[j + i] | (lq[j + i + 32] << 4));
        }
        qo += 32;
      }
    } else {
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
  }

  private static float makeQxQuants(int n, int nmax, float[] x, int xo, int[] l, int lo) {
    float max = 0;
    float amax = 0;
    for (int i = 0; i < n; i++) {
      float ax = Math.abs(x[xo + i]);
      if (ax > amax) {
        amax = ax;
        max = x[xo + i];
      }
    }
    if (amax < GROUP_MAX_EPS) {
      for (int i = 0; i < n; i++) {
        l[lo + i] = 0;
      }
      return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0;
    float suml2 = 0;
    for (int i = 0; i < n; i++) {
      float v = x[xo + i];
      int q = nearestInt(iscale * v);
      q = Math.max(-nmax, Math.min(nmax - 1, q));
      l[lo + i] = q + nmax;
      float w = v * v;
      sumlx += w * v * q;
      suml2 += w * q * q;
    }
    float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
      if (is == 0) {
        continue;
      }
      iscale = -(nmax + 0.1f * is) / max;
      sumlx = 0;
      suml2 = 0;
      for (int i = 0; i < n; i++) {
        float v = x[xo + i];
        int q = nearestInt(iscale * v);
        q = Math.max(-nmax, Math.min(nmax - 1, q));
        float w = v * v;
        sumlx += w * v * q;
        suml2 += w * q * q;
      }
      if (suml2 > 0 && sumlx * sumlx > best * suml2) {
        for (int i = 0; i < n; i++) {
          int q = nearestInt(iscale * x[xo + i]);
          l[lo + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, q));
        }
        scale = sumlx / suml2;
        best = scale * sumlx;
      }
    }
    return scale;
  }

  private static void q6_K(float[] x, int xo, byte[] y, int yo, KScratch s) {
    int[] lq = s.l;
    float maxScale = 0;
    float maxAbsScale = 0;
    for (int ib = 0; ib < 16; ib++) {
      float scale = makeQxQuants(16, 32, x, xo + 16 * ib, lq, 16 * ib);
      s.scales[ib] = scale;
      float abs = Math.abs(scale);
      if (abs > maxAbsScale) {
        maxAbsScale = abs;
        maxScale = scale;
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) {
      for (int i = 0; i < 210; i++) {
        y[yo + i] = 0;
      }
      return;
    }
    float iscale = -128.f / maxScale;
    short dh = f16(1 / iscale);
    byte[] scales = new byte[16];
    for (int ib = 0; ib < 16; ib++) {
      scales[ib] = (byte) Math.min(127, nearestInt(iscale * s.scales[ib]));
    }
    float dAll = f32(dh);
    for (int j = 0; j < 16; j++) {
      float d = dAll * scales[j];
      if (d == 0) {
        continue;
      }
      for (int i = 0; i < 16; i++) {
        int q = nearestInt(x[xo + 16 * j + i] / d);
        q = Math.max(-32, Math.min(31, q));
        lq[16 * j + i] = q + 32;
      }
    }
    int ql = yo;
    int qh = yo + 128;
    for (int j = 0; j < 256; j += 128) {
      for (int i = 0; i < 32; i++) {
        int q1 = lq[j + i] & 0xF;
        int q2 = lq[j + i + 32] & 0xF;
        int q3 = lq[j + i + 64] & 0xF;
        int q4 = lq[j + i + 96] & 0xF;
        y[ql + i] = (byte) (q1 | (q3 << 4));
        y[ql + i + 32] = (byte) (q2 | (q4 << 4));
        y[qh + i] = (byte) ((lq[j + i] >> 4) | ((lq[j + i + 32] >> 4) << 2) | ((lq[j + i + 64] >> 4) << 4)
            | ((lq[j + i + 96] >> 4) << 6));
      }
      ql += 64;
      qh += 32;
    }
    for (int ib = 0; ib < 16; ib++) {
      y[yo + 192 + ib] = scales[ib];
    }
    putShort(y, yo + 208, dh);
  }

  /** Dequantizes {@code n} values at absolute byte position {@code p} of {@code b}. */
  public static void dequantize(GgmlType t, ByteBuffer src, int p, int n, float[] y, int yo) {
    if (n % t.blockSize() != 0) {
      throw new IllegalArgumentException(t + " rows must be a multiple of " + t.blockSize() + ", got " + n);
    }
    ByteBuffer b = src.order() == ByteOrder.LITTLE_ENDIAN ? src : src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int nb = n / t.blockSize();
    switch (t) {
      case F32 -> {
        for (int i = 0; i < n; i++) {
          y[yo + i] = b.getFloat(p + 4 * i);
        }
      }
      case F16 -> {
        for (int i = 0; i < n; i++) {
          y[yo + i] = f32(b.getShort(p + 2 * i));
        }
      }
      case BF16 -> {
        for (int i = 0; i < n; i++) {
          y[yo + i] = Half.bf16ToFloat(b.getShort(p + 2 * i));
        }
      }
      case Q8_0 -> {
        for (int k = 0; k < nb; k++) {
          int o = p + 34 * k;
          float d = f32(b.getShort(o));
          for (int j = 0; j < 32; j++) {
            y[yo + 32 * k + j] = b.get(o + 2 + j) * d;
          }
        }
      }
      case Q4_0 -> {
        for (int k = 0; k < nb; k++) {
          int o = p + 18 * k;
          float d = f32(b.getShort(o));
          for (int j = 0; j < 16; j++) {
            int q = b.get(o + 2 + j) & 0xFF;
            y[yo + 32 * k + j] = ((q & 0xF) - 8) * d;
            y[yo + 32 * k + j + 16] = ((q >> 4) - 8) * d;
          }
        }
      }
      case Q4_1 -> {
        for (int k = 0; k < nb; k++) {
          int o = p + 20 * k;
          float d = f32(b.getShort(o));
          float m = f32(b.getShort(o + 2));
          for (int j = 0; j < 16; j++) {
            int q = b.get(o + 4 + j) & 0xFF;
            y[yo + 32 * k + j] = (q & 0xF) * d + m;
            y[yo + 32 * k + j + 16] = (q >> 4) * d + m;
          }
        }
      }
      case Q5_0 -> {
        for (int k = 0; k < nb; k++) {
          int o = p + 22 * k;
          float d = f32(b.getShort(o));
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
      case Q5_1 -> {
        for (int k = 0; k < nb; k++) {
          int o = p + 24 * k;
          float d = f32(b.getShort(o));
          float m = f32(b.getShort(o + 2));
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
      case Q4_K, Q5_K -> {
        boolean five = t == GgmlType.Q5_K;
        int bs = five ? 176 : 144;
        for (int k = 0; k < nb; k++) {
          int o = p + bs * k;
          float d = f32(b.getShort(o));
          float min = f32(b.getShort(o + 2));
          int qs = o + (five ? 48 : 16);
          int qh = o + 16;
          int out = yo + 256 * k;
          int is = 0;
          int u1 = 1;
          int u2 = 2;
          for (int j = 0; j < 256; j += 64) {
            float d1 = d * scale(b, o + 4, is);
            float m1 = min * minK(b, o + 4, is);
            float d2 = d * scale(b, o + 4, is + 1);
            float m2 = min * minK(b, o + 4, is + 1);
            for (int l = 0; l < 32; l++) {
              int q = b.get(qs + l) & 0xFF;
              int h = five ? b.get(qh + l) & 0xFF : 0;
              y[out + l] = d1 * ((q & 0xF) + ((h & u1) != 0 ? 16 : 0)) - m1;
              y[out + 32 + l] = d2 * ((q >> 4) + ((h & u2) != 0 ? 16 : 0)) - m2;
            }
            out += 64;
            qs += 32;
            is += 2;
            u1 <<= 2;
            u2 <<= 2;
          }
        }
      }
      case Q6_K -> {
        for (int k = 0; k < nb; k++) {
          int o = p + 210 * k;
          float d = f32(b.getShort(o + 208));
          int ql = o;
          int qh = o + 128;
          int sc = o + 192;
          int out = yo + 256 * k;
          for (int n2 = 0; n2 < 256; n2 += 128) {
            for (int l = 0; l < 32; l++) {
              int is = l / 16;
              int a = b.get(ql + l) & 0xFF;
              int c = b.get(ql + l + 32) & 0xFF;
              int h = b.get(qh + l) & 0xFF;
              int q1 = ((a & 0xF) | ((h & 3) << 4)) - 32;
              int q2 = ((c & 0xF) | (((h >> 2) & 3) << 4)) - 32;
              int q3 = ((a >> 4) | (((h >> 4) & 3) << 4)) - 32;
              int q4 = ((c >> 4) | (((h >> 6) & 3) << 4)) - 32;
              y[out + l] = d * b.get(sc + is) * q1;
              y[out + l + 32] = d * b.get(sc + is + 2) * q2;
              y[out + l + 64] = d * b.get(sc + is + 4) * q3;
              y[out + l + 96] = d * b.get(sc + is + 6) * q4;
            }
            out += 128;
            ql += 64;
            qh += 32;
            sc += 8;
          }
        }
      }
      default -> throw new UnsupportedOperationException("dequantization of " + t + " is not supported");
    }
  }

  private static int scale(ByteBuffer b, int q, int j) {
    if (j < 4) {
      return b.get(q + j) & 63;
    }
    return (b.get(q + j + 4) & 0xF) | (((b.get(q + j - 4) & 0xFF) >> 6) << 4);
  }

  private static int minK(ByteBuffer b, int q, int j) {
    if (j < 4) {
      return b.get(q + j + 4) & 63;
    }
    return ((b.get(q + j + 4) & 0xFF) >> 4) | (((b.get(q + j) & 0xFF) >> 6) << 4);
  }
}
