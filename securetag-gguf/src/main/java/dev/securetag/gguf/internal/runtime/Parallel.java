package dev.securetag.gguf.internal.runtime;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Worker threads for one model that split index ranges (matrix rows, attention heads) into chunks. Decoding a token
 * runs about five parallel regions per layer, each only tens to hundreds of microseconds long, so hand-off latency
 * matters more than in a general-purpose pool: the calling thread works on the range itself, idle workers spin
 * briefly before parking (a region usually follows within microseconds), and chunks are claimed from a shared
 * counter so that a worker slowed down by other processes on a shared machine does not hold up the others.
 */
public final class Parallel implements AutoCloseable {
  /** How long an idle worker spins for the next region before parking. */
  private static final long SPIN_NANOS = 200_000;

  /** Work on the half-open range {@code [from, to)}. */
  @FunctionalInterface
  public interface RangeBody {
    void run(int from, int to);
  }

  /** One call of {@link #forRange}: its own counters, so a worker that wakes late can never mix two regions. */
  private static final class Region {
    final RangeBody body;
    final int n;
    final int grain;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger remaining;
    volatile Throwable failure;

    Region(RangeBody body, int n, int grain) {
      this.body = body;
      this.n = n;
      this.grain = grain;
      this.remaining = new AtomicInteger(n);
    }

    void work() {
      while (true) {
        int from = next.getAndAdd(grain);
        if (from >= n) {
          return;
        }
        int to = Math.min(n, from + grain);
        try {
          if (failure == null) {
            body.run(from, to);
          }
        } catch (Throwable t) {
          failure = t;
        } finally {
          remaining.addAndGet(from - to);
        }
      }
    }
  }

  private final int threads;
  private final Thread[] workers;
  private volatile Region current;
  private volatile boolean closed;

  public Parallel(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    this.threads = threads;
    this.workers = new Thread[threads - 1];
    for (int i = 0; i < workers.length; i++) {
      Thread t = new Thread(this::workerLoop, "gguf-runtime-" + System.identityHashCode(this) + "-" + (i + 1));
      t.setDaemon(true);
      workers[i] = t;
      t.start();
    }
  }

  public int threads() {
    return threads;
  }

  /**
   * Runs {@code body} over {@code [0, n)} in chunks of at least {@code minGrain} indices (chunk starts are multiples
   * of {@code minGrain}, so a body can rely on row pairs when it passes 2). Regions run one at a time; the caller
   * returns once every index is done, without waiting for workers that never got to run.
   */
  public synchronized void forRange(int n, int minGrain, RangeBody body) {
    if (n <= 0) {
      return;
    }
    if (workers.length == 0 || n <= minGrain) {
      body.run(0, n);
      return;
    }
    // Several chunks per thread balance uneven progress; multiples of minGrain keep row pairs together.
    int g = Math.max(minGrain, n / (threads * 8));
    g = (g + minGrain - 1) / minGrain * minGrain;
    Region r = new Region(body, n, g);
    current = r;
    for (Thread w : workers) {
      LockSupport.unpark(w);
    }
    r.work();
    while (r.remaining.get() > 0) {
      Thread.onSpinWait();
    }
    Throwable t = r.failure;
    if (t instanceof RuntimeException re) {
      throw re;
    }
    if (t instanceof Error e) {
      throw e;
    }
    if (t != null) {
      throw new IllegalStateException(t);
    }
  }

  private void workerLoop() {
    Region seen = null;
    while (true) {
      long spinStart = System.nanoTime();
      Region r;
      while ((r = current) == seen && !closed) {
        if (System.nanoTime() - spinStart < SPIN_NANOS) {
          Thread.onSpinWait();
        } else {
          LockSupport.parkNanos(this, 1_000_000);
        }
      }
      if (closed) {
        return;
      }
      seen = r;
      r.work();
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Thread w : workers) {
      LockSupport.unpark(w);
    }
    for (Thread w : workers) {
      try {
        w.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
