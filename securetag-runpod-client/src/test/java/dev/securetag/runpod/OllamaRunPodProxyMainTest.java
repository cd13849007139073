package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.RemoteServiceException;
import dev.securetag.core.internal.Json;
import dev.securetag.testing.FakeRunPodEndpoint;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OllamaRunPodProxyMainTest {
  private static final String KEY = "rpa_PROXYMAIN_key_must_never_leak_42";
  private static final String TOKEN = "proxy-token-must-never-leak-7";
  private static final Pattern LISTENING = Pattern.compile("listening on (http://\\S+)");

  private static Map<String, String> env(String... kv) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void readsSettingsFromOptionsOverEnvironmentAndSecretsFromEnvironmentOnly() {
    OllamaRunPodProxyMain.Settings s = OllamaRunPodProxyMain.parse(new String[] {"--model", "m2", "--port=8081"},
        env("RUNPOD_ENDPOINT_ID", "ep1", "RUNPOD_API_KEY", KEY, "PROXY_MODEL", "m1", "PROXY_PORT", "9", "PROXY_TOKEN",
            TOKEN, "PROXY_KEEPALIVE_SECONDS", "15"));
    assertThat(s.endpointId()).isEqualTo("ep1");
    assertThat(s.model()).isEqualTo("m2");
    assertThat(s.port()).isEqualTo(8081);
    assertThat(s.bind().isLoopbackAddress()).isTrue();
    assertThat(s.keepAlive()).isEqualTo(Duration.ofSeconds(15));
    assertThat(s.requestDeadline()).isEqualTo(Duration.ofMinutes(15));
    assertThat(s.toString()).doesNotContain(KEY).doesNotContain(TOKEN).contains("token=set");
    assertThatThrownBy(() -> OllamaRunPodProxyMain.parse(new String[] {"--api-key", KEY}, env("RUNPOD_ENDPOINT_ID", "e")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("environment only")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(KEY));
    assertThatThrownBy(() -> OllamaRunPodProxyMain.parse(new String[] {"--token=x"}, env()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("environment only");
    assertThat(OllamaRunPodProxyMain.parse(new String[] {"--help"}, env())).isNull();
  }

  @Test
  void refusesIncompleteOrUnsafeSettingsNamingTheSetting() {
    assertThatThrownBy(() -> OllamaRunPodProxyMain.parse(new String[0], env("RUNPOD_API_KEY", KEY)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("RUNPOD_ENDPOINT_ID");
    assertThatThrownBy(() -> OllamaRunPodProxyMain.parse(new String[] {"--endpoint", "e"}, env()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("RUNPOD_API_KEY is not set");
    Map<String, String> open = env("RUNPOD_ENDPOINT_ID", "e", "RUNPOD_API_KEY", KEY, "PROXY_BIND_ADDRESS", "0.0.0.0");
    assertThatThrownBy(() -> OllamaRunPodProxyMain.parse(new String[0], open))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("without PROXY_TOKEN");
    open.put("PROXY_ALLOW_UNAUTHENTICATED", "true");
    assertThat(OllamaRunPodProxyMain.parse(new String[0], open).bind().isAnyLocalAddress()).isTrue();
    assertThatThrownBy(() -> OllamaRunPodProxyMain.parse(new String[] {"--port", "70000"},
        env("RUNPOD_ENDPOINT_ID", "e", "RUNPOD_API_KEY", KEY))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PROXY_PORT").hasMessageContaining("70000");
    assertThatThrownBy(() -> OllamaRunPodProxyMain.parse(new String[] {"--bogus", "1"}, env()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--bogus");
  }

  /**
   * Starts the main in its own JVM against the fake RunPod endpoint and talks to it with the module's Ollama client,
   * as an Ollama application would: plain and streaming generation, the token check, graceful stop, no secret in
   * the process output.
   */
  @Test
  void runsAsAServiceThatOllamaClientsUseWithoutJava(@TempDir Path dir) throws Exception {
    List<JsonNode> inputs = new CopyOnWriteArrayList<>();
    try (FakeRunPodEndpoint runpod = FakeRunPodEndpoint.builder().apiKey(KEY).handler(job -> {
      inputs.add(job.input());
      if (job.input().path("stream").asBoolean()) {
        for (String piece : List.of("A.5.1 ", "covers ", "policies")) {
          job.emit(TextNode.valueOf("{\"model\":\"securetag\",\"response\":\"" + piece + "\",\"done\":false}"));
        }
        job.emit(TextNode.valueOf("{\"model\":\"securetag\",\"response\":\"\",\"done\":true,\"done_reason\":\"stop\"}"));
        return null;
      }
      return Json.object().put("response", "A.5.1 covers information security policies.").put("model", "securetag");
    }).build()) {
      Path out = dir.resolve("proxy.out");
      ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
          System.getProperty("java.class.path"), OllamaRunPodProxyMain.class.getName(), "--port", "0", "--model",
          "securetag").redirectErrorStream(true).redirectOutput(out.toFile());
      pb.environment().put("RUNPOD_API_KEY", KEY);
      pb.environment().put("RUNPOD_ENDPOINT_ID", runpod.endpointId());
      pb.environment().put("RUNPOD_BASE_URL", runpod.baseUrl());
      pb.environment().put("PROXY_TOKEN", TOKEN);
      Process p = pb.start();
      try {
        String url = awaitListening(p, out);
        try (OllamaClient ollama = OllamaClient.builder().baseUrl(url).model("securetag").apiKey(TOKEN).build()) {
          assertThat(ollama.generate(LlmRequest.of("Which control covers policies?")).text())
              .isEqualTo("A.5.1 covers information security policies.");
          StringBuilder streamed = new StringBuilder();
          OllamaResponse r = ollama.generateStreaming(LlmRequest.of("Which control?"), streamed::append);
          assertThat(streamed.toString()).isEqualTo("A.5.1 covers policies");
          assertThat(r.doneReason()).contains("stop");
        }
        assertThat(inputs).hasSize(2);
        assertThat(inputs.get(0).path("prompt").asText()).isEqualTo("Which control covers policies?");
        assertThat(inputs.get(0).path("model").asText()).isEqualTo("securetag");
        try (OllamaClient noToken = OllamaClient.builder().baseUrl(url).model("securetag").build()) {
          assertThatThrownBy(() -> noToken.generate(LlmRequest.of("x"))).isInstanceOf(RemoteServiceException.class);
        }
        HttpResponse<String> tags = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url + "/api/tags"))
            .header("Authorization", "bearer " + TOKEN).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(tags.statusCode()).isEqualTo(200);
        assertThat(tags.body()).contains("\"securetag\"");
        assertThat(inputs).hasSize(2);
      } finally {
        p.destroy(); // SIGTERM: the shutdown hook drains and closes
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
      String log = Files.readString(out, StandardCharsets.UTF_8);
      assertThat(log).contains("listening on").contains("bearer token required").doesNotContain(KEY)
          .doesNotContain(TOKEN);
    }
  }

  @Test
  void exitsWithTheReasonWhenSettingsAreMissing(@TempDir Path dir) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        System.getProperty("java.class.path"), OllamaRunPodProxyMain.class.getName(), "--endpoint", "e")
        .redirectErrorStream(true);
    pb.environment().remove("RUNPOD_API_KEY");
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(output).contains("RUNPOD_API_KEY is not set");
  }

  /** Docker is not run here; the image recipe is checked against the repository it builds from. */
  @Test
  void dockerfileBuildsTheProxyFromTheRepositoryAndRunsThisMain() throws Exception {
    Path module = Path.of("").toAbsolutePath();
    Path root = module.getParent();
    String dockerfile = Files.readString(module.resolve("docker/ollama-proxy/Dockerfile"));
    List<String> ins = DeploymentAssetsTest.instructions(dockerfile);
    assertThat(ins.stream().filter(i -> i.startsWith("FROM "))).containsExactly("FROM eclipse-temurin:17-jdk AS build",
        "FROM eclipse-temurin:17-jre");
    assertThat(ins).contains("COPY --from=build /app /app").contains("USER 10001")
        .contains("ENTRYPOINT [\"java\", \"-XX:MaxRAMPercentage=75\", \"-cp\", \"/app/lib/*\", \""
            + OllamaRunPodProxyMain.class.getName() + "\"]");
    String build = ins.stream().filter(i -> i.startsWith("RUN ./mvnw")).findFirst().orElseThrow();
    assertThat(build).contains("-pl securetag-runpod-client -am install")
        .contains("dependency:copy-dependencies -DincludeScope=runtime");
    assertThat(root.resolve("mvnw")).isExecutable();
    assertThat(root.resolve("securetag-runpod-client/pom.xml")).exists();
    assertThat(dockerfile).doesNotContain("RUNPOD_API_KEY=").doesNotContain("PROXY_TOKEN=");
    // The SLF4J binding's version comes from the parent pom with the Dockerfile's own sed expression.
    Matcher sed = Pattern.compile("sed -n '([^']+)' pom.xml").matcher(dockerfile);
    assertThat(sed.find()).isTrue();
    Path sedExe = Path.of("/bin/sed");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(sedExe), "no /bin/sed to run the version lookup");
    Process p = new ProcessBuilder(sedExe.toString(), "-n", sed.group(1), root.resolve("pom.xml").toString()).start();
    String version = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(version).matches("\\d+\\.\\d+\\.\\d+");
    assertThat(Files.readString(module.resolve("docker/ollama-proxy/Dockerfile.dockerignore"))).contains("**/target")
        .contains("**/*.gguf").contains("**/.env");
  }

  /** Waits (up to 60 s: a cold JVM on a loaded machine) for the ready line and returns the URL it names. */
  private static String awaitListening(Process p, Path out) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < end) {
      Matcher m = LISTENING.matcher(Files.readString(out, StandardCharsets.UTF_8));
      if (m.find()) {
        return m.group(1);
      }
      if (!p.isAlive()) {
        throw new AssertionError("proxy exited with " + p.exitValue() + ": " + Files.readString(out));
      }
      Thread.sleep(50);
    }
    throw new AssertionError("proxy did not report it was listening: " + Files.readString(out));
  }
}
