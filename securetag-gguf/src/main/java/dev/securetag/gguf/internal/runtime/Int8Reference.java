package dev.securetag.gguf.internal.runtime;

import dev.securetag.core.Half;
import dev.securetag.gguf.GgmlType;
import java.nio.ByteBuffer;

/**
 * Scalar integer dot products of one quantized weight row with a {@link Q8Activation}, written after ggml's generic
 * (non-SIMD) {@code ggml_vec_dot_*_q8_*} routines: integer sums per block exactly as llama.cpp forms them, scaled by
 * the block scales in float. This is the plain-Java ground truth the Vector API kernels ({@link Int8Kernels}) are
 * tested against, and the path {@code vectorized(false)} runs; the float reference (dequantize, then dot with
 * float activations) stays in {@link QMatrix#dot(int, float[], int, float[])}.
 */
public final class Int8Reference {
  private Int8Reference() {}

  /** True for the weight types with an integer dot product. */
  public static boolean supports(GgmlType t) {
    return switch (t) {
      case Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K -> true;
      default -> false;
    };
  }

  /** True for the types whose activations use the q8_K grid (256-value blocks); the others use q8_0. */
  public static boolean usesQ8K(GgmlType t) {
    return t == GgmlType.Q4_K || t == GgmlType.Q5_K || t == GgmlType.Q6_K;
  }

  /** Dot product of the row at byte {@code off} of {@code w} ({@code n} values) with {@code a}. */
  public static float dot(GgmlType t, ByteBuffer w, int off, int n, Q8Activation a) {
    return switch (t) {
      case Q8_0 -> q8_0(w, off, n, a.q8_0());
      case Q4_0 -> q4_0(w, off, n, a.q8_0());
      case Q4_1 -> q4_1(w, off, n, a.q8_0());
      case Q5_0 -> q5_0(w, off, n, a.q8_0());
      case Q5_1 -> q5_1(w, off, n, a.q8_0());
      case Q4_K -> q4_K(w, off, n, a.q8_K());
      case Q5_K -> q5_K(w, off, n, a.q8_K());
      case Q6_K -> q6_K(w, off, n, a.q8_K());
      default -> throw new IllegalArgumentException("no integer dot product for " + t);
    };
  }

  static float f16(ByteBuffer w, int o) {
    return Half.f16ToFloat(w.getShort(o));
  }

  static float q8_0(ByteBuffer w, int off, int n, Q8Activation a) {
    float sumf = 0;
    for (int b = 0; b < n / 32; b++) {
      int o = off + 34 * b;
      int sumi = 0;
      for (int j = 0; j < 32; j++) {
        sumi += w.get(o + 2 + j) * a.q0[32 * b + j];
      }
      sumf += sumi * (f16(w, o) * a.d0[b]);
    }
    return sumf;
  }

  static float q4_0(ByteBuffer w, int off, int n, Q8Activation a) {
    float sumf = 0;
    for (int b = 0; b < n / 32; b++) {
      int o = off + 18 * b;
      int sumi0 = 0;
      int sumi1 = 0;
      for (int j = 0; j < 16; j++) {
        int q = w.get(o + 2 + j) & 0xFF;
        sumi0 += ((q & 0xF) - 8) * a.q0[32 * b + j];
        sumi1 += ((q >> 4) - 8) * a.q0[32 * b + j + 16];
      }
      sumf += (sumi0 + sumi1) * f16(w, o) * a.d0[b];
    }
    return sumf;
  }

  static float q4_1(ByteBuffer w, int off, int n, Q8Activation a) {
    float sumf = 0;
    for (int b = 0; b < n / 32; b++) {
      int o = off + 20 * b;
      int sumi0 = 0;
      int sumi1 = 0;
      for (int j = 0; j < 16; j++) {
        int q = w.get(o + 4 + j) & 0xFF;
        sumi0 += (q & 0xF) * a.q0[32 * b + j];
        sumi1 += (q >> 4) * a.q0[32 * b + j + 16];
      }
      sumf += (f16(w, o) * a.d0[b]) * (sumi0 + sumi1) + f16(w, o + 2) * a.s0[b];
    }
    return sumf;
  }

  static float q5_0(ByteBuffer w, int off, int n, Q8Activation a) {
    float sumf = 0;
    for (int b = 0; b < n / 32; b++) {
      int o = off + 22 * b;
      int qh = w.getInt(o + 2);
      int sumi0 = 0;
      int sumi1 = 0;
      for (int j = 0; j < 16; j++) {
        int q = w.get(o + 6 + j) & 0xFF;
        int h0 = ((qh >>> j) << 4) & 0x10;
        int h1 = (qh >>> (j + 12)) & 0x10;
        sumi0 += (((q & 0xF) | h0) - 16) * a.q0[32 * b + j];
        sumi1 += (((q >> 4) | h1) - 16) * a.q0[32 * b + j + 16];
      }
      sumf += (f16(w, o) * a.d0[b]) * (sumi0 + sumi1);
    }
    return sumf;
  }

  static float q5_1(ByteBuffer w, int off, int n, Q8Activation a) {
    float sumf = 0;
    for (int b = 0; b < n / 32; b++) {
      int o = off + 24 * b;
      int qh = w.getInt(o + 4);
      int sumi0 = 0;
      int sumi1 = 0;
      for (int j = 0; j < 16; j++) {
        int q = w.get(o + 8 + j) & 0xFF;
        int h0 = ((qh >>> j) << 4) & 0x10;
        int h1 = (qh >>> (j + 12)) & 0x10;
        sumi0 += ((q & 0xF) | h0) * a.q0[32 * b + j];
        sumi1 += ((q >> 4) | h1) * a.q0[32 * b + j + 16];
      }
      sumf += (f16(w, o) * a.d0[b]) * (sumi0 + sumi1) + f16(w, o + 2) * a.s0[b];
    }
    return sumf;
  }

  /** Sub-block scale {@code j} (0..7) of a Q4_K/Q5_K block whose 12 scale bytes start at {@code q}. */
  static int scaleK(ByteBuffer b, int q, int j) {
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

  static float q4_K(ByteBuffer w, int off, int n, Q8Activation a) {
    float sumf = 0;
    for (int b = 0; b < n / 256; b++) {
      int o = off + 144 * b;
      int x0 = 256 * b;
      int isum = 0;
      int msum = 0;
      for (int c = 0; c < 4; c++) {
        int s0 = 0;
        int s1 = 0;
        for (int l = 0; l < 32; l++) {
          int q = w.get(o + 16 + 32 * c + l) & 0xFF;
          s0 += (q & 0xF) * a.qk[x0 + 64 * c + l];
          s1 += (q >> 4) * a.qk[x0 + 64 * c + 32 + l];
        }
        isum += scaleK(w, o + 4, 2 * c) * s0 + scaleK(w, o + 4, 2 * c + 1) * s1;
        msum += minK(w, o + 4, 2 * c) * a.bsum32[8 * b + 2 * c] + minK(w, o + 4, 2 * c + 1) * a.bsum32[8 * b + 2 * c + 1];
      }
      float d = f16(w, o) * a.dk[b];
      float dmin = f16(w, o + 2) * a.dk[b];
      sumf += d * isum;
      sumf -= dmin * msum;
    }
    return sumf;
  }

  static float q5_K(ByteBuffer w, int off, int n, Q8Activation a) {
    float sumf = 0;
    for (int b = 0; b < n / 256; b++) {
      int o = off + 176 * b;
      int x0 = 256 * b;
      int isum = 0;
      int msum = 0;
      for (int c = 0; c < 4; c++) {
        int s0 = 0;
        int s1 = 0;
        for (int l = 0; l < 32; l++) {
          int q = w.get(o + 48 + 32 * c + l) & 0xFF;
          int h = w.get(o + 16 + l) & 0xFF;
          int v0 = (q & 0xF) | (((h >> (2 * c)) & 1) << 4);
          int v1 = (q >> 4) | (((h >> (2 * c + 1)) & 1) << 4);
          s0 += v0 * a.qk[x0 + 64 * c + l];
          s1 += v1 * a.qk[x0 + 64 * c + 32 + l];
        }
        isum += scaleK(w, o + 4, 2 * c) * s0 + scaleK(w, o + 4, 2 * c + 1) * s1;
        msum += minK(w, o + 4, 2 * c) * a.bsum32[8 * b + 2 * c] + minK(w, o + 4, 2 * c + 1) * a.bsum32[8 * b + 2 * c + 1];
      }
      float d = f16(w, o) * a.dk[b];
      float dmin = f16(w, o + 2) * a.dk[b];
      sumf += d * isum;
      sumf -= dmin * msum;
    }
    return sumf;
  }

  static float q6_K(ByteBuffer w, int off, int n, Q8Activation a) {
    float sumf = 0;
    for (int b = 0; b < n / 256; b++) {
      int o = off + 210 * b;
      int isum = 0;
      for (int h = 0; h < 2; h++) {
        int ql = o + 64 * h;
        int qh = o + 128 + 32 * h;
        int sc = o + 192 + 8 * h;
        int x0 = 256 * b + 128 * h;
        // 16-value sub-blocks: l in [0,16) and [16,32) of each of the four 32-value runs.
        for (int half = 0; half < 2; half++) {
          int s0 = 0;
          int s1 = 0;
          int s2 = 0;
          int s3 = 0;
          for (int l = 16 * half; l < 16 * half + 16; l++) {
            int qa = w.get(ql + l) & 0xFF;
            int qc = w.get(ql + 32 + l) & 0xFF;
            int hb = w.get(qh + l) & 0xFF;
            s0 += (((qa & 0xF) | ((hb & 3) << 4)) - 32) * a.qk[x0 + l];
            s1 += (((qc & 0xF) | (((hb >> 2) & 3) << 4)) - 32) * a.qk[x0 + 32 + l];
            s2 += (((qa >> 4) | (((hb >> 4) & 3) << 4)) - 32) * a.qk[x0 + 64 + l];
            s3 += (((qc >> 4) | (((hb >> 6) & 3) << 4)) - 32) * a.qk[x0 + 96 + l];
          }
          isum += w.get(sc + half) * s0 + w.get(sc + half + 2) * s1 + w.get(sc + half + 4) * s2
              + w.get(sc + half + 6) * s3;
        }
      }
      sumf += (f16(w, o + 208) * a.dk[b]) * isum;
    }
    return sumf;
  }
}
