package dev.securetag.gguf.runtime.internal;

import static dev.securetag.gguf.runtime.internal.Kernels.*;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Float vector math of the forward pass: dot products of activations (attention), the 4 x 4 register-blocked
 * matrix-matrix tile of batched prompts, and {@code axpy}. Falls back to scalar loops without vector support.
 */
public final class FloatKernels {
  private FloatKernels() {}

  /** Dot product of two float arrays. */
  public static float dot(float[] a, int ao, float[] b, int bo, int n) {
    int i = 0;
    float s = 0;
    if (AVAILABLE) {
      // Two accumulators: one FMA chain would wait on the FMA latency at every step.
      FloatVector acc0 = FloatVector.zero(F);
      FloatVector acc1 = FloatVector.zero(F);
      for (; i <= n - 2 * L; i += 2 * L) {
        acc0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc0);
        acc1 = FloatVector.fromArray(F, a, ao + i + L).fma(FloatVector.fromArray(F, b, bo + i + L), acc1);
      }
      for (; i <= n - L; i += L) {
        acc0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc0);
      }
      s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }
    for (; i < n; i++) {
      s += a[ao + i] * b[bo + i];
    }
    return s;
  }

  /**
   * Four dot products of one row {@code w} with four activation vectors, written to {@code out[r]} of each output:
   * the row is loaded once per four FMAs and the four chains run independently (a small matrix-matrix kernel for
   * batched prompt evaluation).
   */
  public static void dot4(float[] w, float[] x0, float[] x1, float[] x2, float[] x3, int n, float[] o0, float[] o1,
      float[] o2, float[] o3, int r) {
    FloatVector a0 = FloatVector.zero(F);
    FloatVector a1 = FloatVector.zero(F);
    FloatVector a2 = FloatVector.zero(F);
    FloatVector a3 = FloatVector.zero(F);
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector wv = FloatVector.fromArray(F, w, i);
      a0 = wv.fma(FloatVector.fromArray(F, x0, i), a0);
      a1 = wv.fma(FloatVector.fromArray(F, x1, i), a1);
      a2 = wv.fma(FloatVector.fromArray(F, x2, i), a2);
      a3 = wv.fma(FloatVector.fromArray(F, x3, i), a3);
    }
    float s0 = a0.reduceLanes(VectorOperators.ADD);
    float s1 = a1.reduceLanes(VectorOperators.ADD);
    float s2 = a2.reduceLanes(VectorOperators.ADD);
    float s3 = a3.reduceLanes(VectorOperators.ADD);
    for (; i < n; i++) {
      s0 += w[i] * x0[i];
      s1 += w[i] * x1[i];
      s2 += w[i] * x2[i];
      s3 += w[i] * x3[i];
    }
    o0[r] = s0;
    o1[r] = s1;
    o2[r] = s2;
    o3[r] = s3;
  }

  /**
   * The 4 x 4 block of a matrix-matrix product: rows {@code w0..w3} times inputs {@code x0..x3}, written to
   * {@code oj[r + i]} (input j, row i). Sixteen accumulators in registers, each loaded row and input vector used four
   * times, so the loop is bound by FMAs rather than loads (prompt processing).
   */
  public static void dot4x4(float[] w0, float[] w1, float[] w2, float[] w3, float[] x0, float[] x1, float[] x2,
      float[] x3, int n, float[] o0, float[] o1, float[] o2, float[] o3, int r) {
    FloatVector a00 = FloatVector.zero(F);
    FloatVector a01 = FloatVector.zero(F);
    FloatVector a02 = FloatVector.zero(F);
    FloatVector a03 = FloatVector.zero(F);
    FloatVector a10 = FloatVector.zero(F);
    FloatVector a11 = FloatVector.zero(F);
    FloatVector a12 = FloatVector.zero(F);
    FloatVector a13 = FloatVector.zero(F);
    FloatVector a20 = FloatVector.zero(F);
    FloatVector a21 = FloatVector.zero(F);
    FloatVector a22 = FloatVector.zero(F);
    FloatVector a23 = FloatVector.zero(F);
    FloatVector a30 = FloatVector.zero(F);
    FloatVector a31 = FloatVector.zero(F);
    FloatVector a32 = FloatVector.zero(F);
    FloatVector a33 = FloatVector.zero(F);
    int i = 0;
    for (; i <= n - L; i += L) {
      FloatVector v0 = FloatVector.fromArray(F, x0, i);
      FloatVector v1 = FloatVector.fromArray(F, x1, i);
      FloatVector v2 = FloatVector.fromArray(F, x2, i);
      FloatVector v3 = FloatVector.fromArray(F, x3, i);
      FloatVector w = FloatVector.fromArray(F, w0, i);
      a00 = w.fma(v0, a00);
      a01 = w.fma(v1, a01);
      a02 = w.fma(v2, a02);
      a03 = w.fma(v3, a03);
      w = FloatVector.fromArray(F, w1, i);
      a10 = w.fma(v0, a10);
      a11 = w.fma(v1, a11);
      a12 = w.fma(v2, a12);
      a13 = w.fma(v3, a13);
      w = FloatVector.fromArray(F, w2, i);
      a20 = w.fma(v0, a20);
      a21 = w.fma(v1, a21);
      a22 = w.fma(v2, a22);
      a23 = w.fma(v3, a23);
      w = FloatVector.fromArray(F, w3, i);
      a30 = w.fma(v0, a30);
      a31 = w.fma(v1, a31);
      a32 = w.fma(v2, a32);
      a33 = w.fma(v3, a33);
    }
    o0[r] = a00.reduceLanes(VectorOperators.ADD) + tail(w0, x0, i, n);
    o1[r] = a01.reduceLanes(VectorOperators.ADD) + tail(w0, x1, i, n);
    o2[r] = a02.reduceLanes(VectorOperators.ADD) + tail(w0, x2, i, n);
    o3[r] = a03.reduceLanes(VectorOperators.ADD) + tail(w0, x3, i, n);
    o0[r + 1] = a10.reduceLanes(VectorOperators.ADD) + tail(w1, x0, i, n);
    o1[r + 1] = a11.reduceLanes(VectorOperators.ADD) + tail(w1, x1, i, n);
    o2[r + 1] = a12.reduceLanes(VectorOperators.ADD) + tail(w1, x2, i, n);
    o3[r + 1] = a13.reduceLanes(VectorOperators.ADD) + tail(w1, x3, i, n);
    o0[r + 2] = a20.reduceLanes(VectorOperators.ADD) + tail(w2, x0, i, n);
    o1[r + 2] = a21.reduceLanes(VectorOperators.ADD) + tail(w2, x1, i, n);
    o2[r + 2] = a22.reduceLanes(VectorOperators.ADD) + tail(w2, x2, i, n);
    o3[r + 2] = a23.reduceLanes(VectorOperators.ADD) + tail(w2, x3, i, n);
    o0[r + 3] = a30.reduceLanes(VectorOperators.ADD) + tail(w3, x0, i, n);
    o1[r + 3] = a31.reduceLanes(VectorOperators.ADD) + tail(w3, x1, i, n);
    o2[r + 3] = a32.reduceLanes(VectorOperators.ADD) + tail(w3, x2, i, n);
    o3[r + 3] = a33.reduceLanes(VectorOperators.ADD) + tail(w3, x3, i, n);
  }

  private static float tail(float[] w, float[] x, int i, int n) {
    float s = 0;
    for (; i < n; i++) {
      s += w[i] * x[i];
    }
    return s;
  }

  /** {@code y += a * x}. */
  public static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
    int i = 0;
    if (AVAILABLE) {
      FloatVector av = FloatVector.broadcast(F, a);
      for (; i <= n - L; i += L) {
        FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
      }
    }
    for (; i < n; i++) {
      y[yo + i] += a * x[xo + i];
    }
  }
}
