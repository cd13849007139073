package dev.securetag.gguf.runtime.internal;

/**
 * The activations of a prompt batch on one 8-bit grid, laid out one after another for the native batched kernels
 * ({@link NativeKernels}): token t's values at {@code q[t * cols]}, its block scales at {@code d[t * blocks]} and, on
 * the q8_K grid, its 16-value sums at {@code bsum[t * cols / 16]} (on the q8_0 grid its 32-value sums at
 * {@code bsum[t * cols / 32]}). Allocated once per thread for the largest width
 * and batch.
 */
public final class Q8Batch {
  final byte[] q;
  final float[] d;
  final short[] bsum;
  /** Products of a batch, {@code out[t * rows + r]}, before they are copied to the per-token arrays. */
  final float[] out;
  int cols;
  int size;
  boolean k;

  public Q8Batch(int capacity, int maxCols, int maxRows) {
    this.q = new byte[capacity * maxCols];
    this.d = new float[capacity * ((maxCols + 31) / 32)];
    this.bsum = new short[capacity * (maxCols / 16)];
    this.out = new float[capacity * maxRows];
  }

  /** The product buffer, {@code out()[t * rows + r]}. */
  public float[] out() {
    return out;
  }

  /** Quantizes {@code in[0..n)} to the grid of {@code m} (q8_K for K-quants, else q8_0) and packs them. */
  public Q8Batch fill(QMatrix m, Q8Activation[] in, int n) {
    k = m.usesQ8K();
    cols = in[0].length();
    size = n;
    for (int t = 0; t < n; t++) {
      Q8Activation a = in[t];
      if (k) {
        a.q8_K();
        System.arraycopy(a.qkb, 0, q, t * cols, cols);
        System.arraycopy(a.dk, 0, d, t * (cols / 256), cols / 256);
        System.arraycopy(a.bsum16s, 0, bsum, t * (cols / 16), cols / 16);
      } else {
        a.q8_0();
        System.arraycopy(a.q0b, 0, q, t * cols, cols);
        System.arraycopy(a.d0, 0, d, t * (cols / 32), cols / 32);
        // The 32-value sums: the VNNI Q8_0 kernel offsets weights to unsigned and subtracts 128 x these.
        for (int b = 0; b < cols / 32; b++) {
          int sum = 0;
          for (int i = 32 * b; i < 32 * b + 32; i++) {
            sum += a.q0b[i];
          }
          bsum[t * (cols / 32) + b] = (short) sum;
        }
      }
    }
    return this;
  }
}
