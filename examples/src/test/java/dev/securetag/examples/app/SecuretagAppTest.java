package dev.securetag.examples.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.Headers;
import dev.securetag.core.internal.Json;
import dev.securetag.examples.SecuretagPipeline;
import dev.securetag.gguf.Modelfile;
import dev.securetag.testing.FakeRunPodEndpoint;
import dev.securetag.testing.JobHandler;
import dev.securetag.train.PromptTemplate;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecuretagAppTest {
  private static final String KEY = "rpa_TESTKEY_must_never_leak_0123456789";
  private static final String TOKEN = "app-token-0123456789abcdef-never-leaks";
  private static final String CODE = "q = \"SELECT * FROM users WHERE id = \" + user_id";
  private final List<JsonNode> inputs = new CopyOnWriteArrayList<>();
  private FakeRunPodEndpoint runpod;
  private SecuretagApp app;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start(@TempDir Path dir) throws Exception {
    runpod = FakeRunPodEndpoint.builder().apiKey(KEY).handler(JobHandler.sync(input -> {
      inputs.add(input);
      return Json.object().put("response", "SQL injection (CWE-89): the id is concatenated into the query. "
          + "Use a parameterized query.").put("model", input.path("model").asText());
    })).build();
    Path envFile = dir.resolve(".env");
    Files.writeString(envFile, "# local settings\nRUNPOD_API_KEY=\"" + KEY + "\"\nRUNPOD_ENDPOINT_ID=" + runpod.endpointId()
        + "\nSECURETAG_MODEL=securetag-test\n");
    DotEnv env = DotEnv.load(envFile, Map.of("RUNPOD_BASE_URL", runpod.baseUrl()));
    app = SecuretagApp.builder().llm(SecuretagApp.runPodClient(env)).apiKey(TOKEN)
        .address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).build();
  }

  @AfterEach
  void stop() {
    app.close();
    runpod.close();
  }

  private HttpResponse<String> post(String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + "/api/analyze"))
        .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void analyzesSqlInjectionThroughRunPod() throws Exception {
    HttpResponse<String> res = post(Json.write(Json.object().put("code", CODE).put("language", "python")));
    assertThat(res.statusCode()).isEqualTo(200);
    JsonNode body = Json.readTree(res.body(), "response");
    assertThat(body.path("analysis").asText()).contains("CWE-89");
    assertThat(body.path("model").asText()).isEqualTo("securetag-test");
    assertThat(res.body()).doesNotContain(KEY).doesNotContain(TOKEN);
  }

  /**
   * The exact text the model receives: the prompt that reaches RunPod, rendered by the worker's Ollama with the
   * pipeline's Modelfile (no raw mode, so the TEMPLATE applies once), equals what the trainer formatted for the same
   * instruction and input.
   */
  @Test
  void modelReceivesExactlyTheTrainingLayoutEndToEnd() throws Exception {
    assertThat(post(Json.write(Json.object().put("code", CODE).put("language", "python"))).statusCode()).isEqualTo(200);
    assertThat(inputs).hasSize(1);
    JsonNode input = inputs.get(0);
    assertThat(input.has("raw")).as("raw mode would skip the Modelfile TEMPLATE").isFalse();
    assertThat(input.has("system")).as("training used no system prompt").isFalse();
    Modelfile modelfile = Modelfile.parse(SecuretagPipeline.modelfile("securetag-q4_k_m.gguf").render(), "Modelfile");
    assertThat(modelfile.system()).isEmpty();
    String seen = modelfile.renderPrompt(input.path("prompt").asText());
    String trained = PromptTemplate.prompt(SecuretagApp.instruction("python"), CODE);
    assertThat(seen).isEqualTo(trained);
    assertThat(seen).startsWith("### Instruction:\nAnalyze the following python code").contains("\n\n### Input:\n" + CODE)
        .endsWith("\n\n### Response:\n");
    // Wrapped once: the markers appear exactly once each.
    assertThat(seen.split("### Instruction:", -1)).hasSize(2);
    assertThat(seen.split("### Response:", -1)).hasSize(2);
  }

  @Test
  void rejectsMissingCodeWithoutCallingTheModel() throws Exception {
    HttpResponse<String> res = post("{\"language\": \"java\"}");
    assertThat(res.statusCode()).isEqualTo(400);
    assertThat(res.body()).contains("'code' is required");
    assertThat(post("not json").statusCode()).isEqualTo(400);
    assertThat(inputs).isEmpty();
  }

  @Test
  void failedJobBecomesGatewayErrorWithoutTheKey() throws Exception {
    runpod.handler(job -> {
      throw new IllegalStateException("worker crashed");
    });
    HttpResponse<String> res = post("{\"code\": \"eval(input())\"}");
    assertThat(res.statusCode()).isIn(502, 503);
    assertThat(res.body()).contains("model call failed").doesNotContain(KEY);
  }

  @Test
  void acceptsTheTokenAsBearerInAnyCaseOrAsApiKeyAndNothingElse() {
    Headers h = new Headers();
    assertThat(app.authorized(h)).isFalse();
    h.set("Authorization", "Bearer " + TOKEN);
    assertThat(app.authorized(h)).isTrue();
    h.set("Authorization", "bEaReR \t" + TOKEN + " ");
    assertThat(app.authorized(h)).isTrue();
    h.set("Authorization", "Bearer " + TOKEN + "x");
    assertThat(app.authorized(h)).isFalse();
    h.set("Authorization", "Bearer " + TOKEN.substring(0, TOKEN.length() - 1));
    assertThat(app.authorized(h)).isFalse();
    h.set("Authorization", "Basic " + TOKEN);
    assertThat(app.authorized(h)).isFalse();
    h.set("Authorization", TOKEN);
    assertThat(app.authorized(h)).isFalse();
    h.set("X-API-Key", TOKEN);
    assertThat(app.authorized(h)).as("a non-Bearer Authorization falls back to X-API-Key").isTrue();
    h.remove("Authorization");
    h.set("X-API-Key", "wrong");
    assertThat(app.authorized(h)).isFalse();
  }

  @Test
  void refusesToStartWithoutATokenUnlessExplicitlyDisabled() throws Exception {
    Map<String, String> base = Map.of("RUNPOD_API_KEY", KEY, "RUNPOD_ENDPOINT_ID", runpod.endpointId(),
        "RUNPOD_BASE_URL", runpod.baseUrl(), "PORT", "0", "BIND_ADDRESS", "127.0.0.1");
    assertThatThrownBy(() -> SecuretagApp.start(DotEnv.load(Path.of("no-such.env"), base)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("SECURETAG_APP_TOKEN is not set");
    Map<String, String> weak = new java.util.HashMap<>(base);
    weak.put("SECURETAG_APP_TOKEN", "short");
    assertThatThrownBy(() -> SecuretagApp.start(DotEnv.load(Path.of("no-such.env"), weak)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 16 characters")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("short"));
    Map<String, String> open = new java.util.HashMap<>(base);
    open.put("SECURETAG_APP_INSECURE_NO_AUTH", "true");
    try (SecuretagApp insecure = SecuretagApp.start(DotEnv.load(Path.of("no-such.env"), open))) {
      HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + insecure.port()
          + "/api/analyze")).timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(
          "{\"code\": \"eval(x)\"}")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(res.statusCode()).isEqualTo(200);
    }
    Map<String, String> badLimit = new java.util.HashMap<>(base);
    badLimit.put("SECURETAG_APP_TOKEN", TOKEN);
    badLimit.put("SECURETAG_APP_MAX_BODY_BYTES", "-1");
    assertThatThrownBy(() -> SecuretagApp.start(DotEnv.load(Path.of("no-such.env"), badLimit)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("SECURETAG_APP_MAX_BODY_BYTES");
  }

  @Test
  void environmentWinsOverDotEnvAndToStringHidesValues(@TempDir Path dir) throws Exception {
    Path f = dir.resolve(".env");
    Files.writeString(f, "PORT=1\nexport RUNPOD_API_KEY='secret-from-file'\n");
    DotEnv env = DotEnv.load(f, Map.of("PORT", "9090"));
    assertThat(env.get("PORT", "x")).isEqualTo("9090");
    assertThat(env.require("RUNPOD_API_KEY")).isEqualTo("secret-from-file");
    assertThat(env.toString()).doesNotContain("secret-from-file");
  }
}
