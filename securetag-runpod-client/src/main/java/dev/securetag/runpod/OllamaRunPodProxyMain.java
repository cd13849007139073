package dev.securetag.runpod;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link OllamaRunPodProxy} as a standalone service, so Ollama clients (LangChain4j, Spring AI, ollama4j, the
 * {@code ollama} CLI with {@code OLLAMA_HOST}) can use a RunPod endpoint without any Java of their own.
 *
 * <pre>
 * RUNPOD_API_KEY=... java -cp 'lib/*' dev.securetag.runpod.OllamaRunPodProxyMain --endpoint abc123 --model securetag
 * OLLAMA_HOST=127.0.0.1:11434 ollama run securetag "Which control covers information security policies?"
 * </pre>
 *
 * <p>Settings, each an option or an environment variable (the option wins): {@code --endpoint}/{@code
 * RUNPOD_ENDPOINT_ID} (required), {@code --model}/{@code PROXY_MODEL} (securetag), {@code --bind}/{@code
 * PROXY_BIND_ADDRESS} (127.0.0.1), {@code --port}/{@code PROXY_PORT} (11434), {@code --base-url}/{@code
 * RUNPOD_BASE_URL}, {@code --request-deadline-seconds}/{@code PROXY_REQUEST_DEADLINE_SECONDS} (900),
 * {@code --keepalive-seconds}/{@code PROXY_KEEPALIVE_SECONDS} (off), {@code --shutdown-grace-seconds}/{@code
 * PROXY_SHUTDOWN_GRACE_SECONDS} (30). Secrets come from the environment only, never the command line (which
 * {@code ps} shows): {@code RUNPOD_API_KEY} (required) and {@code PROXY_TOKEN}, the bearer token callers must send.
 * Binding beyond loopback without {@code PROXY_TOKEN} is refused unless {@code PROXY_ALLOW_UNAUTHENTICATED=true}:
 * an open proxy spends the RunPod credit of whoever reaches it.
 *
 * <p>Prints one {@code listening on <url>} line to stdout when ready; SIGTERM/SIGINT stop accepting, let in-flight
 * generations finish within the grace period, then the process exits. Bad settings exit 2 with the reason on stderr.
 */
public final class OllamaRunPodProxyMain {
  private static final Logger LOG = LoggerFactory.getLogger(OllamaRunPodProxyMain.class);

  private OllamaRunPodProxyMain() {}

  /** The parsed settings; {@link #toString()} never shows the key or token. */
  record Settings(String endpointId, String apiKey, String baseUrl, String model, InetAddress bind, int port,
      String token, Duration requestDeadline, Duration keepAlive, Duration shutdownGrace) {

    @Override
    public String toString() {
      return "Settings{endpoint=" + endpointId + ", model=" + model + ", bind=" + bind.getHostAddress() + ":" + port
          + ", token=" + (token == null ? "none" : "set") + "}";
    }
  }

  public static void main(String[] args) {
    Settings s;
    try {
      s = parse(args, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("ollama-runpod-proxy: " + e.getMessage());
      System.exit(2);
      return;
    }
    if (s == null) {
      usage(System.out);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    RunPodClient.Builder rp = RunPodClient.builder().endpointId(s.endpointId()).apiKey(s.apiKey());
    if (s.baseUrl() != null) {
      rp.baseUrl(s.baseUrl());
    }
    RunPodClient runPod = rp.build();
    OllamaRunPodProxy proxy;
    try {
      OllamaRunPodProxy.Builder pb = OllamaRunPodProxy.builder().runPod(runPod).model(s.model()).bindAddress(s.bind())
          .port(s.port()).requestDeadline(s.requestDeadline()).shutdownGrace(s.shutdownGrace());
      if (s.token() != null) {
        pb.apiKey(s.token());
      }
      if (s.keepAlive() != null) {
        pb.queueKeepAlive(s.keepAlive());
      }
      proxy = pb.build();
    } catch (RuntimeException e) {
      runPod.close();
      System.err.println("ollama-runpod-proxy: " + e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("shutting down: finishing in-flight generations");
      proxy.close();
      runPod.close();
      stopped.countDown();
    }, "ollama-runpod-proxy-shutdown"));
    LOG.info("Ollama-to-RunPod proxy ready: {}", s);
    System.out.println("ollama-runpod-proxy listening on " + proxy.baseUrl() + " (model " + s.model()
        + ", RunPod endpoint " + s.endpointId() + ", " + (s.token() == null ? "no token" : "bearer token required")
        + ")");
    System.out.flush();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The settings from {@code args} over {@code env}; null when help was asked for. */
  static Settings parse(String[] args, Map<String, String> env) {
    Map<String, String> opt = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h")) {
        return null;
      }
      if (a.equals("--api-key") || a.startsWith("--api-key=") || a.equals("--token") || a.startsWith("--token=")) {
        throw new IllegalArgumentException("secrets are read from the environment only (RUNPOD_API_KEY, PROXY_TOKEN): "
            + "the command line is visible to every user of the machine");
      }
      String key;
      String value;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0) {
        key = a.substring(2, eq);
        value = a.substring(eq + 1);
      } else if (a.startsWith("--") && i + 1 < args.length) {
        key = a.substring(2);
        value = args[++i];
      } else {
        throw new IllegalArgumentException("unexpected argument " + a + " (try --help)");
      }
      if (!OPTIONS.containsKey(key)) {
        throw new IllegalArgumentException("unknown option --" + key + " (try --help)");
      }
      opt.put(key, value);
    }
    String endpoint = setting(opt, env, "endpoint");
    if (endpoint == null) {
      throw new IllegalArgumentException("the RunPod endpoint id is required: --endpoint ID or RUNPOD_ENDPOINT_ID");
    }
    String apiKey = blankToNull(env.get("RUNPOD_API_KEY"));
    if (apiKey == null) {
      throw new IllegalArgumentException("RUNPOD_API_KEY is not set in the environment");
    }
    String bindText = orDefault(setting(opt, env, "bind"), "127.0.0.1");
    InetAddress bind;
    try {
      bind = InetAddress.getByName(bindText);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("cannot resolve bind address " + bindText);
    }
    String token = blankToNull(env.get("PROXY_TOKEN"));
    boolean allowOpen = "true".equalsIgnoreCase(blankToNull(env.get("PROXY_ALLOW_UNAUTHENTICATED")));
    if (token == null && !bind.isLoopbackAddress() && !allowOpen) {
      throw new IllegalArgumentException("binding to " + bind.getHostAddress() + " without PROXY_TOKEN would let anyone "
          + "who reaches it spend your RunPod credit: set PROXY_TOKEN (callers send Authorization: Bearer <token>), "
          + "or PROXY_ALLOW_UNAUTHENTICATED=true behind your own authentication");
    }
    int port = number(opt, env, "port", 11434, 0, 65535);
    Duration deadline = Duration.ofSeconds(number(opt, env, "request-deadline-seconds", 900, 1, 7 * 24 * 3600));
    int keep = number(opt, env, "keepalive-seconds", 0, 0, 3600);
    Duration grace = Duration.ofSeconds(number(opt, env, "shutdown-grace-seconds", 30, 0, 3600));
    return new Settings(endpoint, apiKey, setting(opt, env, "base-url"), orDefault(setting(opt, env, "model"),
        "securetag"), bind, port, token, deadline, keep == 0 ? null : Duration.ofSeconds(keep), grace);
  }

  /** Option name to environment variable. */
  private static final Map<String, String> OPTIONS = Map.of("endpoint", "RUNPOD_ENDPOINT_ID", "model", "PROXY_MODEL",
      "bind", "PROXY_BIND_ADDRESS", "port", "PROXY_PORT", "base-url", "RUNPOD_BASE_URL", "request-deadline-seconds",
      "PROXY_REQUEST_DEADLINE_SECONDS", "keepalive-seconds", "PROXY_KEEPALIVE_SECONDS", "shutdown-grace-seconds",
      "PROXY_SHUTDOWN_GRACE_SECONDS");

  private static String setting(Map<String, String> opt, Map<String, String> env, String name) {
    String v = blankToNull(opt.get(name));
    return v != null ? v : blankToNull(env.get(OPTIONS.get(name)));
  }

  private static int number(Map<String, String> opt, Map<String, String> env, String name, int dflt, int min, int max) {
    String v = setting(opt, env, name);
    if (v == null) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(v.trim());
      if (n < min || n > max) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " / " + OPTIONS.get(name) + " must be a whole number from " + min
          + " to " + max + ", got " + v);
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  private static String orDefault(String s, String d) {
    return s == null ? d : s;
  }

  private static void usage(PrintStream out) {
    out.println("usage: RUNPOD_API_KEY=... [PROXY_TOKEN=...] java -cp 'lib/*' " + OllamaRunPodProxyMain.class.getName()
        + " [options]");
    OPTIONS.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> out.println(String.format(Locale.ROOT,
        "  --%-26s or %s", e.getKey() + " V", e.getValue())));
  }
}
