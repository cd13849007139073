package dev.securetag.benchmarks.ggufruntime;

import dev.securetag.gguf.GgmlType;
import dev.securetag.gguf.internal.runtime.QMatrix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * Single-thread throughput of the quantized matrix-vector kernels ({@link QMatrix#dot}) on a 4096 x 2048 random
 * matrix per type, best of 15 passes, in GB/s of weights. Run with {@code -Dsecuretag.gguf.bufferKernels=true}
 * (e.g. through {@code JAVA_TOOL_OPTIONS}) to measure the older buffer-reading kernels.
 */
public final class KernelBench {
  private KernelBench() {}

  public static void main(String[] args) {
    int cols = 2048;
    int rows = 4096;
    String[] types = args.length == 0 ? new String[] {"Q8_0", "Q4_K", "Q6_K"} : args;
    for (String name : types) {
      GgmlType type = GgmlType.valueOf(name);
      Random rnd = new Random(3);
      float[] w = new float[cols];
      int rb = (int) type.rowBytes(cols);
      byte[] q = new byte[rb * rows];
      for (int r = 0; r < rows; r++) {
        for (int i = 0; i < cols; i++) {
          w[i] = (float) rnd.nextGaussian() * 0.05f;
        }
        type.quantizeRow(w, 0, cols, q, r * rb);
      }
      ByteBuffer buf = ByteBuffer.allocateDirect(q.length).order(ByteOrder.LITTLE_ENDIAN);
      buf.put(q).flip();
      QMatrix m = new QMatrix("w", type, buf, rows, cols, true);
      float[] x = new float[cols];
      for (int i = 0; i < cols; i++) {
        x[i] = (float) rnd.nextGaussian();
      }
      float[] scratch = new float[cols];
      double best = 0;
      float sink = 0;
      for (int it = 0; it < 15; it++) {
        long t0 = System.nanoTime();
        for (int k = 0; k < 4; k++) {
          for (int r = 0; r < rows; r++) {
            sink += m.dot(r, x, 0, scratch);
          }
        }
        best = Math.max(best, 4.0 * q.length / (System.nanoTime() - t0));
      }
      System.out.printf("%s dot: best %.2f GB/s (1 thread, checksum %.3f)%n", name, best, sink);
    }
  }
}
