package dev.securetag.examples.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.securetag.core.Json;
import dev.securetag.core.LlmClient;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.core.SecuretagException;
import dev.securetag.runpod.RunPodClient;
import dev.securetag.runpod.RunPodLlmClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application side of the seed design (the DigitalOcean {@code securetag-app}): a small HTTP service whose
 * {@code POST /api/analyze} asks the fine-tuned model on RunPod to review a code snippet for vulnerabilities.
 * It embeds {@link RunPodLlmClient}; any other {@link LlmClient} (Ollama, the local GGUF server) plugs in the same way.
 *
 * <pre>
 * curl -s localhost:8080/api/analyze -d '{"code": "query = \"SELECT * FROM users WHERE id = \" + id", "language": "python"}'
 * </pre>
 *
 * Configuration (environment first, then {@code .env}): {@code RUNPOD_API_KEY}, {@code RUNPOD_ENDPOINT_ID},
 * optional {@code RUNPOD_BASE_URL}, {@code SECURETAG_MODEL} (default {@code securetag}), {@code PORT} (8080),
 * {@code BIND_ADDRESS} (0.0.0.0 in a container, where the platform's router is the only way in).
 */
public final class SecuretagApp implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SecuretagApp.class);
  private static final int MAX_BODY = 64 * 1024;

  private final LlmClient llm;
  private final HttpServer server;
  private final ExecutorService executor;

  /** Starts the service on {@code address} answering with {@code llm}. */
  public SecuretagApp(LlmClient llm, InetSocketAddress address) throws IOException {
    this.llm = llm;
    this.server = HttpServer.create(address, 64);
    this.executor = Executors.newFixedThreadPool(16);
    server.setExecutor(executor);
    server.createContext("/api/analyze", this::analyze);
    server.createContext("/healthz", ex -> respond(ex, 200, Json.object().put("status", "ok")));
    server.start();
  }

  /** Builds the RunPod-backed client from configuration; the key never leaves the client. */
  public static LlmClient runPodClient(DotEnv env) {
    RunPodClient.Builder rp = RunPodClient.builder()
        .endpointId(env.require("RUNPOD_ENDPOINT_ID"))
        .apiKey(env.require("RUNPOD_API_KEY"));
    String base = env.get("RUNPOD_BASE_URL", null);
    if (base != null) {
      rp.baseUrl(base);
    }
    return RunPodLlmClient.builder().runPod(rp.build()).shareRunPod(false)
        .model(env.get("SECURETAG_MODEL", "securetag")).wait(Duration.ofSeconds(60)).build();
  }

  public static void main(String[] args) throws IOException {
    DotEnv env = DotEnv.load(Path.of(".env"), System.getenv());
    int port = Integer.parseInt(env.get("PORT", "8080"));
    SecuretagApp app = new SecuretagApp(runPodClient(env), new InetSocketAddress(env.get("BIND_ADDRESS", "0.0.0.0"), port));
    Runtime.getRuntime().addShutdownHook(new Thread(app::close));
    LOG.info("securetag-app listening on port {}", app.port());
  }

  /** The port actually bound (useful with port 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  /** The prompt sent to the model: the Alpaca template the model was fine-tuned with. */
  static String prompt(String language, String code) {
    String instruction = "Analyze the following " + (language.isBlank() ? "" : language + " ")
        + "code for security vulnerabilities. Name each vulnerability, its CWE if known, why it is exploitable, "
        + "and how to fix it.";
    return "### Instruction:\n" + instruction + "\n\n### Input:\n" + code + "\n\n### Response:\n";
  }

  private void analyze(HttpExchange ex) throws IOException {
    try (ex) {
      if (!"POST".equals(ex.getRequestMethod())) {
        respond(ex, 405, error("use POST"));
        return;
      }
      byte[] body;
      try (InputStream in = ex.getRequestBody()) {
        body = in.readNBytes(MAX_BODY + 1);
      }
      if (body.length > MAX_BODY) {
        respond(ex, 413, error("request body over " + MAX_BODY + " bytes"));
        return;
      }
      JsonNode req;
      try {
        req = Json.mapper().readTree(body);
      } catch (IOException e) {
        respond(ex, 400, error("body is not JSON: " + e.getMessage()));
        return;
      }
      String code = req == null ? "" : req.path("code").asText("");
      if (code.isBlank()) {
        respond(ex, 400, error("field 'code' is required"));
        return;
      }
      long start = System.nanoTime();
      try {
        LlmResponse answer = llm.generate(LlmRequest.builder()
            .prompt(prompt(req.path("language").asText(""), code)).temperature(0.2).maxTokens(512).build());
        ObjectNode out = Json.object();
        out.put("analysis", answer.text().strip());
        out.put("model", answer.model());
        out.put("latency_ms", (System.nanoTime() - start) / 1_000_000);
        respond(ex, 200, out);
      } catch (SecuretagException e) {
        // The client's messages never contain the API key, so they are safe to log and return.
        LOG.warn("analysis failed: {}", e.getMessage());
        respond(ex, e.isRetriable() ? 503 : 502, error("model call failed: " + e.getMessage()));
      }
    }
  }

  private static ObjectNode error(String message) {
    return Json.object().put("error", message);
  }

  private static void respond(HttpExchange ex, int status, JsonNode body) throws IOException {
    byte[] bytes = Json.write(body).getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(1);
    executor.shutdownNow();
    llm.close();
  }
}
