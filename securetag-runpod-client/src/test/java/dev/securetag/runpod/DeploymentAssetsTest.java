package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeploymentAssetsTest {
  @TempDir
  Path dir;

  @StartStop
  private final MockWebServer ollama = new MockWebServer();

  private static DeploymentAssets assets() {
    return DeploymentAssets.builder().modelName("securetag").ggufFileName("securetag-q4_k_m.gguf")
        .systemPrompt("You answer questions about security standards.").parameter("num_ctx", "8192")
        .parameter("temperature", "0.2").build();
  }

  @Test
  void writesEveryAssetAtomicallyWithAnExecutableStartScript() throws IOException {
    List<Path> files = assets().writeTo(dir);
    assertThat(files).extracting(p -> p.getFileName().toString())
        .containsExactly("Dockerfile", "start.sh", "handler.py", "Modelfile", "docker-compose.yml");
    assertThat(Files.isExecutable(dir.resolve("start.sh"))).isTrue();
    try (var listing = Files.list(dir)) {
      assertThat(listing.map(p -> p.getFileName().toString())).hasSize(5);
    }
  }

  @Test
  void dockerfileBuildsOnOllamaAndStartsTheWorkerScript() {
    String d = assets().dockerfile();
    assertThat(d).startsWith("# Generated").contains("\nFROM ollama/ollama:0.6.0\n")
        .contains("pip3 install --no-cache-dir runpod==1.12.0")
        .contains("COPY securetag-q4_k_m.gguf Modelfile handler.py start.sh /worker/")
        .contains("OLLAMA_MODEL=securetag")
        .contains("ENTRYPOINT [\"/worker/start.sh\"]");
  }

  @Test
  void startScriptPollsUntilOllamaAnswersBeforeCreatingTheModel() {
    String s = assets().startScript();
    assertThat(s).startsWith("#!/usr/bin/env bash\n").contains("set -euo pipefail").contains("ollama serve &")
        .contains("until ollama list >/dev/null 2>&1; do").doesNotContain("sleep 5").doesNotContain("sleep 10");
    int poll = s.indexOf("until ollama list");
    int create = s.indexOf("ollama create \"$MODEL\" -f /worker/Modelfile");
    int exec = s.indexOf("exec python3 -u /worker/handler.py");
    assertThat(poll).isPositive();
    assertThat(create).isGreaterThan(poll);
    assertThat(exec).isGreaterThan(create);
    assertThat(s).contains("kill -0 \"$OLLAMA_PID\"").contains("SECONDS >= deadline");
  }

  @Test
  void startScriptIsValidBash() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "bash not installed");
    assets().writeTo(dir);
    Process p = new ProcessBuilder("/bin/bash", "-n", dir.resolve("start.sh").toString()).redirectErrorStream(true).start();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
  }

  @Test
  void handlerForwardsToLocalOllamaWithStreamingAndAggregation() {
    String h = assets().handler();
    assertThat(h).contains("import runpod").contains("\"http://127.0.0.1:11434\"").contains("/api/generate")
        .contains("/api/chat").contains("yield line").contains("\"return_aggregate_stream\": True")
        .contains("runpod.serverless.start").contains("yield {\"error\"");
  }

  @Test
  void modelfileAndComposeCarryTheModelAndNoSecrets() {
    DeploymentAssets a = assets();
    assertThat(a.modelfile()).contains("FROM ./securetag-q4_k_m.gguf\n").contains("PARAMETER num_ctx 8192\n")
        .contains("PARAMETER temperature 0.2\n").contains("SYSTEM \"\"\"You answer questions about security standards.\"\"\"");
    assertThat(a.compose()).contains("RUNPOD_API_KEY: ${RUNPOD_API_KEY:?")
        .contains("RUNPOD_ENDPOINT_ID: ${RUNPOD_ENDPOINT_ID:?").contains("SECURETAG_MODEL: securetag")
        .doesNotContainPattern("RUNPOD_API_KEY: [^$]");
    assertThat(DeploymentAssets.builder().modelName("m").ggufFileName("m.gguf").modelfile("FROM ./m.gguf\n").build()
        .modelfile()).isEqualTo("FROM ./m.gguf\n");
  }

  @Test
  void rejectsNamesThatWouldBreakTheGeneratedFiles() {
    assertThatThrownBy(() -> DeploymentAssets.builder().modelName("Bad Name").ggufFileName("a.gguf").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("modelName");
    assertThatThrownBy(() -> DeploymentAssets.builder().modelName("m").ggufFileName("../x.gguf").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ggufFileName");
    assertThatThrownBy(() -> DeploymentAssets.builder().modelName("m").ggufFileName("x.bin").build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DeploymentAssets.builder().modelName("m").ggufFileName("x.gguf").parameter("num_ctx", "1\nFROM x")
        .build()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PARAMETER");
  }

  /** Runs the generated handler.py under a real Python against a loopback Ollama, with a stub runpod package. */
  @Test
  void generatedPythonHandlerStreamsAndAnswersAgainstAnOllamaServer() throws Exception {
    // Looked up on PATH like a user's shell would, so hiding python3 (CI's JDK-only run) skips this test.
    Path python = java.util.Arrays.stream(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
        .filter(d -> !d.isEmpty()).map(d -> Path.of(d, "python3")).filter(Files::isExecutable).findFirst()
        .orElse(null);
    assumeTrue(python != null, "python3 not on PATH: the generated handler.py is not run");
    assets().writeTo(dir);
    Path stub = Files.createDirectories(dir.resolve("stub/runpod"));
    Files.writeString(stub.resolve("__init__.py"), "class serverless:\n    @staticmethod\n    def start(cfg):\n        pass\n");
    Files.writeString(dir.resolve("drive.py"), String.join("\n",
        "import json, sys",
        "sys.path.insert(0, sys.argv[1])",
        "sys.path.insert(0, sys.argv[2])",
        "import handler",
        "out = {}",
        "out['stream'] = list(handler.handler({'id': 'j1', 'input': {'prompt': 'hi', 'stream': True}}))",
        "out['sync'] = list(handler.handler({'id': 'j2', 'input': {'messages': [{'role': 'user', 'content': 'yo'}]}}))",
        "out['error'] = list(handler.handler({'id': 'j3', 'input': {'prompt': 'x'}}))",
        "print(json.dumps(out))", ""));
    ollama.enqueue(new MockResponse.Builder().code(200).body(
        "{\"model\":\"securetag\",\"response\":\"He\",\"done\":false}\n"
            + "{\"model\":\"securetag\",\"response\":\"y\",\"done\":false}\n"
            + "{\"model\":\"securetag\",\"response\":\"\",\"done\":true,\"done_reason\":\"stop\"}\n").build());
    ollama.enqueue(new MockResponse.Builder().code(200).body(
        "{\"model\":\"securetag\",\"message\":{\"role\":\"assistant\",\"content\":\"hello\"},\"done\":true,\"eval_count\":3}")
        .build());
    ollama.enqueue(new MockResponse.Builder().code(404).body("{\"error\":\"model 'securetag' not found\"}").build());
    ProcessBuilder pb = new ProcessBuilder(python.toString(), dir.resolve("drive.py").toString(), dir.toString(),
        dir.resolve("stub").toString());
    String base = ollama.url("/").toString();
    pb.environment().put("OLLAMA_URL", base.substring(0, base.length() - 1));
    Process p = pb.start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(stderr).isZero();
    JsonNode out = Json.readTree(stdout, "driver output");
    assertThat(out.path("stream")).hasSize(3);
    assertThat(Json.readTree(out.path("stream").get(0).asText(), "line").path("response").asText()).isEqualTo("He");
    assertThat(out.path("sync").get(0).path("response").asText()).isEqualTo("hello");
    assertThat(out.path("sync").get(0).path("eval_count").asInt()).isEqualTo(3);
    assertThat(out.path("error").get(0).path("error").asText()).contains("404").contains("not found");
    RecordedRequest first = ollama.takeRequest();
    assertThat(first.getUrl().encodedPath()).isEqualTo("/api/generate");
    JsonNode firstBody = Json.readTree(first.getBody().utf8(), "body");
    assertThat(firstBody.path("stream").asBoolean()).isTrue();
    assertThat(firstBody.path("model").asText()).isEqualTo("securetag");
    assertThat(ollama.takeRequest().getUrl().encodedPath()).isEqualTo("/api/chat");
  }
}
