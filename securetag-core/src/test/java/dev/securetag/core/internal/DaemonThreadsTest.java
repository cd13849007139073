package dev.securetag.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DaemonThreadsTest {

  @Test
  void threadsAreDaemonsNamedWithPrefixAndCounter() throws Exception {
    Thread a = DaemonThreads.factory("x").newThread(() -> { });
    assertThat(a.isDaemon()).isTrue();
    assertThat(a.getName()).isEqualTo("x-1");
    Thread loop = DaemonThreads.thread("loop", () -> { });
    assertThat(loop.isDaemon()).isTrue();
    assertThat(loop.getName()).isEqualTo("loop");
    assertThat(loop.getState()).isEqualTo(Thread.State.NEW);
    ExecutorService pool = DaemonThreads.fixedPool("pool", 1);
    try {
      Thread t = pool.submit(Thread::currentThread).get(10, TimeUnit.SECONDS);
      assertThat(t.isDaemon()).isTrue();
      assertThat(t.getName()).isEqualTo("pool-1");
    } finally {
      pool.shutdownNow();
    }
    var s = DaemonThreads.scheduler("timer");
    try {
      assertThat(s.schedule(() -> Thread.currentThread().getName(), 1, TimeUnit.MILLISECONDS).get(10, TimeUnit.SECONDS))
          .isEqualTo("timer");
    } finally {
      s.shutdownNow();
    }
  }
}
