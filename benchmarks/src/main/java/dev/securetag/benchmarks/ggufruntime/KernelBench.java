package dev.securetag.benchmarks.ggufruntime;

import dev.securetag.gguf.GgmlType;
import dev.securetag.gguf.runtime.internal.Q8Activation;
import dev.securetag.gguf.runtime.internal.Q8Batch;
import dev.securetag.gguf.runtime.internal.QMatrix;
import dev.securetag.gguf.runtime.internal.FloatKernels;
import dev.securetag.gguf.runtime.internal.Kernels;
import dev.securetag.gguf.runtime.internal.NativeKernels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.Random;

/**
 * Single-thread throughput of the matrix-vector kernels, in GB/s of weight bytes, best of several passes, for each
 * weight type: the integer kernels with 8-bit activations ({@link QMatrix#dot(int, Q8Activation, float[])}, what
 * decoding runs) and the float-activation kernels
 * ({@link QMatrix#dot(int, float[], int, float[])}, the float reference path). Two matrix sizes: one that stays in
 * the core's L2 cache (kernel-bound) and one of 256 MiB that must stream from memory (what decoding sees). Timed
 * with the thread's CPU time, so the figures hold on a loaded machine.
 *
 * <p>Args: {@code [types, default Q8_0,Q4_K,Q6_K,Q5_K,Q4_0,Q5_0] [--l2only | --gemm]}; {@code --gemm} measures the
 * batched prompt kernel instead.
 */
public final class KernelBench {
  private KernelBench() {}

  public static void main(String[] args) {
    String[] types = args.length == 0 || args[0].startsWith("--") ? new String[] {"Q8_0", "Q4_K", "Q6_K", "Q5_K", "Q4_0", "Q5_0"}
        : args[0].split(",");
    boolean l2Only = args.length > 0 && args[args.length - 1].equals("--l2only");
    if (args.length > 0 && args[args.length - 1].equals("--gemm")) {
      gemm(types, 64);
      return;
    }
    int cols = 2048;
    System.out.printf(Locale.ROOT, "vector lanes %d, cols %d, native kernels: %s, load %s%n", Kernels.lanes(), cols,
        NativeKernels.status(), load());
    System.out.println("| type | matrix | native int8 rows GB/s | Java int8 dot GB/s | float dot GB/s |");
    System.out.println("|---|---:|---:|---:|---:|");
    // All matrices first, and a warm-up that runs every type's kernels in turn before anything is timed: decoding
    // a Q4_K_M file interleaves Q4_K, Q6_K and Q8_0 rows from the first token on, and C2 compiles a kernel differently
    // when the shared Vector API code has so far seen only one other kernel (timing one type for seconds and then
    // the next is not what the runtime does).
    java.util.List<Object[]> cases = new java.util.ArrayList<>();
    for (String name : types) {
      GgmlType type = GgmlType.valueOf(name);
      for (long target : l2Only ? new long[] {512 << 10} : new long[] {512 << 10, 256L << 20}) {
        int rb = (int) type.rowBytes(cols);
        int rows = (int) (target / rb);
        ByteBuffer data = matrix(type, cols, rows, rb);
        QMatrix m = new QMatrix("w", type, data, rows, cols, true, false);
        QMatrix nat = new QMatrix("w", type, data, rows, cols, true, true);
        cases.add(new Object[] {name, m, (long) rb * rows, nat});
      }
    }
    Random rnd = new Random(4);
    float[] x = new float[cols];
    for (int i = 0; i < cols; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    Q8Activation a = new Q8Activation(cols);
    a.set(x);
    float[] scratch = new float[cols];
    long w0 = System.nanoTime();
    while (System.nanoTime() - w0 < 3_000_000_000L) {
      for (Object[] c : cases) {
        QMatrix m = (QMatrix) c[1];
        ((QMatrix) c[3]).dotRows(0, Math.min(m.rows(), 512), a, new float[512], 0, scratch);
        for (int r = 0; r < Math.min(m.rows(), 512); r++) {
          m.dot(r, a, scratch);
          m.dot(r, x, 0, scratch);
        }
      }
    }
    for (Object[] c : cases) {
      String name = (String) c[0];
      QMatrix m = (QMatrix) c[1];
      long bytes = (long) c[2];
      QMatrix nat = (QMatrix) c[3];
      int rows = m.rows();
      float[] out = new float[rows];
      int reps = (int) Math.max(1, (64L << 20) / bytes);
      double rowsNative = nat.nativeKernel() ? best(() -> {
        for (int k = 0; k < reps; k++) {
          nat.dotRows(0, rows, a, out, 0, scratch);
        }
      }, bytes * reps) : Double.NaN;
      double dot = best(() -> {
        for (int k = 0; k < reps; k++) {
          for (int r = 0; r < rows; r++) {
            out[r] = m.dot(r, a, scratch);
          }
        }
      }, bytes * reps);
      double flt = best(() -> {
        for (int k = 0; k < reps; k++) {
          for (int r = 0; r < rows; r++) {
            out[r] = m.dot(r, x, 0, scratch);
          }
        }
      }, bytes * reps);
      System.out.printf(Locale.ROOT, "| %s | %s | %s | %.2f | %.2f |%n", name,
          bytes < (4 << 20) ? (bytes >> 10) + " KiB (L2)" : (bytes >> 20) + " MiB (memory)",
          Double.isNaN(rowsNative) ? "-" : String.format(Locale.ROOT, "%.2f", rowsNative), dot, flt);
    }
  }

  /**
   * The batched prompt kernel on one thread: four rows decoded to floats, then the 4 x 4 FMA tile over a batch of
   * {@code tokens} inputs (what {@code Transformer} runs per row group), in G multiply-adds per second of CPU time.
   */
  static void gemm(String[] types, int tokens) {
    int cols = 2048;
    int rows = 1024;
    System.out.println();
    System.out.println("| type | batched prompt kernel, " + tokens + " tokens: native GMAC/s (1 thread) | Java float 4 x 4"
        + " GMAC/s (1 thread) |");
    System.out.println("|---|---:|---:|");
    for (String name : types) {
      GgmlType type = GgmlType.valueOf(name);
      int rb = (int) type.rowBytes(cols);
      QMatrix m = new QMatrix("w", type, matrix(type, cols, rows, rb), rows, cols, true);
      Random rnd = new Random(5);
      float[][] xs = new float[tokens][cols];
      for (float[] x : xs) {
        for (int i = 0; i < cols; i++) {
          x[i] = (float) rnd.nextGaussian();
        }
      }
      float[][] out = new float[tokens][rows];
      float[][] dec = new float[4][cols];
      Runnable pass = () -> {
        for (int r = 0; r < rows; r += 4) {
          for (int i = 0; i < 4; i++) {
            m.decodeRow(r + i, dec[i]);
          }
          for (int b = 0; b + 4 <= tokens; b += 4) {
            FloatKernels.dot4x4(dec[0], dec[1], dec[2], dec[3], xs[b], xs[b + 1], xs[b + 2], xs[b + 3], cols, out[b],
                out[b + 1], out[b + 2], out[b + 3], r);
          }
        }
      };
      // best() counts "bytes"; pass the multiply-adds instead.
      double gmacs = best(pass, (long) rows * cols * tokens);
      // The native batched kernel on the same weights, with the same inputs on the 8-bit grid.
      double nat = Double.NaN;
      if (m.nativeKernel()) {
        Q8Activation[] in = new Q8Activation[tokens];
        for (int b = 0; b < tokens; b++) {
          in[b] = new Q8Activation(cols);
          in[b].set(xs[b]);
        }
        Q8Batch xb = new Q8Batch(tokens, cols, rows).fill(m, in, tokens);
        nat = best(() -> m.dotRowsBatch(0, rows, xb, xb.out(), 0, rows), (long) rows * cols * tokens);
      }
      System.out.printf(Locale.ROOT, "| %s | %s | %.1f |%n", name,
          Double.isNaN(nat) ? "-" : String.format(Locale.ROOT, "%.1f", nat), gmacs);
    }
  }

  /**
   * Best of 12 passes, timed by this thread's CPU time: on a machine shared with other processes the wall time of a
   * single-thread kernel mostly measures how often it was descheduled.
   */
  private static double best(Runnable body, long bytes) {
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    // Half a second more of this very loop before timing it.
    long w0 = System.nanoTime();
    while (System.nanoTime() - w0 < 500_000_000L) {
      body.run();
    }
    double best = 0;
    for (int it = 0; it < 12; it++) {
      long t0 = mx.getCurrentThreadCpuTime();
      body.run();
      best = Math.max(best, (double) bytes / (mx.getCurrentThreadCpuTime() - t0));
    }
    return best;
  }

  /** {@code rows} random rows of the reference quantizer (16 distinct rows repeated: quantizing is slow). */
  private static ByteBuffer matrix(GgmlType type, int cols, int rows, int rb) {
    Random rnd = new Random(3);
    int pool = 16;
    byte[] q = new byte[rb * pool];
    float[] w = new float[cols];
    for (int r = 0; r < pool; r++) {
      for (int i = 0; i < cols; i++) {
        w[i] = (float) rnd.nextGaussian() * 0.05f;
      }
      type.quantizeRow(w, 0, cols, q, r * rb);
    }
    ByteBuffer buf = ByteBuffer.allocateDirect(rb * rows).order(ByteOrder.LITTLE_ENDIAN);
    for (int r = 0; r < rows; r++) {
      buf.put(q, (r % pool) * rb, rb);
    }
    return buf.flip();
  }

  private static String load() {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }
}
