package dev.securetag.benchmarks.runpod;

import dev.securetag.core.LlmRequest;
import dev.securetag.core.RetryPolicy;
import dev.securetag.core.internal.Json;
import dev.securetag.runpod.OllamaClient;
import dev.securetag.runpod.OllamaRunPodProxy;
import dev.securetag.runpod.RunPodClient;
import dev.securetag.runpod.RunPodException;
import dev.securetag.runpod.Timeouts;
import dev.securetag.testing.FakeRunPodEndpoint;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Fault timings of securetag-runpod-client over loopback: (1) how long RunPodClient calls with default settings take
 * against a server that accepts and never answers, next to the pre-fix behaviour (a call bounded only by the 15 min
 * job deadline, reproduced with {@code Timeouts.call = 15 min}); (2) how late OllamaRunPodProxy answers a
 * {@code stream:false} generation after a non-streaming job ends, with the proxy's default poll cap (500 ms) and
 * uncapped (the client's default 0.5 s x1.5 to 5 s policy, as before). Args: {@code jobs=1,2,3,5,8 slow=true}
 * ({@code slow=false} skips the pre-fix 157 s measurement).
 */
public final class RunPodFaultBench {
  private static final String KEY = "bench-key-0123456789";

  private RunPodFaultBench() {}

  public static void main(String[] args) throws Exception {
    List<Double> jobs = new ArrayList<>();
    boolean slow = true;
    for (String a : args) {
      if (a.startsWith("jobs=")) {
        for (String j : a.substring(5).split(",")) {
          jobs.add(Double.parseDouble(j));
        }
      } else if (a.startsWith("slow=")) {
        slow = Boolean.parseBoolean(a.substring(5));
      }
    }
    if (jobs.isEmpty()) {
      jobs = List.of(1.0, 2.0, 3.0, 5.0, 8.0);
    }
    ExecutorService pool = Executors.newCachedThreadPool();
    try (SilentServer silent = new SilentServer()) {
      String base = "http://127.0.0.1:" + silent.port() + "/v2";
      RunPodClient defaults = RunPodClient.builder().baseUrl(base).endpointId("ep").apiKey(KEY).build();
      RunPodClient preFix = RunPodClient.builder().baseUrl(base).endpointId("ep").apiKey(KEY)
          .timeouts(Timeouts.builder().call(Duration.ofMinutes(15)).build()).build();
      Map<String, Callable<Object>> calls = new LinkedHashMap<>();
      calls.put("status(id), defaults", () -> defaults.status("job-1"));
      calls.put("run(input), defaults", () -> defaults.run(Json.object().put("prompt", "x")));
      calls.put("health(), defaults", defaults::health);
      calls.put("cancel(id), defaults", () -> defaults.cancel("job-1"));
      if (slow) {
        calls.put("status(id), pre-fix (call bounded by the 15 min deadline only)", () -> preFix.status("job-1"));
      }
      Map<String, Future<String>> results = new LinkedHashMap<>();
      calls.forEach((name, c) -> results.put(name, pool.submit(() -> timeFailure(c))));
      // Proxy lateness runs meanwhile; the silent-server calls only wait.
      proxyLateness(jobs);
      System.out.println("-- never-answering server (loopback ServerSocket that accepts and never writes)");
      for (Map.Entry<String, Future<String>> r : results.entrySet()) {
        System.out.printf("%-70s %s%n", r.getKey(), r.getValue().get());
      }
      defaults.close();
      preFix.close();
    } finally {
      pool.shutdownNow();
    }
  }

  private static String timeFailure(Callable<Object> call) {
    long t0 = System.nanoTime();
    try {
      call.call();
      return "unexpectedly succeeded";
    } catch (RunPodException e) {
      return String.format("%.1f s -> %s (HTTP %d)", (System.nanoTime() - t0) / 1e9, e.kind(), e.httpStatus());
    } catch (Exception e) {
      return String.format("%.1f s -> %s", (System.nanoTime() - t0) / 1e9, e);
    }
  }

  private static void proxyLateness(List<Double> jobSeconds) throws Exception {
    Map<String, Long> finishedAt = new ConcurrentHashMap<>();
    try (FakeRunPodEndpoint fake = FakeRunPodEndpoint.builder().apiKey(KEY).queueDelay(Duration.ZERO).workers(32)
            .handler(job -> {
              String p = job.input().path("prompt").asText();
              job.sleep(Duration.ofMillis((long) (Double.parseDouble(p.substring(p.indexOf(':') + 1)) * 1000)));
              finishedAt.put(p, System.nanoTime());
              return Json.object().put("response", "done").put("model", "m");
            }).build();
        RunPodClient client = RunPodClient.builder().baseUrl(fake.baseUrl()).endpointId(fake.endpointId()).apiKey(KEY)
            .build();
        OllamaRunPodProxy capped = OllamaRunPodProxy.builder().runPod(client).model("m").build();
        OllamaRunPodProxy uncapped = OllamaRunPodProxy.builder().runPod(client).model("m")
            .maxPollInterval(Duration.ofSeconds(5)).build();
        OllamaClient toCapped = OllamaClient.builder().baseUrl(capped.baseUrl()).model("m").retry(RetryPolicy.none())
            .build();
        OllamaClient toUncapped = OllamaClient.builder().baseUrl(uncapped.baseUrl()).model("m")
            .retry(RetryPolicy.none()).build()) {
      ExecutorService callers = Executors.newCachedThreadPool();
      Map<String, Future<Long>> late = new LinkedHashMap<>();
      for (double s : jobSeconds) {
        for (String mode : List.of("capped", "uncapped")) {
          String prompt = mode + ":" + s;
          OllamaClient o = mode.equals("capped") ? toCapped : toUncapped;
          late.put(prompt, callers.submit(() -> {
            o.generate(LlmRequest.of(prompt), null);
            return System.nanoTime() - finishedAt.get(prompt);
          }));
        }
      }
      System.out.println("-- OllamaRunPodProxy, stream:false, non-streaming worker: reply time after the job ended");
      System.out.printf("%-10s %-28s %-28s%n", "job (s)", "default cap 500 ms", "uncapped (pre-fix policy)");
      for (double s : jobSeconds) {
        System.out.printf("%-10.1f %-28s %-28s%n", s, String.format("%.0f ms", late.get("capped:" + s).get() / 1e6),
            String.format("%.0f ms", late.get("uncapped:" + s).get() / 1e6));
      }
      callers.shutdownNow();
    }
  }

  /** Accepts connections, reads what arrives, never writes. */
  private static final class SilentServer implements AutoCloseable {
    private final ServerSocket listener = new ServerSocket();
    private final List<Socket> sockets = new ArrayList<>();
    private final Thread acceptor;

    SilentServer() throws IOException {
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      acceptor = new Thread(() -> {
        while (true) {
          try {
            Socket s = listener.accept();
            synchronized (sockets) {
              sockets.add(s);
            }
            Thread reader = new Thread(() -> {
              try (InputStream in = s.getInputStream()) {
                in.transferTo(OutputStreamSink.INSTANCE);
              } catch (IOException e) {
                // closed
              }
            });
            reader.setDaemon(true);
            reader.start();
          } catch (IOException e) {
            return;
          }
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return listener.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      listener.close();
      synchronized (sockets) {
        for (Socket s : sockets) {
          s.close();
        }
      }
    }
  }

  private static final class OutputStreamSink extends java.io.OutputStream {
    static final OutputStreamSink INSTANCE = new OutputStreamSink();

    @Override
    public void write(int b) {
      // discard
    }

    @Override
    public void write(byte[] b, int off, int len) {
      // discard
    }
  }
}
