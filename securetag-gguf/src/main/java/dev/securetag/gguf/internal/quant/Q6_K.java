package dev.securetag.gguf.internal.quant;

import java.nio.ByteBuffer;

/**
 * Q6_K: super-blocks of 256 values in sixteen sub-blocks of 16, 6-bit values (low nibbles in {@code ql}, two high
 * bits in {@code qh}) with int8 sub-block scales and an fp16 {@code d}: {@code x = d * sc_j * (q - 32)}
 * ({@code quantize_row_q6_K_ref}).
 */
public final class Q6_K {
  /** Values per block. */
  public static final int BLOCK = 256;
  /** Bytes per block. */
  public static final int BYTES = 210;

  private Q6_K() {}

  /** Quantizes {@code n} values (whole blocks) of {@code x} from {@code xo} into {@code y[yo..]}, as ggml's reference does. */
  public static void quantize(float[] x, int xo, int n, byte[] y, int yo) {
    QuantMath.checkRow("Q6_K", BLOCK, n);
    KQuants.KScratch s = new KQuants.KScratch();
    for (int b = 0; b < n / BLOCK; b++) {
      quantizeBlock(x, xo + BLOCK * b, y, yo + BYTES * b, s);
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
    if (amax < QuantMath.GROUP_MAX_EPS) {
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
      int q = QuantMath.nearestInt(iscale * v);
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
        int q = QuantMath.nearestInt(iscale * v);
        q = Math.max(-nmax, Math.min(nmax - 1, q));
        float w = v * v;
        sumlx += w * v * q;
        suml2 += w * q * q;
      }
      if (suml2 > 0 && sumlx * sumlx > best * suml2) {
        for (int i = 0; i < n; i++) {
          int q = QuantMath.nearestInt(iscale * x[xo + i]);
          l[lo + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, q));
        }
        scale = sumlx / suml2;
        best = scale * sumlx;
      }
    }
    return scale;
  }

  private static void quantizeBlock(float[] x, int xo, byte[] y, int yo, KQuants.KScratch s) {
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
    if (maxAbsScale < QuantMath.GROUP_MAX_EPS) {
      for (int i = 0; i < 210; i++) {
        y[yo + i] = 0;
      }
      return;
    }
    float iscale = -128.f / maxScale;
    short dh = QuantMath.f16(1 / iscale);
    byte[] scales = new byte[16];
    for (int ib = 0; ib < 16; ib++) {
      scales[ib] = (byte) Math.min(127, QuantMath.nearestInt(iscale * s.scales[ib]));
    }
    float dAll = QuantMath.f32(dh);
    for (int j = 0; j < 16; j++) {
      float d = dAll * scales[j];
      if (d == 0) {
        continue;
      }
      for (int i = 0; i < 16; i++) {
        int q = QuantMath.nearestInt(x[xo + 16 * j + i] / d);
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
    QuantMath.putShort(y, yo + 208, dh);
  }

  /** Decodes {@code n} values (whole blocks) stored at byte {@code p} of {@code src} into {@code y[yo..]}. */
  public static void dequantize(ByteBuffer src, int p, int n, float[] y, int yo) {
    QuantMath.checkRow("Q6_K", BLOCK, n);
    ByteBuffer b = QuantMath.le(src);
    int nb = n / BLOCK;
    for (int k = 0; k < nb; k++) {
      int o = p + 210 * k;
      float d = QuantMath.f32(b.getShort(o + 208));
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
}
