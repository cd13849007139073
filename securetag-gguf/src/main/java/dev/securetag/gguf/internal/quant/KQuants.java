package dev.securetag.gguf.internal.quant;

import java.nio.ByteBuffer;

/** What the Q4_K and Q5_K formats share: the scale/min search and packing, and the decoder. */
final class KQuants {
  private KQuants() {}

  /** Per-thread scratch arrays for the K-quants (one instance per quantize call). */
  static final class KScratch {
    final int[] l = new int[256];
    final int[] laux = new int[32];
    final float[] w = new float[32];
    final float[] scales = new float[16];
    final float[] mins = new float[16];
    final int[] packed = new int[12];
    final float[] xm = new float[32];
    float theMin;
  }

  static float makeQkx2Quants(int n, int nmax, float[] x, int xo, float[] w, int[] l, int lo, int[] laux,
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
      int q = QuantMath.nearestInt(iscale * xm[i]);
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
        int q = QuantMath.nearestInt(iscale * xm[i]);
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

  /**
   * The part Q4_K (nmax 15) and Q5_K (nmax 31) share ({@code quantize_row_q4_K_ref} / {@code _q5_K_ref} up to the
   * packing of the values): the eight sub-block scales and mins by {@code make_qkx2_quants}, the 12 packed 6-bit scale
   * bytes and the fp16 {@code d} and {@code dmin} written to {@code y[yo..yo+16)}, and the quantized values left in
   * {@code s.l}.
   */
  static void scalesAndValues(float[] x, int xo, byte[] y, int yo, int nmax, float rmin, int nstep, KScratch s) {
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
      int ls = Math.min(63, QuantMath.nearestInt(invScale * s.scales[j])) & 0xFF;
      int lm = Math.min(63, QuantMath.nearestInt(invMin * s.mins[j])) & 0xFF;
      if (j < 4) {
        sc[j] = ls;
        sc[j + 4] = lm;
      } else {
        sc[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4);
        sc[j - 4] |= (ls >> 4) << 6;
        sc[j] |= (lm >> 4) << 6;
      }
    }
    short dh = QuantMath.f16(maxScale / 63.f);
    short dminh = QuantMath.f16(maxMin / 63.f);
    QuantMath.putShort(y, yo, dh);
    QuantMath.putShort(y, yo + 2, dminh);
    for (int j = 0; j < 12; j++) {
      y[yo + 4 + j] = (byte) sc[j];
    }
    float dAll = QuantMath.f32(dh);
    float mAll = QuantMath.f32(dminh);
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
        int q = QuantMath.nearestInt((x[xo + 32 * j + i] + dm) / d);
        lq[32 * j + i] = Math.max(0, Math.min(nmax, q));
      }
    }
  }

  /** Sub-block scale {@code j} (0..7) of a Q4_K/Q5_K block whose 12 scale bytes start at {@code q} ({@code get_scale_min_k4}). */
  static int scale(ByteBuffer b, int q, int j) {
    if (j < 4) {
      return b.get(q + j) & 63;
    }
    return (b.get(q + j + 4) & 0xF) | (((b.get(q + j - 4) & 0xFF) >> 6) << 4);
  }

  /** Sub-block min {@code j} (0..7) of a Q4_K/Q5_K block. */
  static int minK(ByteBuffer b, int q, int j) {
    if (j < 4) {
      return b.get(q + j + 4) & 63;
    }
    return ((b.get(q + j + 4) & 0xFF) >> 4) | (((b.get(q + j) & 0xFF) >> 6) << 4);
  }

  /** Q4_K and Q5_K decode alike but for the fifth bit: one loop, as in ggml's {@code dequantize_row_q4_K/q5_K}. */
  static void dequantize(ByteBuffer src, int p, int n, float[] y, int yo, boolean five) {
    ByteBuffer b = QuantMath.le(src);
    int nb = n / 256;
    int bs = five ? 176 : 144;
    for (int k = 0; k < nb; k++) {
      int o = p + bs * k;
      float d = QuantMath.f32(b.getShort(o));
      float min = QuantMath.f32(b.getShort(o + 2));
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
}
