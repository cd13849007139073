package dev.securetag.gguf.internal.runtime;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A fork-join pool sized for one model; splits index ranges (matrix rows, attention heads) across its workers. */
public final class Parallel implements AutoCloseable {
  private static final AtomicInteger POOLS = new AtomicInteger();

  /** Work on the half-open range {@code [from, to)}. */
  @FunctionalInterface
  public interface RangeBody {
    void run(int from, int to);
  }

  private final int threads;
  private final ForkJoinPool pool;

  public Parallel(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    this.threads = threads;
    int id = POOLS.incrementAndGet();
    AtomicInteger n = new AtomicInteger();
    this.pool = threads == 1 ? null : new ForkJoinPool(threads, p -> {
      ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
      t.setName("gguf-runtime-" + id + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    }, null, false);
  }

  public int threads() {
    return threads;
  }

  /** Runs {@code body} over {@code [0, n)} in pieces of at least {@code minGrain} indices. */
  public void forRange(int n, int minGrain, RangeBody body) {
    if (pool == null || n <= minGrain) {
      body.run(0, n);
      return;
    }
    // A few pieces per thread balances uneven progress on a shared machine without much scheduling overhead.
    int grain = Math.max(minGrain, (n + threads * 4 - 1) / (threads * 4));
    pool.invoke(new Split(body, 0, n, grain));
  }

  @Override
  public void close() {
    if (pool != null) {
      pool.shutdown();
      try {
        pool.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static final class Split extends RecursiveAction {
    private static final long serialVersionUID = 1L;
    private final transient RangeBody body;
    private final int from;
    private final int to;
    private final int grain;

    Split(RangeBody body, int from, int to, int grain) {
      this.body = body;
      this.from = from;
      this.to = to;
      this.grain = grain;
    }

    @Override
    protected void compute() {
      if (to - from <= grain) {
        body.run(from, to);
        return;
      }
      int mid = (from + to) >>> 1;
      invokeAll(new Split(body, from, mid, grain), new Split(body, mid, to, grain));
    }
  }
}
