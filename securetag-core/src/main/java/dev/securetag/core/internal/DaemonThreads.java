package dev.securetag.core.internal;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one daemon thread factory of securetag's worker pools (HTTP servers, call timeouts, kernels, fakes): threads
 * named {@code prefix-N}, daemon so a forgotten {@code close()} never keeps a JVM alive. Not API.
 */
public final class DaemonThreads {
  private DaemonThreads() {}

  /** A factory of daemon threads named {@code prefix-1}, {@code prefix-2}, ... */
  public static ThreadFactory factory(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** One daemon thread named {@code name} running {@code task}, not started (for loops that own their thread). */
  public static Thread thread(String name, Runnable task) {
    Thread t = new Thread(task, name);
    t.setDaemon(true);
    return t;
  }

  /** A cached pool of daemon threads. */
  public static ExecutorService cachedPool(String prefix) {
    return Executors.newCachedThreadPool(factory(prefix));
  }

  /** A fixed pool of {@code threads} daemon threads. */
  public static ExecutorService fixedPool(String prefix, int threads) {
    return Executors.newFixedThreadPool(threads, factory(prefix));
  }

  /** A single daemon thread for scheduled tasks, named {@code name}. */
  public static ScheduledExecutorService scheduler(String name) {
    return Executors.newSingleThreadScheduledExecutor(r -> thread(name, r));
  }
}
