package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.internal.Json;
import dev.securetag.runpod.DeploymentAssets.HandlerMode;
import dev.securetag.runpod.DeploymentAssets.ModelStorage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeploymentAssetsTest {
  private static final Set<String> DOCKERFILE_INSTRUCTIONS = Set.of("FROM", "ENV", "RUN", "WORKDIR", "COPY",
      "ENTRYPOINT", "CMD", "ARG", "LABEL", "EXPOSE", "USER", "HEALTHCHECK", "STOPSIGNAL", "VOLUME", "SHELL", "ADD");

  @TempDir
  Path dir;

  @StartStop
  private final MockWebServer ollama = new MockWebServer();

  private Path gguf() throws IOException {
    Path src = Files.createDirectories(dir.resolve("out"));
    byte[] bytes = new byte[64 * 1024];
    bytes[0] = 'G';
    bytes[1] = 'G';
    bytes[2] = 'U';
    bytes[3] = 'F';
    return Files.write(src.resolve("securetag-q4_k_m.gguf"), bytes);
  }

  private DeploymentAssets.Builder assets() throws IOException {
    return DeploymentAssets.builder().modelName("securetag").ggufFile(gguf()).parameter("num_ctx", "8192")
        .parameter("temperature", "0.2");
  }

  // ------------------------------------------------------------------ build context

  @Test
  void writesACompleteBuildContextWithTheGgufLinkedBesideTheDockerfile() throws IOException {
    Path ctx = dir.resolve("ctx");
    List<Path> files = assets().build().writeTo(ctx);
    assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly("Dockerfile", "start.sh",
        "handler.py", "Modelfile", "test_input.json", ".dockerignore", "README.md", "docker-compose.yml",
        "securetag-q4_k_m.gguf");
    assertThat(Files.isExecutable(ctx.resolve("start.sh"))).isTrue();
    Path placed = ctx.resolve("securetag-q4_k_m.gguf");
    assertThat(placed).hasSameBinaryContentAs(dir.resolve("out/securetag-q4_k_m.gguf"));
    // Same file system: a hard link, so a multi-GB GGUF costs no second copy.
    assertThat(Files.isSameFile(placed, dir.resolve("out/securetag-q4_k_m.gguf"))).isTrue();
    assertThat(ctx.resolve(".securetag-q4_k_m.gguf.tmp")).doesNotExist();
    // Every file a COPY names exists in the context and survives .dockerignore: docker build works as written.
    String dockerfile = Files.readString(ctx.resolve("Dockerfile"));
    List<String> sources = copySources(dockerfile);
    assertThat(sources).contains("securetag-q4_k_m.gguf", "Modelfile", "start.sh", "handler.py", "test_input.json");
    List<String> ignore = Files.readAllLines(ctx.resolve(".dockerignore"));
    for (String s : sources) {
      assertThat(ctx.resolve(s)).as("COPY source %s", s).isRegularFile();
      assertThat(ignore).as(".dockerignore re-includes %s", s).contains("!" + s);
    }
    // Writing again (a re-run of the pipeline) keeps the link and replaces the text files.
    assets().build().writeTo(ctx);
    assertThat(Files.isSameFile(placed, dir.resolve("out/securetag-q4_k_m.gguf"))).isTrue();
  }

  @Test
  void copiesTheGgufWhenItLivesOnAnotherFileSystem() throws IOException {
    Path shm = Path.of("/dev/shm");
    assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "no writable /dev/shm to stand for another file system");
    assumeTrue(!Files.getFileStore(shm).equals(Files.getFileStore(dir)), "/dev/shm is on the temp dir's file system");
    Path ctx = Files.createTempDirectory(shm, "securetag-ctx");
    try {
      assets().build().writeTo(ctx);
      Path placed = ctx.resolve("securetag-q4_k_m.gguf");
      assertThat(placed).hasSameBinaryContentAs(dir.resolve("out/securetag-q4_k_m.gguf"));
      assertThat(Files.isSameFile(placed, dir.resolve("out/securetag-q4_k_m.gguf"))).isFalse();
    } finally {
      try (var files = Files.list(ctx)) {
        for (Path p : files.toList()) {
          Files.delete(p);
        }
      }
      Files.delete(ctx);
    }
  }

  @Test
  void dockerfileCreatesTheModelAtBuildTimeAndShipsOnlyTheModelStore() throws IOException {
    List<String> ins = instructions(assets().build().dockerfile());
    assertThat(ins).allSatisfy(i -> assertThat(DOCKERFILE_INSTRUCTIONS).contains(i.split("\\s+")[0]));
    List<String> froms = ins.stream().filter(i -> i.startsWith("FROM ")).toList();
    assertThat(froms).containsExactly("FROM ollama/ollama:0.6.0 AS model", "FROM ollama/ollama:0.6.0");
    int stage2 = ins.indexOf("FROM ollama/ollama:0.6.0");
    List<String> build = ins.subList(0, stage2);
    List<String> runtime = ins.subList(stage2, ins.size());
    assertThat(build).anySatisfy(i -> assertThat(i).startsWith("RUN ").contains("SECURETAG_GGUF=/build/securetag-q4_k_m.gguf")
        .contains("OLLAMA_MODEL=securetag").endsWith("/build/start.sh --create-only"));
    assertThat(runtime).contains("COPY --from=model /ollama/models /ollama/models")
        .contains("COPY Modelfile handler.py start.sh test_input.json /worker/")
        .contains("ENTRYPOINT [\"/worker/start.sh\"]");
    // The weights reach the final image only as the model store, never as a second copy of the GGUF.
    assertThat(runtime).noneSatisfy(i -> assertThat(i).contains(".gguf"));
    assertThat(String.join("\n", runtime)).contains("OLLAMA_MODELS=/ollama/models").contains("OLLAMA_MODEL=securetag")
        .contains("SECURETAG_HANDLER_MODE=sync").contains("pip3 install --no-cache-dir runpod==1.12.0");
  }

  @Test
  void networkVolumeContextCarriesNoWeightsAndCreatesTheModelOnTheVolume() throws IOException {
    DeploymentAssets a = assets().modelStorage(ModelStorage.NETWORK_VOLUME).handlerMode(HandlerMode.STREAM).build();
    List<String> ins = instructions(a.dockerfile());
    assertThat(ins.stream().filter(i -> i.startsWith("FROM "))).containsExactly("FROM ollama/ollama:0.6.0");
    assertThat(copySources(a.dockerfile())).doesNotContain("securetag-q4_k_m.gguf");
    assertThat(a.dockerfile()).contains("OLLAMA_MODELS=/runpod-volume/ollama/models")
        .contains("SECURETAG_GGUF=/runpod-volume/securetag/securetag-q4_k_m.gguf")
        .contains("SECURETAG_HANDLER_MODE=stream").doesNotContain("--create-only\n");
    assertThat(a.dockerignore()).doesNotContain("!securetag-q4_k_m.gguf");
    assertThat(a.readme()).contains("network volume** model storage").contains("/runpod-volume/securetag/securetag-q4_k_m.gguf");
    assertThat(a.handler()).contains("os.environ.get(\"SECURETAG_HANDLER_MODE\", \"stream\")");
  }

  @Test
  void readmeDocumentsBothStorageModesAndTheOutputShapes() throws IOException {
    String readme = assets().build().readme();
    assertThat(readme).contains("**baked into the image** model storage").contains("Network volume")
        .contains("`output.response`").contains("`output[0].response`").contains("--test_input")
        .doesNotContain("@@");
  }

  // ------------------------------------------------------------------ start.sh

  @Test
  void startScriptPassesShellcheck() throws Exception {
    Optional<Path> shellcheck = onPath("shellcheck");
    assumeTrue(shellcheck.isPresent(), "shellcheck not on PATH (apt-get install shellcheck): start.sh is not linted");
    Path ctx = dir.resolve("ctx");
    assets().build().writeTo(ctx);
    Result r = run(List.of(shellcheck.get().toString(), "--shell=bash", "--severity=style", "start.sh"), ctx, Map.of());
    assertThat(r.exit).as(r.output).isZero();
  }

  /**
   * Runs start.sh under bash with a stand-in {@code ollama} (a script that answers {@code list} only after a few
   * polls and records {@code create}) and {@code python3}: the readiness wait, create-if-missing and the hand-off.
   */
  @Test
  void startScriptWaitsForOllamaCreatesAMissingModelOnceAndThenRunsTheHandler() throws Exception {
    Optional<Path> bash = onPath("bash");
    assumeTrue(bash.isPresent(), "bash not on PATH: start.sh is not run");
    Path ctx = dir.resolve("ctx");
    assets().build().writeTo(ctx);
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path state = Files.createDirectories(dir.resolve("state"));
    script(bin.resolve("ollama"), String.join("\n",
        "#!/usr/bin/env bash",
        "state=\"$FAKE_STATE\"",
        "echo \"$*\" >> \"$state/calls\"",
        "case \"$1\" in",
        // Like the real server it runs until killed, and also ends when start.sh is gone, so no test leaves it behind.
        "  serve) trap 'exit 0' TERM; while kill -0 \"$PPID\" 2>/dev/null; do sleep 0.05; done ;;",
        "  list) n=$(( $(cat \"$state/polls\" 2>/dev/null || echo 0) + 1 )); echo $n > \"$state/polls\"; [ $n -ge 3 ] ;;",
        "  show) [ -f \"$state/created-$2\" ] ;;",
        "  create) cp \"$4\" \"$state/modelfile-used\"; touch \"$state/created-$2\" ;;",
        "esac", ""));
    script(bin.resolve("python3"), "#!/usr/bin/env bash\necho \"handler $*\" >> \"$FAKE_STATE/calls\"\n");
    Map<String, String> env = Map.of("PATH", bin + File.pathSeparator + System.getenv("PATH"), "FAKE_STATE",
        state.toString(), "SECURETAG_GGUF", ctx.resolve("securetag-q4_k_m.gguf").toString(), "SECURETAG_MODELFILE",
        ctx.resolve("Modelfile").toString(), "SECURETAG_HANDLER", ctx.resolve("handler.py").toString());

    Result build = run(List.of(bash.get().toString(), "start.sh", "--create-only"), ctx, env);
    assertThat(build.exit).as(build.output).isZero();
    List<String> calls = Files.readAllLines(state.resolve("calls"));
    assertThat(calls.stream().filter(c -> c.equals("list")).count()).isEqualTo(3);
    // The model is looked at only after Ollama answered, and created only after it was found missing.
    assertThat(calls.indexOf("show securetag")).isGreaterThan(calls.lastIndexOf("list"));
    assertThat(calls.get(calls.size() - 1)).startsWith("create securetag -f ");
    assertThat(calls).contains("serve");
    assertThat(calls).noneMatch(c -> c.startsWith("handler"));
    // The Modelfile's relative FROM is pointed at wherever the GGUF lies.
    assertThat(Files.readString(state.resolve("modelfile-used")))
        .contains("FROM " + ctx.resolve("securetag-q4_k_m.gguf") + "\n").contains("PARAMETER num_ctx 8192");

    Files.delete(state.resolve("calls"));
    Files.delete(state.resolve("polls"));
    Result start = run(List.of(bash.get().toString(), "start.sh"), ctx, env);
    assertThat(start.exit).as(start.output).isZero();
    assertThat(start.output).contains("not re-created");
    List<String> second = Files.readAllLines(state.resolve("calls"));
    assertThat(second).noneMatch(c -> c.startsWith("create"));
    assertThat(second.get(second.size() - 1)).isEqualTo("handler -u " + ctx.resolve("handler.py"));

    // No model and no GGUF: a clear failure instead of a worker that answers "model not found" to every job.
    Files.delete(state.resolve("created-securetag"));
    Map<String, String> noGguf = new java.util.HashMap<>(env);
    noGguf.put("SECURETAG_GGUF", dir.resolve("missing.gguf").toString());
    Result missing = run(List.of(bash.get().toString(), "start.sh"), ctx, noGguf);
    assertThat(missing.exit).isEqualTo(1);
    assertThat(missing.output).contains("model securetag is not in").contains("missing.gguf");
  }

  @Test
  void startScriptGivesUpWhenOllamaNeverAnswers() throws Exception {
    Optional<Path> bash = onPath("bash");
    assumeTrue(bash.isPresent(), "bash not on PATH: start.sh is not run");
    Path ctx = dir.resolve("ctx");
    assets().build().writeTo(ctx);
    Path bin = Files.createDirectories(dir.resolve("bin"));
    script(bin.resolve("ollama"), "#!/usr/bin/env bash\ncase \"$1\" in serve) exit 3 ;; *) exit 1 ;; esac\n");
    Result r = run(List.of(bash.get().toString(), "start.sh"), ctx,
        Map.of("PATH", bin + File.pathSeparator + System.getenv("PATH"), "OLLAMA_START_TIMEOUT", "5"));
    assertThat(r.exit).isEqualTo(1);
    assertThat(r.output).contains("ollama serve exited before answering");
  }

  // ------------------------------------------------------------------ handler.py

  @Test
  void handlerCompilesUnderPython() throws Exception {
    Optional<Path> python = onPath("python3");
    assumeTrue(python.isPresent(), "python3 not on PATH: handler.py is not compiled");
    Path ctx = dir.resolve("ctx");
    assets().build().writeTo(ctx);
    Result r = run(List.of(python.get().toString(), "-m", "py_compile", "handler.py"), ctx, Map.of());
    assertThat(r.exit).as(r.output).isZero();
  }

  /** Runs the generated handler.py under a real Python against a loopback Ollama, with a stub runpod package. */
  @Test
  void generatedHandlerAnswersInBothModesAgainstAnOllamaServer() throws Exception {
    Optional<Path> python = onPath("python3");
    assumeTrue(python.isPresent(), "python3 not on PATH: the generated handler.py is not run");
    Path ctx = dir.resolve("ctx");
    assets().build().writeTo(ctx);
    Path stub = Files.createDirectories(dir.resolve("stub/runpod"));
    Files.writeString(stub.resolve("__init__.py"), String.join("\n",
        "class serverless:",
        "    started = []",
        "    @staticmethod",
        "    def start(cfg):",
        "        serverless.started.append(cfg)", ""));
    Files.writeString(dir.resolve("drive.py"), String.join("\n",
        "import inspect, json, sys",
        "sys.path.insert(0, sys.argv[1])",
        "sys.path.insert(0, sys.argv[2])",
        "import handler, runpod",
        "out = {}",
        "out['generate'] = handler.handler({'id': 'j1', 'input': {'prompt': 'hi', 'system': 'S', 'stream': True}})",
        "out['chat'] = handler.handler({'id': 'j2', 'input': {'messages': [{'role': 'user', 'content': 'yo'}]}})",
        "out['seed'] = handler.handler({'id': 'j3', 'input': {'method_name': 'generate', 'input': {'prompt': 'x'}}})",
        "out['ollama_error'] = handler.handler({'id': 'j4', 'input': {'prompt': 'x', 'model': 'nope'}})",
        "out['bad_input'] = handler.handler({'id': 'j5', 'input': {'promt': 'typo'}})",
        "out['stream'] = list(handler.stream_handler({'id': 'j6', 'input': {'prompt': 'hi', 'stream': True}}))",
        "out['stream_single'] = list(handler.stream_handler({'id': 'j7', 'input': {'prompt': 'hi'}}))",
        "seen = []",
        "try:",
        "    for line in handler.stream_handler({'id': 'j8', 'input': {'prompt': 'hi', 'stream': True}}):",
        "        seen.append(line)",
        "except handler.HandlerError as e:",
        "    out['mid_stream_error'] = {'seen': len(seen), 'error': str(e)}",
        "handler.OLLAMA_URL = 'http://127.0.0.1:9'",
        "out['unreachable'] = handler.handler({'id': 'j9', 'input': {'prompt': 'x'}})",
        "wiring = {}",
        "for mode in ('sync', 'stream'):",
        "    handler.MODE = mode",
        "    handler.main()",
        "    cfg = runpod.serverless.started[-1]",
        "    wiring[mode] = {'handler': cfg['handler'].__name__, 'generator': inspect.isgeneratorfunction(cfg['handler']),",
        "                    'aggregate': cfg.get('return_aggregate_stream', False)}",
        "handler.MODE = 'bogus'",
        "try:",
        "    handler.main()",
        "except SystemExit as e:",
        "    wiring['bogus'] = str(e)",
        "out['wiring'] = wiring",
        "print(json.dumps(out))", ""));
    ollama.enqueue(json("{\"model\":\"securetag\",\"response\":\"hello\",\"done\":true,\"done_reason\":\"stop\","
        + "\"prompt_eval_count\":5,\"eval_count\":3,\"total_duration\":1000}"));
    ollama.enqueue(json("{\"model\":\"securetag\",\"message\":{\"role\":\"assistant\",\"content\":\"hi there\"},\"done\":true}"));
    ollama.enqueue(json("{\"model\":\"securetag\",\"response\":\"seed ok\",\"done\":true}"));
    ollama.enqueue(new MockResponse.Builder().code(404).body("{\"error\":\"model 'nope' not found\"}").build());
    ollama.enqueue(json("{\"model\":\"securetag\",\"response\":\"He\",\"done\":false}\n"
        + "{\"model\":\"securetag\",\"response\":\"y\",\"done\":false}\n\n"
        + "{\"model\":\"securetag\",\"response\":\"\",\"done\":true,\"done_reason\":\"stop\"}\n"));
    ollama.enqueue(json("{\"model\":\"securetag\",\"response\":\"single\",\"done\":true}"));
    ollama.enqueue(json("{\"model\":\"securetag\",\"response\":\"He\",\"done\":false}\n{\"error\":\"out of memory\"}\n"));
    Result r = run(List.of(python.get().toString(), dir.resolve("drive.py").toString(), ctx.toString(),
        dir.resolve("stub").toString()), ctx, Map.of("OLLAMA_URL", base(ollama)));
    assertThat(r.exit).as(r.output).isZero();
    JsonNode out = Json.readTree(r.stdout, "driver output");

    // sync mode: one object in the seed's shape, whatever "stream" says.
    JsonNode gen = out.path("generate");
    assertThat(gen.path("response").asText()).isEqualTo("hello");
    assertThat(gen.path("model").asText()).isEqualTo("securetag");
    assertThat(gen.path("eval_count").asInt()).isEqualTo(3);
    assertThat(gen.path("done_reason").asText()).isEqualTo("stop");
    assertThat(out.path("chat").path("response").asText()).isEqualTo("hi there");
    assertThat(out.path("chat").path("message").path("content").asText()).isEqualTo("hi there");
    assertThat(out.path("seed").path("response").asText()).isEqualTo("seed ok");
    assertThat(out.path("ollama_error").path("error").asText()).contains("404").contains("model 'nope' not found");
    assertThat(out.path("bad_input").path("error").asText()).contains("\"prompt\" (a string) or \"messages\"");
    assertThat(out.path("unreachable").path("error").asText()).contains("Ollama unreachable");

    // stream mode: NDJSON line strings when streaming, else one object; an error line fails the job.
    assertThat(out.path("stream")).hasSize(3);
    assertThat(Json.readTree(out.path("stream").get(0).asText(), "line").path("response").asText()).isEqualTo("He");
    assertThat(out.path("stream_single")).hasSize(1);
    assertThat(out.path("stream_single").get(0).path("response").asText()).isEqualTo("single");
    assertThat(out.path("mid_stream_error").path("seen").asInt()).isEqualTo(1);
    assertThat(out.path("mid_stream_error").path("error").asText()).isEqualTo("out of memory");

    JsonNode wiring = out.path("wiring");
    assertThat(wiring.path("sync").path("handler").asText()).isEqualTo("handler");
    assertThat(wiring.path("sync").path("generator").asBoolean()).isFalse();
    assertThat(wiring.path("sync").path("aggregate").asBoolean()).isFalse();
    assertThat(wiring.path("stream").path("handler").asText()).isEqualTo("stream_handler");
    assertThat(wiring.path("stream").path("generator").asBoolean()).isTrue();
    assertThat(wiring.path("stream").path("aggregate").asBoolean()).isTrue();
    assertThat(wiring.path("bogus").asText()).contains("must be sync or stream");

    List<JsonNode> bodies = new ArrayList<>();
    List<String> paths = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      RecordedRequest req = ollama.takeRequest(5, TimeUnit.SECONDS);
      paths.add(req.getUrl().encodedPath());
      bodies.add(Json.readTree(req.getBody().utf8(), "body"));
    }
    assertThat(paths).containsExactly("/api/generate", "/api/chat", "/api/generate", "/api/generate", "/api/generate",
        "/api/generate", "/api/generate");
    assertThat(bodies.get(0).path("stream").asBoolean()).isFalse();
    assertThat(bodies.get(0).path("system").asText()).isEqualTo("S");
    assertThat(bodies.get(0).path("model").asText()).isEqualTo("securetag");
    assertThat(bodies.get(2).path("prompt").asText()).isEqualTo("x");
    assertThat(bodies.get(3).path("model").asText()).isEqualTo("nope");
    assertThat(bodies.get(4).path("stream").asBoolean()).isTrue();
    assertThat(bodies.get(5).path("stream").asBoolean()).isFalse();
  }

  /** The runpod SDK's own local test mode ({@code --test_input}), when the SDK is installed. */
  @Test
  void handlerRunsUnderTheRunpodSdkLocalTestMode() throws Exception {
    Optional<Path> python = onPath("python3");
    assumeTrue(python.isPresent(), "python3 not on PATH: the runpod SDK test mode is not run");
    Result probe = run(List.of(python.get().toString(), "-c", "import runpod"), dir, Map.of());
    assumeTrue(probe.exit == 0, "the runpod Python package is not installed (pip install runpod==1.12.0): "
        + "the SDK's --test_input mode is not run");
    Path ctx = dir.resolve("ctx");
    assets().build().writeTo(ctx);
    ollama.enqueue(json("{\"model\":\"securetag\",\"response\":\"hello from the sdk\",\"done\":true}"));
    Result r = run(List.of(python.get().toString(), "handler.py", "--test_input",
        "{\"input\": {\"prompt\": \"hi\"}}"), ctx, Map.of("OLLAMA_URL", base(ollama)));
    assertThat(r.exit).as(r.output).isZero();
    assertThat(r.output).contains("hello from the sdk");
    assertThat(ollama.takeRequest(5, TimeUnit.SECONDS).getUrl().encodedPath()).isEqualTo("/api/generate");
  }

  // ------------------------------------------------------------------ Modelfile, compose, validation

  @Test
  void modelfileAndComposeCarryTheModelAndNoSecrets() throws Exception {
    DeploymentAssets a = assets().build();
    assertThat(a.modelfile()).contains("FROM ./securetag-q4_k_m.gguf\n").contains("PARAMETER num_ctx 8192\n")
        .doesNotContain("SYSTEM");
    assertThat(a.compose()).contains("RUNPOD_API_KEY: ${RUNPOD_API_KEY:?")
        .contains("RUNPOD_ENDPOINT_ID: ${RUNPOD_ENDPOINT_ID:?").contains("SECURETAG_MODEL: securetag")
        .contains("SECURETAG_APP_TOKEN: ${SECURETAG_APP_TOKEN:?").contains("PROXY_MODEL: securetag")
        .doesNotContainPattern("(RUNPOD_API_KEY|TOKEN): [^$]");
    String custom = "FROM ./m.gguf\nTEMPLATE \"\"\"{{ .Prompt }}\"\"\"\n";
    assertThat(DeploymentAssets.builder().modelName("m").ggufFileName("m.gguf").modelfile(custom).build().modelfile())
        .isEqualTo(custom);
    Optional<Path> python = onPath("python3");
    assumeTrue(python.isPresent(), "python3 not on PATH: docker-compose.yml is not parsed");
    Path ctx = dir.resolve("ctx");
    a.writeTo(ctx);
    Result yaml = run(List.of(python.get().toString(), "-c", String.join("\n",
        "import json, sys",
        "try:",
        "    import yaml",
        "except ImportError:",
        "    sys.exit(3)",
        "print(json.dumps(yaml.safe_load(open('docker-compose.yml'))))")), ctx, Map.of());
    assumeTrue(yaml.exit != 3, "PyYAML not installed: docker-compose.yml is not parsed");
    assertThat(yaml.exit).as(yaml.output).isZero();
    JsonNode compose = Json.readTree(yaml.stdout, "compose");
    assertThat(compose.path("services").path("securetag-app").path("environment").path("SECURETAG_MODEL").asText())
        .isEqualTo("securetag");
    assertThat(compose.path("services").path("ollama-proxy").path("profiles").get(0).asText()).isEqualTo("proxy");
  }

  @Test
  void rejectsSettingsThatWouldBreakTheGeneratedFiles() throws IOException {
    assertThatThrownBy(() -> DeploymentAssets.builder().modelName("Bad Name").ggufFileName("a.gguf").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("modelName");
    assertThatThrownBy(() -> DeploymentAssets.builder().modelName("m").ggufFileName("../x.gguf").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ggufFileName");
    assertThatThrownBy(() -> DeploymentAssets.builder().modelName("m").ggufFileName("x.bin").build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DeploymentAssets.builder().modelName("m").ggufFile(dir.resolve("nope.gguf")).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gguf").hasMessageContaining("nope.gguf");
    assertThatThrownBy(() -> DeploymentAssets.builder().modelName("m").ggufFileName("x.gguf").parameter("num_ctx", "1\nFROM x")
        .build()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PARAMETER");
    assertThatThrownBy(() -> DeploymentAssets.builder().modelName("m").ggufFileName("x.gguf").ollamaImageTag("1\nRUN x")
        .build()).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DeploymentAssets.builder().modelName("m").ggufFileName("x.gguf").appImage("a b").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("image");
    assertThatThrownBy(() -> DeploymentAssets.builder().modelName("m").ggufFileName("x.gguf").modelfile("PARAMETER a 1\n")
        .build()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("FROM");
  }

  @Test
  void everyTemplateIsFullyRenderedInEveryMode() throws IOException {
    for (ModelStorage storage : ModelStorage.values()) {
      for (HandlerMode mode : HandlerMode.values()) {
        DeploymentAssets a = assets().modelStorage(storage).handlerMode(mode).build();
        a.files().forEach((name, text) -> assertThat(text).as("%s (%s, %s)", name, storage, mode).doesNotContain("@@"));
      }
    }
  }

  // ------------------------------------------------------------------ helpers

  private static MockResponse json(String body) {
    return new MockResponse.Builder().code(200).body(body).build();
  }

  private static String base(MockWebServer server) {
    String url = server.url("/").toString();
    return url.substring(0, url.length() - 1);
  }

  /** Dockerfile instructions with continuation lines joined and comments dropped. */
  static List<String> instructions(String dockerfile) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (String line : dockerfile.split("\n")) {
      String t = line.strip();
      if (cur.length() == 0 && (t.isEmpty() || t.startsWith("#"))) {
        continue;
      }
      if (t.endsWith("\\")) {
        cur.append(t, 0, t.length() - 1).append(' ');
        continue;
      }
      cur.append(t);
      out.add(cur.toString().replaceAll("\\s+", " ").strip());
      cur.setLength(0);
    }
    assertThat(cur.toString()).as("dangling continuation").isEmpty();
    return out;
  }

  /** Build-context files named by COPY instructions (not {@code --from} stages). */
  static List<String> copySources(String dockerfile) {
    List<String> sources = new ArrayList<>();
    for (String i : instructions(dockerfile)) {
      String[] parts = i.split(" ");
      if (!parts[0].equals("COPY") || Arrays.stream(parts).anyMatch(p -> p.startsWith("--from="))) {
        continue;
      }
      sources.addAll(Arrays.asList(parts).subList(1, parts.length - 1).stream().filter(p -> !p.startsWith("--"))
          .collect(Collectors.toList()));
    }
    return sources;
  }

  private static Optional<Path> onPath(String exe) {
    // Looked up on PATH like a user's shell would, so hiding a tool (CI's JDK-only run) skips the test.
    return Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)).filter(d -> !d.isEmpty())
        .map(d -> Path.of(d, exe)).filter(Files::isExecutable).findFirst();
  }

  private static void script(Path p, String text) throws IOException {
    Files.writeString(p, text);
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private record Result(int exit, String stdout, String output) {}

  private static Result run(List<String> cmd, Path cwd, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile());
    pb.environment().putAll(env);
    Path out = Files.createTempFile("securetag-proc", ".out");
    Path err = Files.createTempFile("securetag-proc", ".err");
    try {
      pb.redirectOutput(out.toFile()).redirectError(err.toFile());
      Process p = pb.start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(cmd + " did not finish in 60 s");
      }
      String stdout = Files.readString(out, StandardCharsets.UTF_8);
      return new Result(p.exitValue(), stdout, stdout + Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}
