package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.core.RetryPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;

class JobStreamTest {
  @StartStop
  private final MockWebServer server = new MockWebServer();

  private RunPodClient client() {
    return RunPodClient.builder().baseUrl(server.url("/v2").toString()).endpointId("ep").apiKey("k-stream-test")
        .poll(PollPolicy.builder().initialInterval(Duration.ofMillis(5)).maxInterval(Duration.ofMillis(20)).build())
        .retry(RetryPolicy.builder().initialBackoff(Duration.ofMillis(5)).build()).build();
  }

  private static MockResponse body(String json) {
    return new MockResponse.Builder().code(200).body(json).build();
  }

  @Test
  void toleratesTheBareArrayShapeAndAsksStatusWhenItIsOver() throws Exception {
    server.enqueue(body("[{\"output\":\"a\"},{\"output\":{\"text\":\"b\"}}]"));
    server.enqueue(body("[]"));
    server.enqueue(body("{\"id\":\"j1\",\"status\":\"COMPLETED\"}"));
    List<String> got = new ArrayList<>();
    try (RunPodClient c = client(); JobStream s = c.stream("j1")) {
      s.forEachRemaining(ch -> got.add(ch.text()));
      assertThat(s.lastStatus()).contains(JobStatus.COMPLETED);
      assertThatThrownBy(s::next).isInstanceOf(NoSuchElementException.class);
    }
    assertThat(got).containsExactly("a", "b");
    assertThat(server.takeRequest().getUrl().encodedPath()).isEqualTo("/v2/ep/stream/j1");
    server.takeRequest();
    assertThat(server.takeRequest().getUrl().encodedPath()).isEqualTo("/v2/ep/status/j1");
  }

  @Test
  void keepsPollingWhileQueuedAndStopsAtTimedOut() throws Exception {
    server.enqueue(body("{\"id\":\"j2\",\"status\":\"IN_QUEUE\",\"stream\":[]}"));
    server.enqueue(body("{\"id\":\"j2\",\"status\":\"IN_PROGRESS\",\"stream\":[{\"output\":\"x\"}]}"));
    server.enqueue(body("{\"id\":\"j2\",\"status\":\"TIMED_OUT\",\"stream\":[]}"));
    try (RunPodClient c = client(); JobStream s = c.stream("j2")) {
      assertThat(s.next().text()).isEqualTo("x");
      assertThat(s.hasNext()).isFalse();
      assertThat(s.lastStatus()).contains(JobStatus.TIMED_OUT);
    }
    assertThat(server.getRequestCount()).isEqualTo(3);
  }

  @Test
  void streamGivesUpAtItsDeadline() {
    for (int i = 0; i < 100; i++) {
      server.enqueue(body("{\"id\":\"j3\",\"status\":\"IN_QUEUE\",\"stream\":[]}"));
    }
    try (RunPodClient c = client(); JobStream s = c.stream("j3", Duration.ofMillis(500))) {
      assertThatThrownBy(s::hasNext).isInstanceOfSatisfying(RunPodException.class, e -> {
        assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
        assertThat(e.jobId()).contains("j3");
        assertThat(e.jobStatus()).contains(JobStatus.IN_QUEUE);
      });
    }
  }

  @Test
  void pollReturnsEmptyWhileQueuedThenTheChunkThenFinishes() {
    server.enqueue(body("{\"id\":\"j5\",\"status\":\"IN_QUEUE\",\"stream\":[]}"));
    server.enqueue(body("{\"id\":\"j5\",\"status\":\"IN_QUEUE\",\"stream\":[]}"));
    server.enqueue(body("{\"id\":\"j5\",\"status\":\"COMPLETED\",\"stream\":[{\"output\":\"z\"}]}"));
    server.enqueue(body("{\"id\":\"j5\",\"status\":\"COMPLETED\",\"stream\":[]}"));
    try (RunPodClient c = client(); JobStream s = c.stream("j5")) {
      assertThat(s.poll(Duration.ZERO)).isEmpty();
      assertThat(s.isFinished()).isFalse();
      java.util.Optional<StreamChunk> got = java.util.Optional.empty();
      for (int i = 0; i < 200 && got.isEmpty(); i++) {
        got = s.poll(Duration.ofMillis(5));
      }
      assertThat(got).map(StreamChunk::text).contains("z");
      while (!s.isFinished()) {
        assertThat(s.poll(Duration.ofMillis(50))).isEmpty();
      }
      assertThat(s.lastStatus()).contains(JobStatus.COMPLETED);
    }
    assertThat(server.getRequestCount()).isEqualTo(4);
  }

  @Test
  void aStreamsOwnPollPolicyReplacesTheClients() {
    server.enqueue(body("{\"id\":\"j6\",\"status\":\"IN_QUEUE\",\"stream\":[]}"));
    server.enqueue(body("{\"id\":\"j6\",\"status\":\"IN_PROGRESS\",\"stream\":[]}"));
    server.enqueue(body("{\"id\":\"j6\",\"status\":\"COMPLETED\",\"stream\":[{\"output\":\"w\"}]}"));
    server.enqueue(body("{\"id\":\"j6\",\"status\":\"COMPLETED\",\"stream\":[]}"));
    // The client's own policy would wait a minute between empty polls; the stream's policy waits 5 ms.
    try (RunPodClient c = RunPodClient.builder().baseUrl(server.url("/v2").toString()).endpointId("ep").apiKey("k")
            .poll(PollPolicy.builder().initialInterval(Duration.ofMinutes(1)).maxInterval(Duration.ofMinutes(1)).build())
            .build();
        JobStream s = c.stream("j6", Duration.ofSeconds(30),
            PollPolicy.builder().initialInterval(Duration.ofMillis(5)).maxInterval(Duration.ofMillis(5)).build())) {
      List<String> got = new ArrayList<>();
      assertTimeoutPreemptively(Duration.ofSeconds(20), () -> s.forEachRemaining(ch -> got.add(ch.text())));
      assertThat(got).containsExactly("w");
      assertThat(s.lastStatus()).contains(JobStatus.COMPLETED);
    }
    assertThat(server.getRequestCount()).isEqualTo(4);
  }

  @Test
  void closedStreamRefusesIteration() {
    try (RunPodClient c = client()) {
      JobStream s = c.stream("j4");
      s.close();
      s.close();
      assertThatThrownBy(s::hasNext).isInstanceOf(IllegalStateException.class);
    }
  }
}
