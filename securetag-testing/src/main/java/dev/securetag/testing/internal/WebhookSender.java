package dev.securetag.testing.internal;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers a finished job's status JSON to its {@code webhook} URL the way RunPod does: a POST, repeated up to two more
 * times (after {@code retryDelay}) while the receiver does not answer 200.
 */
public final class WebhookSender {
  private static final Logger LOG = LoggerFactory.getLogger(WebhookSender.class);
  private static final int ATTEMPTS = 3;

  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ExecutorService senders;
  private final ScheduledExecutorService scheduler;
  private final Duration retryDelay;
  private final BooleanSupplier closed;
  private final AtomicInteger delivered = new AtomicInteger();

  public WebhookSender(ExecutorService senders, ScheduledExecutorService scheduler, Duration retryDelay,
      BooleanSupplier closed) {
    this.senders = senders;
    this.scheduler = scheduler;
    this.retryDelay = retryDelay;
    this.closed = closed;
  }

  /** Sends {@code body} to {@code url} in the background. */
  public void deliver(String jobId, String url, String body) {
    deliver(jobId, url, body, 1);
  }

  /** POSTs answered with 200. */
  public int delivered() {
    return delivered.get();
  }

  private void deliver(String id, String url, String body, int attempt) {
    Runnable send = () -> {
      int code;
      try {
        HttpResponse<Void> r = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
            HttpResponse.BodyHandlers.discarding());
        code = r.statusCode();
      } catch (IOException e) {
        code = 0;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (code == 200) {
        delivered.incrementAndGet();
      } else if (attempt < ATTEMPTS && !closed.getAsBoolean()) {
        LOG.debug("webhook for job {} answered {}; retry {}", id, code, attempt);
        later(id, url, body, attempt + 1);
      } else {
        LOG.debug("webhook for job {} gave up after {} attempts", id, attempt);
      }
    };
    try {
      senders.execute(send);
    } catch (RejectedExecutionException e) {
      LOG.debug("fake endpoint closed before the webhook of job {} was sent", id);
    }
  }

  private void later(String id, String url, String body, int attempt) {
    try {
      scheduler.schedule(() -> deliver(id, url, body, attempt), retryDelay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      LOG.debug("fake endpoint closed before the webhook retry of job {}", id);
    }
  }
}
