package dev.securetag.gguf.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The model's worker threads: every index exactly once, chunks aligned to the grain, failures surfaced. */
class ParallelTest {
  @Test
  void runsEveryIndexExactlyOnceInGrainAlignedChunks() {
    try (Parallel par = new Parallel(3)) {
      for (int n : new int[] {1, 2, 7, 64, 1001, 4096}) {
        for (int grain : new int[] {1, 2, 4}) {
          AtomicIntegerArray hits = new AtomicIntegerArray(n);
          par.forRange(n, grain, (from, to) -> {
            assertThat(from % grain).isZero();
            for (int i = from; i < to; i++) {
              hits.incrementAndGet(i);
            }
          });
          for (int i = 0; i < n; i++) {
            assertThat(hits.get(i)).as("n " + n + " grain " + grain + " index " + i).isEqualTo(1);
          }
        }
      }
    }
  }

  @Test
  void workersShareTheRange() throws InterruptedException {
    try (Parallel par = new Parallel(2)) {
      Set<String> threads = ConcurrentHashMap.newKeySet();
      CountDownLatch both = new CountDownLatch(2);
      par.forRange(64, 1, (from, to) -> {
        if (threads.add(Thread.currentThread().getName())) {
          both.countDown();
        }
        try {
          // Each chunk waits (bounded) for the other thread to show up, so both must take part.
          both.await(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      assertThat(threads).hasSize(2);
      assertThat(threads).anySatisfy(t -> assertThat(t).startsWith("gguf-runtime-"));
    }
  }

  @Test
  void rethrowsAFailureOfAnyChunkAndStaysUsable() {
    try (Parallel par = new Parallel(2)) {
      assertThatThrownBy(() -> par.forRange(100, 1, (from, to) -> {
        if (from <= 57 && 57 < to) {
          throw new IllegalStateException("chunk with 57");
        }
      })).isInstanceOf(IllegalStateException.class).hasMessage("chunk with 57");
      AtomicIntegerArray hits = new AtomicIntegerArray(10);
      par.forRange(10, 1, (from, to) -> hits.incrementAndGet(from));
      assertThat(hits.get(9)).isEqualTo(1);
    }
  }

  @Test
  void rejectsNonPositiveThreadCounts() {
    assertThatThrownBy(() -> new Parallel(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
