package dev.securetag.testing.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.internal.Json;
import dev.securetag.testing.JobState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One job of the fake endpoint: its input, policy, state and outputs. Mutable; every access holds its monitor, and
 * {@link #finish} wakes waiters and reports the terminal state (for webhooks).
 */
public final class FakeJob {
  final String id;
  final JsonNode input;
  final boolean sync;
  final Duration executionTimeout;
  final Duration ttl;
  final String webhook;
  final Consumer<FakeJob> onFinish;
  final long submittedNanos = System.nanoTime();
  JobState status = JobState.IN_QUEUE;
  JsonNode output;
  String error;
  String workerId;
  final List<JsonNode> stream = new ArrayList<>();
  int streamRead;
  long startedNanos;
  long finishedNanos;
  long generation;
  Thread thread;

  FakeJob(String id, JsonNode input, boolean sync, Duration executionTimeout, Duration ttl, String webhook,
      Consumer<FakeJob> onFinish) {
    this.id = id;
    this.input = input;
    this.sync = sync;
    this.executionTimeout = executionTimeout;
    this.ttl = ttl;
    this.webhook = webhook;
    this.onFinish = onFinish;
  }

  public String id() {
    return id;
  }

  public synchronized JobState state() {
    return status;
  }

  /** The URL the final status is POSTed to, or null. */
  public String webhook() {
    return webhook;
  }

  /** Moves to a terminal state, wakes waiters and reports it. Caller holds the monitor. */
  void finish(JobState terminal) {
    status = terminal;
    finishedNanos = System.nanoTime();
    notifyAll();
    onFinish.accept(this);
  }

  /** Back to IN_QUEUE for {@code /retry}: outputs cleared, a new generation so stale timers do nothing. */
  void reset() {
    status = JobState.IN_QUEUE;
    output = null;
    error = null;
    stream.clear();
    streamRead = 0;
    startedNanos = 0;
    finishedNanos = 0;
    generation++;
  }

  /** The status JSON RunPod answers for a job ({@code /status}, {@code /runsync}, webhooks). */
  public synchronized ObjectNode toJson() {
    ObjectNode n = Json.object();
    long now = System.nanoTime();
    if (startedNanos != 0) {
      n.put("delayTime", (startedNanos - submittedNanos) / 1_000_000);
      n.put("executionTime", ((finishedNanos != 0 ? finishedNanos : now) - startedNanos) / 1_000_000);
    }
    n.put("id", id);
    if (output != null) {
      n.set("output", output);
    }
    if (error != null) {
      n.put("error", error);
    }
    n.put("status", status.name());
    if (workerId != null) {
      n.put("workerId", workerId);
    }
    return n;
  }
}
