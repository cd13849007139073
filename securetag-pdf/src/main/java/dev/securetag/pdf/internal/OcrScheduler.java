package dev.securetag.pdf.internal;

import java.util.concurrent.BlockingDeque;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.RejectedExecutionException;

/**
 * Runs the OCR of single pages, from all documents, on the corpus's worker pool, so that a document with many
 * scanned pages keeps every thread busy instead of one. A thread that waits for its own pages (a document being
 * assembled, or one with too many rendered pages in flight) runs queued pages meanwhile, whichever document they
 * belong to, so a pool whose threads all wait can never stall.
 */
public final class OcrScheduler {

  private final ExecutorService pool;
  private final BlockingDeque<FutureTask<?>> queue = new LinkedBlockingDeque<>();

  public OcrScheduler(ExecutorService pool) {
    this.pool = pool;
  }

  /** Queues one page's OCR. */
  <T> Future<T> submit(Callable<T> job) {
    FutureTask<T> task = new FutureTask<>(job);
    queue.addLast(task);
    try {
      pool.execute(this::runOne);
    } catch (RejectedExecutionException e) {
      // The pool is shutting down: whoever awaits the page runs it.
    }
    return task;
  }

  private void runOne() {
    FutureTask<?> t = queue.pollFirst();
    if (t != null) {
      t.run();
    }
  }

  /** Runs queued pages on the calling thread until {@code f} is done, then returns its result. */
  <T> T await(Future<T> f) throws ExecutionException, InterruptedException {
    while (!f.isDone()) {
      FutureTask<?> t = queue.pollFirst();
      if (t == null) {
        break;
      }
      t.run();
    }
    return f.get();
  }

  /** Runs one queued page on the calling thread, or waits for {@code f} when nothing is queued. */
  void helpOrWait(Future<?> f) throws InterruptedException {
    FutureTask<?> t = queue.pollFirst();
    if (t != null) {
      t.run();
      return;
    }
    try {
      f.get();
    } catch (ExecutionException e) {
      // Reported when the page is resolved.
    }
  }
}
