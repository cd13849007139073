package dev.securetag.examples.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.Json;
import dev.securetag.runpod.testing.FakeRunPodEndpoint;
import dev.securetag.runpod.testing.JobHandler;
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
    app = new SecuretagApp(SecuretagApp.runPodClient(env), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
  }

  @AfterEach
  void stop() {
    app.close();
    runpod.close();
  }

  private HttpResponse<String> post(String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + "/api/analyze"))
        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void analyzesSqlInjectionThroughRunPod() throws Exception {
    HttpResponse<String> res = post("{\"code\": \"q = \\\"SELECT * FROM users WHERE id = \\\" + user_id\", \"language\": \"python\"}");
    assertThat(res.statusCode()).isEqualTo(200);
    JsonNode body = Json.readTree(res.body(), "response");
    assertThat(body.path("analysis").asText()).contains("CWE-89");
    assertThat(body.path("model").asText()).isEqualTo("securetag-test");
    assertThat(inputs).hasSize(1);
    String prompt = inputs.get(0).path("prompt").asText();
    assertThat(prompt).startsWith("### Instruction:\nAnalyze the following python code").contains("### Input:\nq = \"SELECT")
        .endsWith("### Response:\n");
    assertThat(res.body()).doesNotContain(KEY);
  }

  @Test
  void rejectsMissingCodeWithoutCallingTheModel() throws Exception {
    HttpResponse<String> res = post("{\"language\": \"java\"}");
    assertThat(res.statusCode()).isEqualTo(400);
    assertThat(res.body()).contains("'code' is required");
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
  void environmentWinsOverDotEnvAndToStringHidesValues(@TempDir Path dir) throws Exception {
    Path f = dir.resolve(".env");
    Files.writeString(f, "PORT=1\nexport RUNPOD_API_KEY='secret-from-file'\n");
    DotEnv env = DotEnv.load(f, Map.of("PORT", "9090"));
    assertThat(env.get("PORT", "x")).isEqualTo("9090");
    assertThat(env.require("RUNPOD_API_KEY")).isEqualTo("secret-from-file");
    assertThat(env.toString()).doesNotContain("secret-from-file");
  }
}
