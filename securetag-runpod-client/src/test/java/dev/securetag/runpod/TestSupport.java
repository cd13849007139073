package dev.securetag.runpod;

import dev.securetag.core.RetryPolicy;
import dev.securetag.testing.FakeRunPodEndpoint;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Shared fast settings for tests against the fake endpoint. */
final class TestSupport {
  static final String KEY = "rp_TESTKEY_5f3c9a1e7d";

  private TestSupport() {}

  static RunPodClient.Builder client(FakeRunPodEndpoint fake) {
    return RunPodClient.builder()
        .baseUrl(fake.baseUrl())
        .endpointId(fake.endpointId())
        .apiKey(KEY)
        .poll(PollPolicy.builder().initialInterval(Duration.ofMillis(20)).maxInterval(Duration.ofMillis(100)).build())
        .retry(RetryPolicy.builder().initialBackoff(Duration.ofMillis(10)).maxBackoff(Duration.ofMillis(50)).build())
        .timeouts(Timeouts.builder().deadline(Duration.ofSeconds(20)).build());
  }

  static FakeRunPodEndpoint.Builder fake() {
    return FakeRunPodEndpoint.builder().apiKey(KEY).queueDelay(Duration.ofMillis(10));
  }

  /** Waits (bounded) until the condition holds; fails the test otherwise. */
  static void eventually(BooleanSupplier condition, String what) {
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < end) {
      if (condition.getAsBoolean()) {
        return;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
    }
    throw new AssertionError("timed out waiting for " + what);
  }
}
