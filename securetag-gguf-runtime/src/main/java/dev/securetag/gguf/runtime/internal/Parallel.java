package dev.securetag.gguf.runtime.internal;

import dev.securetag.core.internal.DaemonThreads;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Worker threads for one model that split index ranges (matrix rows, attention heads) into chunks. Decoding a token
 * runs about five parallel regions per layer, each only tens to hundreds of microseconds long, so hand-off latency
 * matters more than in a general-purpose pool: the calling thread works on the range itself, idle workers spin
 * briefly before parking (a region usually follows within microseconds), and chunks are claimed from a shared
 * counter so that a worker slowed down by other processes on a shared machine does not hold up the others. Spinning
 * threads yield now and then: when other processes leave fewer cores than threads, pure spinning would keep the
 * thread that holds the remaining work off the core; and when the caller repeatedly had to wait more than a
 * millisecond for a descheduled worker, the next few hundred regions run on the caller alone.
 */
public final class Parallel implements AutoCloseable {
  /** How long an idle worker spins for the next region before parking. */
  private static final long SPIN_NANOS = 200_000;
  /** How long the calling thread spins for workers' last chunks before yielding its core. */
  private static final long YIELD_AFTER_NANOS = 20_000;
  /**
   * A wait for workers longer than this, and longer than the caller's own work in the region, means that a worker
   * was descheduled in the middle of a chunk (other processes hold the cores). After {@link #SLOW_WAITS} such waits
   * within {@link #SLOW_WINDOW} regions, the next
   * {@link #SOLO_REGIONS} regions run on the calling thread alone, which on a contended machine is faster than waiting
   * a scheduler time slice per region; a single late worker (a page fault, a GC) does not switch.
   */
  private static final long SLOW_WAIT_NANOS = 1_000_000;
  private static final int SLOW_WAITS = 3;
  private static final int SLOW_WINDOW = 100;
  private static final int SOLO_REGIONS = 256;

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
  private int soloLeft;
  private int slowWaits;
  private int regionsSinceSlow;

  public Parallel(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    this.threads = threads;
    this.workers = new Thread[threads - 1];
    for (int i = 0; i < workers.length; i++) {
      Thread t = DaemonThreads.thread("gguf-runtime-" + System.identityHashCode(this) + "-" + (i + 1), this::workerLoop);
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
   * returns once every index is done, without waiting for workers that never got to run. A body must not call
   * {@code forRange} itself (a worker would wait for the region it is part of).
   */
  public synchronized void forRange(int n, int minGrain, RangeBody body) {
    if (n <= 0) {
      return;
    }
    if (workers.length == 0 || n <= minGrain || soloLeft > 0) {
      if (soloLeft > 0) {
        soloLeft--;
      }
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
    long workStart = System.nanoTime();
    r.work();
    long worked = System.nanoTime() - workStart;
    // What is left is in the hands of workers. Spin briefly, then yield: on a machine with fewer free cores than
    // threads, a worker holding the last chunk may be waiting for exactly this core.
    long spinStart = System.nanoTime();
    long waited = 0;
    while (r.remaining.get() > 0) {
      waited = System.nanoTime() - spinStart;
      if (waited < YIELD_AFTER_NANOS) {
        Thread.onSpinWait();
      } else {
        Thread.yield();
      }
    }
    // Late by more than a millisecond and by more than the caller's own share: a worker lost its core mid-chunk
    // (a balanced region ends within about one chunk of each other thread's).
    if (waited > SLOW_WAIT_NANOS && waited > worked) {
      slowWaits = regionsSinceSlow < SLOW_WINDOW ? slowWaits + 1 : 1;
      regionsSinceSlow = 0;
      if (slowWaits >= SLOW_WAITS) {
        soloLeft = SOLO_REGIONS;
        slowWaits = 0;
      }
    } else {
      regionsSinceSlow++;
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
      int spins = 0;
      while ((r = current) == seen && !closed) {
        if (System.nanoTime() - spinStart < SPIN_NANOS) {
          // Yield now and then, so that spinning never keeps a runnable thread of this model off a shared core.
          if (++spins % 64 == 0) {
            Thread.yield();
          } else {
            Thread.onSpinWait();
          }
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
