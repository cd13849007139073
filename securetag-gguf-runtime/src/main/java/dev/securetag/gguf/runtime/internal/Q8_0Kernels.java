package dev.securetag.gguf.runtime.internal;

import static dev.securetag.gguf.runtime.internal.Kernels.*;

import java.nio.ByteBuffer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q8_0 products: the integer dot with q8_0 activations (vector, and its scalar reference
 * {@code ggml_vec_dot_q8_0_q8_0}), the float dot and the row decoder for batched prompts.
 */
final class Q8_0Kernels {
  private Q8_0Kernels() {}

  // The integer kernel is one method, helpers included: a vector passed to or returned from a method that C2 does not
  // inline is boxed on the heap, and C2 refuses to inline a helper it has already compiled on its own once that code
  // is big. Loops over a block's 32 bytes run once with 16 int lanes (AVX-512) and twice with 8.

  /** Row at byte {@code off} of {@code w} ({@code n} values) times {@code a}'s q8_0 grid: widened 16-bit products. */
  static float dot(ByteBuffer w, int off, int n, Q8Activation a) {
    short[] x = a.q0;
    float[] dx = a.d0;
    FloatVector acc = FloatVector.zero(F);
    for (int b = 0; b < n / 32; b++) {
      int o = off + 34 * b;
      IntVector s = IntVector.zero(I);
      for (int j = 0; j < 32; j += 2 * L) {
        IntVector v = (IntVector) ((ShortVector) ByteVector.fromByteBuffer(BH, w, o + 2 + j, LE).convertShape(VectorOperators.B2S, S, 0)).mul(ShortVector.fromArray(S, x, 32 * b + j)).reinterpretShape(I, 0);
        // |w x| <= 127 * 127, so a pair sums to at most 32258 and fits 16 bits: the high half of v * 0x10001 is the
        // pair's sum (two instructions instead of three shifts and an add).
        s = s.add(v.mul(0x10001).lanewise(VectorOperators.ASHR, 16));
      }
      acc = ((FloatVector) s.convertShape(VectorOperators.I2F, F, 0)).fma(FloatVector.broadcast(F, HALF[(short) SHORT_LE.get(w, o) & 0xFFFF] * dx[b]), acc);
    }
    return acc.reduceLanes(VectorOperators.ADD);
  }

  /** The scalar reference of {@link #dot}: ggml's generic integer block sums. */
  static float dotScalar(ByteBuffer w, int off, int n, Q8Activation a) {
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

  /** Row copy {@code w} times float activations {@code x[xo..]}: the float reference path. */
  static float dotFloat(byte[] w, float[] x, int xo, int n) {
    // Two accumulators and the scale applied to the weights: each block is an independent multiply and one FMA
    // per accumulator, so consecutive blocks do not wait on each other's FMA latency.
    FloatVector acc0 = FloatVector.zero(F);
    FloatVector acc1 = FloatVector.zero(F);
    int nb = n / 32;
    for (int b = 0; b < nb; b++) {
      int o = 34 * b;
      FloatVector d = FloatVector.broadcast(F, f16(w, o));
      int xb = xo + 32 * b;
      for (int j = 0; j < 32; j += 2 * L) {
        FloatVector q0 = (FloatVector) ints(w, o + 2 + j).convertShape(VectorOperators.I2F, F, 0);
        FloatVector q1 = (FloatVector) ints(w, o + 2 + j + L).convertShape(VectorOperators.I2F, F, 0);
        acc0 = q0.mul(d).fma(FloatVector.fromArray(F, x, xb + j), acc0);
        acc1 = q1.mul(d).fma(FloatVector.fromArray(F, x, xb + j + L), acc1);
      }
    }
    return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
  }

  /** Decodes row copy {@code w} into {@code out[0..n)}. */
  static void decode(byte[] w, float[] out, int n) {
    for (int b = 0; b < n / 32; b++) {
      int o = 34 * b;
      float d = f16(w, o);
      for (int j = 0; j < 32; j += L) {
        ((FloatVector) ints(w, o + 2 + j).convertShape(VectorOperators.I2F, F, 0)).mul(d).intoArray(out, 32 * b + j);
      }
    }
  }
}
