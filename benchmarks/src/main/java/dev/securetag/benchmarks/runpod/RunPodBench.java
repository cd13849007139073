package dev.securetag.benchmarks.runpod;

import com.fasterxml.jackson.databind.node.TextNode;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.RetryPolicy;
import dev.securetag.core.internal.Json;
import dev.securetag.runpod.JobRequest;
import dev.securetag.runpod.OllamaClient;
import dev.securetag.runpod.OllamaRunPodProxy;
import dev.securetag.runpod.PollPolicy;
import dev.securetag.runpod.RunPodClient;
import dev.securetag.testing.FakeRunPodEndpoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * Loopback benchmark of securetag-runpod-client: (1) per-call latency of RunPodClient operations against the
 * in-process FakeRunPodEndpoint, next to a raw OkHttp GET of the same URL (the difference is the client's own
 * overhead: JSON, retry bookkeeping, typed results); (2) OllamaRunPodProxy throughput with N concurrent streaming
 * generations from OllamaClient callers. Args: {@code calls=2000 streams=64 gens=5 tokens=20}.
 */
public final class RunPodBench {
  private static final String KEY = "bench-key-0123456789";

  private RunPodBench() {}

  public static void main(String[] args) throws Exception {
    int calls = intArg(args, "calls", 2000);
    int streams = intArg(args, "streams", 64);
    int gens = intArg(args, "gens", 5);
    int tokens = intArg(args, "tokens", 20);
    System.out.printf("RunPodBench calls=%d streams=%d gens=%d tokens=%d cores=%d%n", calls, streams, gens, tokens,
        Runtime.getRuntime().availableProcessors());
    clientOverhead(calls);
    proxyThroughput(streams, gens, tokens);
  }

  private static void clientOverhead(int calls) throws Exception {
    try (FakeRunPodEndpoint fake = FakeRunPodEndpoint.builder().apiKey(KEY).queueDelay(Duration.ZERO).build();
        RunPodClient client = RunPodClient.builder().baseUrl(fake.baseUrl()).endpointId(fake.endpointId()).apiKey(KEY)
            .poll(PollPolicy.builder().initialInterval(Duration.ofMillis(1)).maxInterval(Duration.ofMillis(5)).build())
            .build()) {
      String id = client.runSync(JobRequest.of(Json.object().put("prompt", "x")), Duration.ofSeconds(5)).id();
      OkHttpClient raw = new OkHttpClient();
      Request rawReq = new Request.Builder().url(fake.baseUrl() + "/" + fake.endpointId() + "/status/" + id)
          .header("Authorization", "Bearer " + KEY).build();
      for (int i = 0; i < Math.min(calls, 500); i++) {
        try (Response r = raw.newCall(rawReq).execute()) {
          r.body().string();
        }
        client.status(id);
      }
      long[] rawNs = new long[calls];
      long[] statusNs = new long[calls];
      for (int i = 0; i < calls; i++) {
        long t0 = System.nanoTime();
        try (Response r = raw.newCall(rawReq).execute()) {
          r.body().string();
        }
        long t1 = System.nanoTime();
        client.status(id);
        long t2 = System.nanoTime();
        rawNs[i] = t1 - t0;
        statusNs[i] = t2 - t1;
      }
      int n = Math.max(50, calls / 10);
      long[] runNs = new long[n];
      long[] runSyncNs = new long[n];
      for (int i = 0; i < n; i++) {
        long t0 = System.nanoTime();
        client.run(Json.object().put("prompt", "p"));
        long t1 = System.nanoTime();
        client.runSync(JobRequest.of(Json.object().put("prompt", "p")), Duration.ofSeconds(5));
        long t2 = System.nanoTime();
        runNs[i] = t1 - t0;
        runSyncNs[i] = t2 - t1;
      }
      report("raw OkHttp GET /status (baseline)", rawNs);
      report("RunPodClient.status", statusNs);
      report("RunPodClient.run (submit)", runNs);
      report("RunPodClient.runSync (trivial job)", runSyncNs);
      System.out.printf("client overhead on status: p50 %+.1f us, p99 %+.1f us%n",
          (pct(statusNs, 50) - pct(rawNs, 50)) / 1e3, (pct(statusNs, 99) - pct(rawNs, 99)) / 1e3);
      raw.connectionPool().evictAll();
    }
  }

  private static void proxyThroughput(int streams, int gens, int tokens) throws Exception {
    try (FakeRunPodEndpoint fake = FakeRunPodEndpoint.builder().apiKey(KEY).queueDelay(Duration.ZERO).workers(streams)
            .handler(job -> {
              for (int i = 0; i < tokens; i++) {
                job.emit(TextNode.valueOf("{\"model\":\"m\",\"response\":\"t" + i + " \",\"done\":false}"));
              }
              return null;
            }).build();
        RunPodClient client = RunPodClient.builder().baseUrl(fake.baseUrl()).endpointId(fake.endpointId()).apiKey(KEY)
            .poll(PollPolicy.builder().initialInterval(Duration.ofMillis(5)).maxInterval(Duration.ofMillis(20)).build())
            .build();
        OllamaRunPodProxy proxy = OllamaRunPodProxy.builder().runPod(client).model("m").concurrency(streams).build();
        OllamaClient ollama = OllamaClient.builder().baseUrl(proxy.baseUrl()).model("m").retry(RetryPolicy.none()).build()) {
      ExecutorService pool = Executors.newFixedThreadPool(streams);
      // Warm-up round.
      List<Future<?>> warm = new ArrayList<>();
      for (int s = 0; s < streams; s++) {
        warm.add(pool.submit(() -> ollama.generateStreaming(LlmRequest.of("w"), t -> { })));
      }
      for (Future<?> f : warm) {
        f.get();
      }
      AtomicLong tokenCount = new AtomicLong();
      long[] latencies = new long[streams * gens];
      AtomicLong idx = new AtomicLong();
      long start = System.nanoTime();
      List<Future<?>> fs = new ArrayList<>();
      for (int s = 0; s < streams; s++) {
        fs.add(pool.submit(() -> {
          for (int g = 0; g < gens; g++) {
            long t0 = System.nanoTime();
            String text = ollama.generateStreaming(LlmRequest.of("q"), t -> tokenCount.incrementAndGet()).text();
            latencies[(int) idx.getAndIncrement()] = System.nanoTime() - t0;
            if (!text.startsWith("t0 ")) {
              throw new IllegalStateException("bad text " + text);
            }
          }
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
      double secs = (System.nanoTime() - start) / 1e9;
      pool.shutdownNow();
      int total = streams * gens;
      System.out.printf("proxy: %d concurrent streams x %d generations x %d tokens: %d generations in %.2f s = %.1f gen/s, "
          + "%.0f streamed lines/s, 0 lost%n", streams, gens, tokens, total, secs, total / secs, tokenCount.get() / secs);
      report("proxy streaming generation (end to end)", latencies);
    }
  }

  private static void report(String what, long[] ns) {
    System.out.printf("%-42s n=%5d p50 %8.1f us  p99 %8.1f us  max %8.1f us%n", what, ns.length, pct(ns, 50) / 1e3,
        pct(ns, 99) / 1e3, Arrays.stream(ns).max().orElse(0) / 1e3);
  }

  private static double pct(long[] ns, double p) {
    long[] s = ns.clone();
    Arrays.sort(s);
    int i = (int) Math.min(s.length - 1, Math.max(0, Math.ceil(p / 100.0 * s.length) - 1));
    return s[i];
  }

  private static int intArg(String[] args, String name, int dflt) {
    for (String a : args) {
      if (a.startsWith(name + "=")) {
        return Integer.parseInt(a.substring(name.length() + 1));
      }
    }
    return dflt;
  }
}
