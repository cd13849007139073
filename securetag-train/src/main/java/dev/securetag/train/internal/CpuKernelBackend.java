package dev.securetag.train.internal;

import dev.securetag.core.internal.DaemonThreads;
import dev.securetag.train.KernelBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Plain-Java kernels split across a fixed worker pool. The NF4 path uses a 256-entry pair table (both nibbles of a
 * byte at once) so the inner loop is one lookup and two multiplies per byte; no Vector API, because the module runs
 * without {@code --add-modules jdk.incubator.vector}.
 */
public final class CpuKernelBackend implements KernelBackend {
  private static final float[] PAIR_LUT = new float[512];

  static {
    for (int b = 0; b < 256; b++) {
      PAIR_LUT[2 * b] = BnbTables.NF4[b >>> 4];
      PAIR_LUT[2 * b + 1] = BnbTables.NF4[b & 0x0F];
    }
  }

  private final int threads;
  private final ExecutorService pool;
  private volatile boolean closed;

  /** @param threads worker threads; 0 means {@code availableProcessors()} */
  public CpuKernelBackend(int threads) {
    if (threads < 0) {
      throw new IllegalArgumentException("threads must be >= 0, was " + threads);
    }
    this.threads = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    this.pool = this.threads == 1 ? null : DaemonThreads.fixedPool("securetag-cpu-kernel", this.threads);
  }

  @Override
  public String name() {
    return "cpu(" + threads + " threads)";
  }

  /** Number of worker threads. */
  public int threads() {
    return threads;
  }

  @Override
  public void dequantizeNf4(byte[] packed, float[] scales, int blocksize, int numel, float[] out) {
    ensureOpen();
    if (blocksize % 2 != 0) {
      throw new IllegalArgumentException("blocksize must be even, was " + blocksize);
    }
    int blocks = (numel + blocksize - 1) / blocksize;
    parallel(blocks, 64, (from, to) -> {
      for (int blk = from; blk < to; blk++) {
        float s = scales[blk];
        int start = blk * blocksize;
        int end = Math.min(numel, start + blocksize);
        int pairsEnd = end - ((end - start) & 1);
        for (int i = start; i < pairsEnd; i += 2) {
          int b = (packed[i >> 1] & 0xFF) << 1;
          out[i] = PAIR_LUT[b] * s;
          out[i + 1] = PAIR_LUT[b + 1] * s;
        }
        if (pairsEnd < end) {
          out[pairsEnd] = PAIR_LUT[(packed[pairsEnd >> 1] & 0xFF) << 1] * s;
        }
      }
    });
  }

  @Override
  public void mergeLora(float[] w, int out, int in, float[] a, float[] b, int rank, float scale) {
    ensureOpen();
    parallel(out, 4, (from, to) -> {
      float[] coef = new float[rank];
      for (int o = from; o < to; o++) {
        for (int k = 0; k < rank; k++) {
          coef[k] = scale * b[o * rank + k];
        }
        int wo = o * in;
        for (int k = 0; k < rank; k++) {
          float c = coef[k];
          int ao = k * in;
          for (int i = 0; i < in; i++) {
            w[wo + i] += c * a[ao + i];
          }
        }
      }
    });
  }

  private interface Range {
    void run(int from, int to);
  }

  private void parallel(int n, int minChunk, Range body) {
    if (pool == null || n < 2 * minChunk) {
      body.run(0, n);
      return;
    }
    int parts = Math.min(threads, Math.max(1, n / minChunk));
    int step = (n + parts - 1) / parts;
    List<Future<?>> futures = new ArrayList<>(parts);
    for (int p = 1; p < parts; p++) {
      int from = p * step;
      int to = Math.min(n, from + step);
      if (from < to) {
        futures.add(pool.submit(() -> body.run(from, to)));
      }
    }
    body.run(0, Math.min(n, step));
    for (Future<?> f : futures) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for a kernel worker", e);
      } catch (ExecutionException e) {
        Throwable c = e.getCause();
        if (c instanceof RuntimeException re) {
          throw re;
        }
        throw new IllegalStateException("kernel worker failed: " + c, c);
      }
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("kernel backend " + name() + " is closed");
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      if (pool != null) {
        pool.shutdownNow();
      }
    }
  }
}
