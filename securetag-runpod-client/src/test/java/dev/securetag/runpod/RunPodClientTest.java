package dev.securetag.runpod;

import static dev.securetag.runpod.TestSupport.KEY;
import static dev.securetag.runpod.TestSupport.client;
import static dev.securetag.runpod.TestSupport.eventually;
import static dev.securetag.runpod.TestSupport.fake;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.core.RetryPolicy;
import dev.securetag.core.internal.Json;
import dev.securetag.testing.FakeRunPodEndpoint;
import dev.securetag.testing.Fault;
import dev.securetag.testing.JobState;
import dev.securetag.testing.Operation;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class RunPodClientTest {

  private static ObjectNode prompt(String p) {
    return Json.object().put("prompt", p).put("model", "securetag");
  }

  @Test
  void runSubmitsInputWebhookAndPolicyWithBearerKey() {
    try (FakeRunPodEndpoint fake = fake().build(); RunPodClient c = client(fake).build()) {
      JobResult r = c.run(JobRequest.builder().input(prompt("hi")).webhook("https://example.test/hook")
          .executionTimeout(Duration.ofSeconds(30)).ttl(Duration.ofMinutes(5)).lowPriority(true).build());
      assertThat(r.status()).isEqualTo(JobStatus.IN_QUEUE);
      assertThat(r.id()).isNotBlank();
      FakeRunPodEndpoint.RecordedRequest req = fake.requests().get(0);
      assertThat(req.operation()).isEqualTo(Operation.RUN);
      assertThat(req.path()).isEqualTo("/v2/fake-endpoint/run");
      assertThat(req.authorization()).isEqualTo("Bearer " + KEY);
      JsonNode body = Json.readTree(req.body(), "run body");
      assertThat(body.path("input").path("prompt").asText()).isEqualTo("hi");
      assertThat(body.path("webhook").asText()).isEqualTo("https://example.test/hook");
      assertThat(body.path("policy").path("executionTimeout").asLong()).isEqualTo(30_000);
      assertThat(body.path("policy").path("ttl").asLong()).isEqualTo(300_000);
      assertThat(body.path("policy").path("lowPriority").asBoolean()).isTrue();
      assertThat(c.await(r.id(), Duration.ofSeconds(10)).status()).isEqualTo(JobStatus.COMPLETED);
    }
  }

  @Test
  void runSyncReturnsCompletedOutputWithinWait() {
    try (FakeRunPodEndpoint fake = fake().build(); RunPodClient c = client(fake).build()) {
      JobResult r = c.runSync(JobRequest.of(prompt("ping")), Duration.ofSeconds(5)).requireCompleted();
      assertThat(r.id()).startsWith("sync-");
      assertThat(r.outputText()).isEqualTo("echo: ping");
      assertThat(r.outputModel()).contains("securetag");
      assertThat(r.delayTime()).isPresent();
      assertThat(r.executionTime()).isPresent();
      assertThat(r.workerId()).isPresent();
      assertThat(fake.requestCount(Operation.STATUS)).isZero();
    }
  }

  @Test
  void runSyncKeepsPollingStatusWhenTheWaitRunsOut() {
    try (FakeRunPodEndpoint fake = fake().maxRunSyncWait(Duration.ofMillis(50)).handler(job -> {
          job.sleep(Duration.ofMillis(400));
          return Json.object().put("response", "slow answer").put("model", "m");
        }).build();
        RunPodClient c = client(fake).build()) {
      JobResult r = c.runSync(JobRequest.of(prompt("x")), Duration.ofSeconds(1));
      assertThat(r.status()).isEqualTo(JobStatus.COMPLETED);
      assertThat(r.outputText()).isEqualTo("slow answer");
      assertThat(fake.requestCount(Operation.RUNSYNC)).isEqualTo(1);
      assertThat(fake.requestCount(Operation.STATUS)).isGreaterThanOrEqualTo(1);
    }
  }

  @Test
  void runSyncCancelsTheJobWhenItsDeadlinePasses() {
    try (FakeRunPodEndpoint fake = fake().maxRunSyncWait(Duration.ofMillis(50)).handler(job -> {
          job.sleep(Duration.ofSeconds(20));
          return Json.object();
        }).build();
        RunPodClient c = client(fake).build()) {
      // The deadline leaves the runsync request itself ample time even on a loaded machine; polling then runs it out.
      assertThatThrownBy(() -> c.runSync(JobRequest.of(prompt("x")), Duration.ofSeconds(1), Duration.ofMillis(1500)))
          .isInstanceOfSatisfying(RunPodException.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
            assertThat(e.isRetriable()).isTrue();
            assertThat(e.jobId()).isPresent();
            assertThat(fake.jobStatus(e.jobId().get())).contains(JobState.CANCELLED);
          });
      assertThat(fake.requestCount(Operation.CANCEL)).isEqualTo(1);
    }
  }

  @Test
  void runSyncRejectsWaitsOutsideOneTo300Seconds() {
    try (FakeRunPodEndpoint fake = fake().build(); RunPodClient c = client(fake).build()) {
      assertThatThrownBy(() -> c.runSync(JobRequest.of(prompt("x")), Duration.ofMillis(500)))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 and 300");
      assertThatThrownBy(() -> c.runSync(JobRequest.of(prompt("x")), Duration.ofSeconds(301)))
          .isInstanceOf(IllegalArgumentException.class);
      assertThat(fake.requestCount(Operation.ANY)).isZero();
    }
  }

  @Test
  void statusMovesFromQueueThroughProgressToCompleted() {
    CountDownLatch release = new CountDownLatch(1);
    try (FakeRunPodEndpoint fake = fake().queueDelay(Duration.ofMillis(300)).handler(job -> {
          release.await(10, TimeUnit.SECONDS);
          return Json.object().put("response", "done");
        }).build();
        RunPodClient c = client(fake).build()) {
      String id = c.run(prompt("q")).id();
      assertThat(c.status(id).status()).isEqualTo(JobStatus.IN_QUEUE);
      eventually(() -> c.status(id).status() == JobStatus.IN_PROGRESS, "IN_PROGRESS");
      assertThat(c.health().jobsInProgress()).isEqualTo(1);
      release.countDown();
      JobResult done = c.await(id, Duration.ofSeconds(10));
      assertThat(done.status()).isEqualTo(JobStatus.COMPLETED);
      assertThat(done.isTerminal()).isTrue();
      assertThat(done.delayTime()).isPresent();
      assertThat(done.outputText()).isEqualTo("done");
    }
  }

  @Test
  void failedJobCarriesTheRunpodPythonErrorString() {
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          throw new IllegalArgumentException("prompt too long");
        }).build();
        RunPodClient c = client(fake).build()) {
      JobResult r = c.runSync(JobRequest.of(prompt("x")), Duration.ofSeconds(5));
      assertThat(r.status()).isEqualTo(JobStatus.FAILED);
      assertThat(r.error()).get().asString().startsWith("{").contains("error_message");
      assertThat(r.errorJson()).get().extracting(j -> j.path("error_type").asText()).asString().contains("IllegalArgumentException");
      assertThat(r.errorMessage()).contains("prompt too long");
      assertThatThrownBy(r::requireCompleted).isInstanceOfSatisfying(RunPodException.class, e -> {
        assertThat(e.kind()).isEqualTo(Kind.JOB_FAILED);
        assertThat(e.isRetriable()).isFalse();
        assertThat(e.getMessage()).contains("prompt too long");
        assertThat(e.jobStatus()).contains(JobStatus.FAILED);
      });
    }
  }

  @Test
  void handlerReturningAnErrorStringMarksTheJobFailedAndKeepsTheRestAsOutput() {
    try (FakeRunPodEndpoint fake = fake().handler(job -> Json.object().put("error", "model not loaded").put("hint", "pull"))
            .build();
        RunPodClient c = client(fake).build()) {
      JobResult r = c.runSync(JobRequest.of(prompt("x")), Duration.ofSeconds(5));
      assertThat(r.status()).isEqualTo(JobStatus.FAILED);
      assertThat(r.error()).contains("model not loaded");
      assertThat(r.errorMessage()).contains("model not loaded");
      assertThat(r.output().path("hint").asText()).isEqualTo("pull");
    }
  }

  @Test
  void jobPastItsExecutionTimeoutEndsTimedOut() {
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          job.sleep(Duration.ofSeconds(20));
          return Json.object();
        }).build();
        RunPodClient c = client(fake).build()) {
      String id = c.run(JobRequest.builder().input(prompt("x")).executionTimeout(Duration.ofMillis(150)).build()).id();
      JobResult r = c.await(id, Duration.ofSeconds(10));
      assertThat(r.status()).isEqualTo(JobStatus.TIMED_OUT);
      assertThatThrownBy(r::requireCompleted).isInstanceOfSatisfying(RunPodException.class,
          e -> assertThat(e.kind()).isEqualTo(Kind.TIMEOUT));
    }
  }

  @Test
  void streamDeliversEveryChunkInOrderAndAggregatesTheOutput() {
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          for (int i = 0; i < 20; i++) {
            job.emit(Json.mapper().getNodeFactory().textNode("t" + i + " "));
            job.sleep(Duration.ofMillis(5));
          }
          return null;
        }).build();
        RunPodClient c = client(fake).build()) {
      String id = c.run(prompt("s")).id();
      List<String> texts = new ArrayList<>();
      JobStatus last;
      try (JobStream s = c.stream(id)) {
        s.forEachRemaining(ch -> texts.add(ch.text()));
        last = s.lastStatus().orElseThrow();
      }
      assertThat(last).isEqualTo(JobStatus.COMPLETED);
      assertThat(texts).hasSize(20);
      for (int i = 0; i < 20; i++) {
        assertThat(texts.get(i)).isEqualTo("t" + i + " ");
      }
      JobResult done = c.status(id);
      assertThat(done.output().isArray()).isTrue();
      assertThat(done.output()).hasSize(20);
      assertThat(done.outputText()).startsWith("t0 t1 ");
    }
  }

  @Test
  void streamEndsWhenTheJobIsCancelled() {
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          for (int i = 0; i < 1000; i++) {
            job.emit(Json.mapper().getNodeFactory().textNode("x"));
            job.sleep(Duration.ofMillis(20));
          }
          return null;
        }).build();
        RunPodClient c = client(fake).build()) {
      String id = c.run(prompt("s")).id();
      int seen = 0;
      try (JobStream s = c.stream(id)) {
        while (s.hasNext()) {
          s.next();
          if (++seen == 3) {
            assertThat(s.cancel().status()).isEqualTo(JobStatus.CANCELLED);
          }
        }
        assertThat(s.lastStatus()).contains(JobStatus.CANCELLED);
      }
      assertThat(seen).isBetween(3, 999);
    }
  }

  @Test
  void streamPublisherDeliversChunksThenCompletes() throws Exception {
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          for (int i = 0; i < 5; i++) {
            job.emit(Json.object().put("response", "p" + i));
          }
          return null;
        }).build();
        RunPodClient c = client(fake).build()) {
      String id = c.run(prompt("s")).id();
      List<String> got = new CopyOnWriteArrayList<>();
      CompletableFuture<Void> done = new CompletableFuture<>();
      c.streamPublisher(id).subscribe(new Flow.Subscriber<>() {
        @Override
        public void onSubscribe(Flow.Subscription s) {
          s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(StreamChunk item) {
          got.add(item.text());
        }

        @Override
        public void onError(Throwable t) {
          done.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
          done.complete(null);
        }
      });
      done.get(10, TimeUnit.SECONDS);
      assertThat(got).containsExactly("p0", "p1", "p2", "p3", "p4");
    }
  }

  @Test
  void retryRequeuesAFailedJobUnderTheSameId() {
    AtomicInteger attempts = new AtomicInteger();
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          if (attempts.incrementAndGet() == 1) {
            throw new IllegalStateException("flaky GPU");
          }
          return Json.object().put("response", "second time lucky");
        }).build();
        RunPodClient c = client(fake).build()) {
      String id = c.run(prompt("x")).id();
      assertThat(c.await(id, Duration.ofSeconds(10)).status()).isEqualTo(JobStatus.FAILED);
      JobResult retried = c.retry(id);
      assertThat(retried.id()).isEqualTo(id);
      assertThat(retried.status()).isEqualTo(JobStatus.IN_QUEUE);
      JobResult done = c.await(id, Duration.ofSeconds(10));
      assertThat(done.status()).isEqualTo(JobStatus.COMPLETED);
      assertThat(done.error()).isEmpty();
      assertThat(done.outputText()).isEqualTo("second time lucky");
      assertThat(c.health().jobs().get("retried")).isEqualTo(1L);
    }
  }

  @Test
  void retryOfACompletedJobIsAnInvalidRequest() {
    try (FakeRunPodEndpoint fake = fake().build(); RunPodClient c = client(fake).build()) {
      String id = c.runSync(JobRequest.of(prompt("x")), Duration.ofSeconds(5)).id();
      assertThatThrownBy(() -> c.retry(id)).isInstanceOfSatisfying(RunPodException.class, e -> {
        assertThat(e.kind()).isEqualTo(Kind.INVALID_REQUEST);
        assertThat(e.httpStatus()).isEqualTo(400);
        assertThat(e.getMessage()).contains("only FAILED or TIMED_OUT");
      });
    }
  }

  @Test
  void purgeQueueRemovesOnlyQueuedJobs() {
    CountDownLatch release = new CountDownLatch(1);
    try (FakeRunPodEndpoint fake = fake().workers(1).handler(job -> {
          release.await(10, TimeUnit.SECONDS);
          return Json.object().put("response", "ok");
        }).build();
        RunPodClient c = client(fake).build()) {
      String running = c.run(prompt("1")).id();
      eventually(() -> c.status(running).status() == JobStatus.IN_PROGRESS, "first job running");
      String q1 = c.run(prompt("2")).id();
      String q2 = c.run(prompt("3")).id();
      eventually(() -> c.health().jobsInQueue() == 2, "two queued");
      assertThat(c.purgeQueue()).isEqualTo(2);
      release.countDown();
      assertThat(c.await(running, Duration.ofSeconds(10)).status()).isEqualTo(JobStatus.COMPLETED);
      for (String id : List.of(q1, q2)) {
        assertThatThrownBy(() -> c.status(id)).isInstanceOfSatisfying(RunPodException.class,
            e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND));
      }
    }
  }

  @Test
  void healthReportsJobAndWorkerCounters() {
    try (FakeRunPodEndpoint fake = fake().workers(3).build(); RunPodClient c = client(fake).build()) {
      c.runSync(JobRequest.of(prompt("x")), Duration.ofSeconds(5));
      EndpointHealth h = c.health();
      assertThat(h.jobs()).containsEntry("completed", 1L).containsKeys("failed", "inProgress", "inQueue", "retried");
      assertThat(h.workersIdle()).isEqualTo(3);
      assertThat(h.workersRunning()).isZero();
      assertThat(h.isCold()).isFalse();
    }
  }

  @Test
  void unknownAndExpiredJobsAreNotFound() throws Exception {
    try (FakeRunPodEndpoint fake = fake().syncRetention(Duration.ofSeconds(1)).build();
        RunPodClient c = client(fake).build()) {
      assertThatThrownBy(() -> c.status("no-such-job")).isInstanceOfSatisfying(RunPodException.class, e -> {
        assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND);
        assertThat(e.httpStatus()).isEqualTo(404);
        assertThat(e.jobId()).contains("no-such-job");
        assertThat(e.isRetriable()).isFalse();
      });
      String id = c.runSync(JobRequest.of(prompt("x")), Duration.ofSeconds(5)).requireCompleted().id();
      assertThat(c.status(id).status()).isEqualTo(JobStatus.COMPLETED);
      Thread.sleep(1300);
      assertThatThrownBy(() -> c.status(id)).isInstanceOfSatisfying(RunPodException.class,
          e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND));
    }
  }

  @Test
  void jobPastItsTtlIsDeletedEvenWhileRunning() {
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          job.sleep(Duration.ofSeconds(20));
          return Json.object();
        }).build();
        RunPodClient c = client(fake).build()) {
      String id = c.run(JobRequest.builder().input(prompt("x")).ttl(Duration.ofMillis(200)).build()).id();
      assertThatThrownBy(() -> c.await(id, Duration.ofSeconds(10))).isInstanceOfSatisfying(RunPodException.class,
          e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND));
    }
  }

  @Test
  void awaitGivesUpAtItsDeadlineWithoutCancelling() {
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          job.sleep(Duration.ofSeconds(20));
          return Json.object();
        }).build();
        RunPodClient c = client(fake).build()) {
      String id = c.run(prompt("x")).id();
      assertThatThrownBy(() -> c.await(id, Duration.ofMillis(300))).isInstanceOfSatisfying(RunPodException.class, e -> {
        assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
        assertThat(e.jobId()).contains(id);
      });
      assertThat(fake.requestCount(Operation.CANCEL)).isZero();
      assertThat(c.cancel(id).status()).isEqualTo(JobStatus.CANCELLED);
    }
  }

  @Test
  void statusIsRetriedAfter5xxRateLimitsAndDroppedConnections() {
    try (FakeRunPodEndpoint fake = fake().build(); RunPodClient c = client(fake).build()) {
      String id = c.runSync(JobRequest.of(prompt("x")), Duration.ofSeconds(5)).id();
      fake.injectFault(Operation.STATUS, 1, Fault.status(503));
      fake.injectFault(Operation.STATUS, 1, Fault.drop());
      fake.injectFault(Operation.STATUS, 1, Fault.rateLimited());
      fake.injectFault(Operation.STATUS, 1, Fault.status(500));
      assertThat(c.status(id).status()).isEqualTo(JobStatus.COMPLETED);
      assertThat(fake.requestCount(Operation.STATUS)).isEqualTo(5);
    }
  }

  @Test
  void retriesStopAfterMaxAttempts() {
    try (FakeRunPodEndpoint fake = fake().build();
        RunPodClient c = client(fake).retry(RetryPolicy.builder().maxAttempts(3).initialBackoff(Duration.ofMillis(5)).build())
            .build()) {
      fake.injectFault(Operation.HEALTH, 10, Fault.status(502));
      assertThatThrownBy(c::health).isInstanceOfSatisfying(RunPodException.class, e -> {
        assertThat(e.kind()).isEqualTo(Kind.SERVER_ERROR);
        assertThat(e.httpStatus()).isEqualTo(502);
        assertThat(e.isRetriable()).isTrue();
      });
      assertThat(fake.requestCount(Operation.HEALTH)).isEqualTo(3);
    }
  }

  @Test
  void submitIsNotRetriedAfterFailuresThatMayHaveCreatedAJob() {
    try (FakeRunPodEndpoint fake = fake().build(); RunPodClient c = client(fake).build()) {
      fake.injectFault(Operation.RUN, 1, Fault.status(503));
      assertThatThrownBy(() -> c.run(prompt("x"))).isInstanceOfSatisfying(RunPodException.class,
          e -> assertThat(e.kind()).isEqualTo(Kind.SERVER_ERROR));
      fake.injectFault(Operation.RUN, 1, Fault.drop());
      assertThatThrownBy(() -> c.run(prompt("x"))).isInstanceOfSatisfying(RunPodException.class,
          e -> assertThat(e.kind()).isEqualTo(Kind.CONNECTION));
      assertThat(fake.requestCount(Operation.RUN)).isEqualTo(2);
    }
  }

  @Test
  void submitIsRetriedAfter429OrWhenAskedTo() {
    try (FakeRunPodEndpoint fake = fake().build();
        RunPodClient c = client(fake).build();
        RunPodClient eager = client(fake).retry(RetryPolicy.builder().initialBackoff(Duration.ofMillis(5))
            .retryNonIdempotent(true).build()).build()) {
      fake.injectFault(Operation.RUN, 2, Fault.rateLimited());
      assertThat(c.run(prompt("x")).status()).isEqualTo(JobStatus.IN_QUEUE);
      assertThat(fake.requestCount(Operation.RUN)).isEqualTo(3);
      fake.injectFault(Operation.RUNSYNC, 1, Fault.status(500));
      assertThat(eager.runSync(JobRequest.of(prompt("y")), Duration.ofSeconds(5)).status()).isEqualTo(JobStatus.COMPLETED);
      assertThat(fake.requestCount(Operation.RUNSYNC)).isEqualTo(2);
    }
  }

  @Test
  void retryAfterLongerThanTheCallTimeoutFailsFastWithTheHint() {
    try (FakeRunPodEndpoint fake = fake().build();
        RunPodClient c = client(fake).timeouts(Timeouts.builder().call(Duration.ofSeconds(2)).build()).build()) {
      fake.injectFault(Operation.HEALTH, 1, Fault.rateLimited(Duration.ofSeconds(30)));
      assertThatThrownBy(c::health).isInstanceOfSatisfying(RunPodException.class, e -> {
        assertThat(e.kind()).isEqualTo(Kind.RATE_LIMITED);
        assertThat(e.retryAfter()).contains(Duration.ofSeconds(30));
      });
      assertThat(fake.requestCount(Operation.HEALTH)).isEqualTo(1);
    }
  }

  @Test
  void retryAfterIsHonouredBeforeTheNextAttempt() {
    try (FakeRunPodEndpoint fake = fake().build(); RunPodClient c = client(fake).build()) {
      fake.injectFault(Operation.HEALTH, 1, Fault.rateLimited(Duration.ofSeconds(1)));
      long before = System.nanoTime();
      c.health();
      long waitedMs = (System.nanoTime() - before) / 1_000_000;
      // Correctness, not speed: with a 10 ms backoff the second attempt can only be this late if Retry-After was used.
      assertThat(waitedMs).isGreaterThanOrEqualTo(900);
      assertThat(fake.requestCount(Operation.HEALTH)).isEqualTo(2);
    }
  }

  @Test
  void wrongKeyIsAnAuthenticationErrorThatIsNotRetried() {
    try (FakeRunPodEndpoint fake = fake().build();
        RunPodClient c = client(fake).apiKey("rp_WRONGKEY_0000").build()) {
      assertThatThrownBy(c::health).isInstanceOfSatisfying(RunPodException.class, e -> {
        assertThat(e.kind()).isEqualTo(Kind.AUTHENTICATION);
        assertThat(e.httpStatus()).isEqualTo(401);
        assertThat(e.isRetriable()).isFalse();
      });
      assertThat(fake.requestCount(Operation.HEALTH)).isEqualTo(1);
    }
  }

  @Test
  void oversizedPayloadIsAnInvalidRequest() {
    try (FakeRunPodEndpoint fake = fake().payloadLimits(1000, 2000).build(); RunPodClient c = client(fake).build()) {
      ObjectNode big = Json.object().put("prompt", "x".repeat(5000));
      assertThatThrownBy(() -> c.run(big)).isInstanceOfSatisfying(RunPodException.class, e -> {
        assertThat(e.kind()).isEqualTo(Kind.INVALID_REQUEST);
        assertThat(e.getMessage()).contains("payload too large");
      });
    }
  }

  @Test
  void apiKeyAppearsInNoExceptionLogLineOrToString() {
    PrintStream originalErr = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    List<String> messages = new ArrayList<>();
    try (FakeRunPodEndpoint fake = fake().maxRunSyncWait(Duration.ofMillis(50)).handler(job -> {
          job.sleep(Duration.ofSeconds(20));
          return Json.object();
        }).build();
        RunPodClient c = client(fake).build()) {
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      fake.injectFault(Operation.HEALTH, 10, Fault.status(500).echoingAuthorization());
      try {
        c.health();
      } catch (RunPodException e) {
        messages.add(e.getMessage());
        messages.add(e.toString());
      }
      fake.injectFault(Operation.HEALTH, 1, Fault.status(401).echoingAuthorization());
      try {
        c.health();
      } catch (RunPodException e) {
        messages.add(e.getMessage());
      }
      // A deadline that forces a cancel whose own call fails: exercises the warn log line.
      fake.injectFault(Operation.CANCEL, 10, Fault.status(500).echoingAuthorization());
      try {
        c.runSync(JobRequest.of(prompt("x")), Duration.ofSeconds(1), Duration.ofMillis(1500));
      } catch (RunPodException e) {
        messages.add(e.getMessage());
      }
      messages.add(c.toString());
      messages.add(RunPodClient.builder().apiKey(KEY).endpointId("e").toString());
    } finally {
      System.setErr(originalErr);
    }
    String logs = captured.toString(StandardCharsets.UTF_8);
    assertThat(messages).hasSizeGreaterThanOrEqualTo(5).noneMatch(m -> m.contains(KEY));
    assertThat(messages.get(0)).contains("****").contains("HTTP 500");
    assertThat(logs).contains("could not cancel RunPod job").doesNotContain(KEY);
  }

  @Test
  void runAsyncCompletesWithTheTerminalResult() throws Exception {
    try (FakeRunPodEndpoint fake = fake().build(); RunPodClient c = client(fake).build()) {
      JobResult r = c.runAsync(JobRequest.of(prompt("async"))).get(10, TimeUnit.SECONDS);
      assertThat(r.status()).isEqualTo(JobStatus.COMPLETED);
      assertThat(r.outputText()).isEqualTo("echo: async");
      assertThat(c.runSyncAsync(JobRequest.of(prompt("s")), Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS).outputText())
          .isEqualTo("echo: s");
      assertThat(c.statusAsync(r.id()).get(10, TimeUnit.SECONDS).status()).isEqualTo(JobStatus.COMPLETED);
    }
  }

  @Test
  void cancellingTheFutureCancelsTheJob() {
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          job.sleep(Duration.ofSeconds(20));
          return Json.object();
        }).build();
        RunPodClient c = client(fake).build()) {
      CompletableFuture<JobResult> f = c.runAsync(JobRequest.of(prompt("x")));
      eventually(() -> fake.requestCount(Operation.STATUS) > 0, "polling started");
      String id = fake.requests().stream().filter(r -> r.operation() == Operation.STATUS).findFirst().orElseThrow()
          .path().replaceAll(".*/", "");
      assertThat(f.cancel(true)).isTrue();
      eventually(() -> fake.jobStatus(id).orElse(null) == JobState.CANCELLED, "job cancelled on the endpoint");
      assertThat(f).isCancelled();
    }
  }

  @Test
  void cancellingARunSyncFutureWhileTheRequestIsInFlightStillCancelsTheJob() {
    try (FakeRunPodEndpoint fake = fake().maxRunSyncWait(Duration.ofMillis(400)).handler(job -> {
          job.sleep(Duration.ofSeconds(20));
          return Json.object();
        }).build();
        RunPodClient c = client(fake).build()) {
      CompletableFuture<JobResult> f = c.runSyncAsync(JobRequest.of(prompt("x")), Duration.ofSeconds(1));
      eventually(() -> fake.jobCount() == 1, "runsync job created");
      assertThat(f.cancel(true)).isTrue();
      eventually(() -> fake.requestCount(Operation.CANCEL) == 1, "job cancelled once its id was known");
      String id = fake.requests().stream().filter(r -> r.operation() == Operation.CANCEL).findFirst().orElseThrow()
          .path().replaceAll(".*/", "");
      assertThat(id).startsWith("sync-");
      assertThat(fake.jobStatus(id)).contains(JobState.CANCELLED);
    }
  }

  @Test
  void webhookReceivesTheFinalStatusAndIsRetriedUntil200() throws Exception {
    try (mockwebserver3.MockWebServer hook = new mockwebserver3.MockWebServer()) {
      hook.start();
      hook.enqueue(new mockwebserver3.MockResponse.Builder().code(500).build());
      hook.enqueue(new mockwebserver3.MockResponse.Builder().code(200).build());
      try (FakeRunPodEndpoint fake = fake().webhookRetryDelay(Duration.ofMillis(20)).build();
          RunPodClient c = client(fake).build()) {
        String id = c.run(JobRequest.builder().input(prompt("hook")).webhook(hook.url("/done").toString()).build()).id();
        assertThat(c.await(id, Duration.ofSeconds(10)).status()).isEqualTo(JobStatus.COMPLETED);
        eventually(() -> fake.webhookDeliveries() == 1, "webhook delivered");
        mockwebserver3.RecordedRequest first = hook.takeRequest();
        assertThat(first.getMethod()).isEqualTo("POST");
        JsonNode body = Json.readTree(hook.takeRequest().getBody().utf8(), "webhook body");
        assertThat(body.path("id").asText()).isEqualTo(id);
        assertThat(body.path("status").asText()).isEqualTo("COMPLETED");
        assertThat(body.path("output").path("response").asText()).isEqualTo("echo: hook");
      }
    }
  }

  @Test
  void closeIsIdempotentAndUseAfterCloseFails() {
    try (FakeRunPodEndpoint fake = fake().build()) {
      RunPodClient c = client(fake).build();
      c.close();
      c.close();
      assertThatThrownBy(c::health).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> c.run(prompt("x"))).isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void sharedHttpClientIsLeftOpenWhenTheRunPodClientCloses() {
    okhttp3.OkHttpClient shared = new okhttp3.OkHttpClient();
    try (FakeRunPodEndpoint fake = fake().build()) {
      try (RunPodClient c = client(fake).httpClient(shared).build()) {
        assertThat(c.health().workersIdle()).isPositive();
      }
      assertThat(shared.dispatcher().executorService().isShutdown()).isFalse();
      try (RunPodClient again = client(fake).httpClient(shared).build()) {
        assertThat(again.health().workersIdle()).isPositive();
      }
    } finally {
      shared.dispatcher().executorService().shutdown();
      shared.connectionPool().evictAll();
    }
  }

  /** Every public call that talks to RunPod, each on a job id the stalled server never heard of. */
  private static Map<String, ThrowingCallable> everyCall(RunPodClient c) {
    Map<String, ThrowingCallable> calls = new LinkedHashMap<>();
    calls.put("run", () -> c.run(prompt("x")));
    calls.put("runSync", () -> c.runSync(JobRequest.of(prompt("x")), Duration.ofSeconds(1)));
    calls.put("status", () -> c.status("job-1"));
    calls.put("stream", () -> {
      try (JobStream s = c.stream("job-1")) {
        s.hasNext();
      }
    });
    calls.put("cancel", () -> c.cancel("job-1"));
    calls.put("retry", () -> c.retry("job-1"));
    calls.put("purgeQueue", c::purgeQueue);
    calls.put("health", c::health);
    return calls;
  }

  /**
   * Runs each call against a stalled server with the default read timeout (30 s), retry policy and job deadline, and
   * only the call timeout shortened: each must fail with a TIMEOUT RunPodException well before a read timeout could
   * fire, without the key in its message.
   */
  private static void assertEveryCallEndsWithATimeout(StallingServer server) {
    Duration call = Duration.ofMillis(500);
    try (RunPodClient c = RunPodClient.builder().baseUrl(server.baseUrl()).endpointId("ep").apiKey(KEY)
        .timeouts(Timeouts.builder().call(call).build()).build()) {
      everyCall(c).forEach((name, callable) -> {
        long start = System.nanoTime();
        assertThatThrownBy(callable).as(name).isInstanceOfSatisfying(RunPodException.class, e -> {
          assertThat(e.kind()).as(name).isEqualTo(Kind.TIMEOUT);
          assertThat(e.isRetriable()).as(name).isTrue();
          assertThat(e.getMessage()).as(name).doesNotContain(KEY);
          assertThat(e.toString()).as(name).doesNotContain(KEY);
        });
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        // runSync's request may legitimately hold for its wait (1 s) on top of the call timeout.
        Duration bound = call.plus(name.equals("runSync") ? Duration.ofSeconds(1) : Duration.ZERO).plusSeconds(5);
        assertThat(took).as(name + " took " + took.toMillis() + " ms").isLessThan(bound);
      });
    }
  }

  @Test
  void everyCallEndsWithATypedTimeoutWhenTheServerAcceptsAndNeverAnswers() throws Exception {
    try (StallingServer silent = StallingServer.silent()) {
      assertEveryCallEndsWithATimeout(silent);
      assertThat(silent.connections()).isGreaterThanOrEqualTo(8);
    }
  }

  @Test
  void everyCallEndsWithATypedTimeoutWhenTheServerTricklesItsReply() throws Exception {
    // One byte per 100 ms keeps every read well inside the 30 s read timeout: only the call timeout can end it.
    try (StallingServer slow = StallingServer.trickling(Duration.ofMillis(100))) {
      assertEveryCallEndsWithATimeout(slow);
      assertThat(slow.connections()).isGreaterThanOrEqualTo(8);
    }
  }

  @Test
  void callTimeoutBoundsEachRequestNotTheWholeJob() {
    try (FakeRunPodEndpoint fake = fake().maxRunSyncWait(Duration.ofMillis(50)).handler(job -> {
          if (job.input().path("prompt").asText().equals("sync")) {
            job.sleep(Duration.ofMillis(800));
            return Json.object().put("response", "slow answer");
          }
          for (int i = 0; i < 8; i++) {
            job.emit(Json.mapper().getNodeFactory().textNode("t" + i));
            job.sleep(Duration.ofMillis(100));
          }
          return null;
        }).build();
        RunPodClient c = client(fake).timeouts(Timeouts.builder().call(Duration.ofMillis(400))
            .deadline(Duration.ofSeconds(20)).build()).build()) {
      // The job runs about 800 ms, twice the call timeout: polling continues under the job deadline.
      assertThat(c.runSync(JobRequest.of(prompt("sync")), Duration.ofSeconds(1)).outputText()).isEqualTo("slow answer");
      List<String> chunks = new ArrayList<>();
      try (JobStream s = c.stream(c.run(prompt("stream")).id())) {
        s.forEachRemaining(ch -> chunks.add(ch.text()));
      }
      assertThat(chunks).containsExactly("t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7");
    }
  }

  @Test
  void retriesOfOneCallStopAtTheCallTimeout() {
    try (FakeRunPodEndpoint fake = fake().build();
        RunPodClient c = client(fake).retry(RetryPolicy.builder().initialBackoff(Duration.ofMillis(300)).jitter(0).build())
            .timeouts(Timeouts.builder().call(Duration.ofMillis(500)).build()).build()) {
      fake.injectFault(Operation.HEALTH, 10, Fault.status(503));
      assertThatThrownBy(c::health).isInstanceOfSatisfying(RunPodException.class,
          e -> assertThat(e.kind()).isEqualTo(Kind.SERVER_ERROR));
      // 0 ms and ~300 ms fit in 500 ms; the next backoff (600 ms) does not, so no third attempt of the five allowed.
      assertThat(fake.requestCount(Operation.HEALTH)).isBetween(1, 2);
    }
  }

  @Test
  void builderRejectsMissingKeyAndBadEndpointId() {
    assertThatThrownBy(() -> RunPodClient.builder().endpointId("e").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("apiKey");
    assertThatThrownBy(() -> RunPodClient.builder().endpointId("a/b").apiKey("k").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("endpointId");
    assertThat(RunPodClient.builder().endpointId("abc").apiKey("k").build().endpointUrl())
        .isEqualTo("https://api.runpod.ai/v2/abc");
  }
}
