package dev.securetag.gguf.runtime.internal;

import static dev.securetag.gguf.runtime.internal.Kernels.*;

import java.nio.ByteBuffer;

/** Q5_1 products: the scalar integer dot with q8_1 activations only (as {@link Q4_1Kernels}). */
final class Q5_1Kernels {
  private Q5_1Kernels() {}

  /** Row at byte {@code off} of {@code w} times {@code a} ({@code ggml_vec_dot_q5_1_q8_1}). */
  static float dotScalar(ByteBuffer w, int off, int n, Q8Activation a) {
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
}
