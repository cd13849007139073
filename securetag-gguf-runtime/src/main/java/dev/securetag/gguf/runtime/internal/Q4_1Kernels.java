package dev.securetag.gguf.runtime.internal;

import static dev.securetag.gguf.runtime.internal.Kernels.*;

import java.nio.ByteBuffer;

/**
 * Q4_1 products: the scalar integer dot with q8_1 activations only (only imatrix files and odd row widths produce this
 * type, so it has no vector kernel).
 */
final class Q4_1Kernels {
  private Q4_1Kernels() {}

  /** Row at byte {@code off} of {@code w} times {@code a}'s q8_0 grid and its q8_1 sums ({@code ggml_vec_dot_q4_1_q8_1}). */
  static float dotScalar(ByteBuffer w, int off, int n, Q8Activation a) {
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
}
