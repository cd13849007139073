package dev.securetag.examples.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.internal.Json;
import dev.securetag.testing.FakeRunPodEndpoint;
import dev.securetag.testing.JobHandler;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Builds securetag-app the way its Dockerfile does (the app's sources compiled against only securetag-core,
 * securetag-runpod-client, their runtime dependencies and an SLF4J binding) and starts it as its own JVM, configured
 * through environment variables like the container, against the fake RunPod endpoint.
 */
class SecuretagAppLaunchTest {
  private static final String KEY = "rpa_LAUNCH_key_must_never_leak_9876543210";
  private static final String TOKEN = "launch-token-0123456789abcdef-never-leaks";
  private static final Pattern LISTENING = Pattern.compile("listening on port (\\d+)");
  /** The runtime class path of securetag-runpod-client plus slf4j-simple: what the image's /app/lib holds. */
  private static final List<String> IMAGE_LIBS = List.of("securetag-core", "securetag-runpod-client", "jackson-core",
      "jackson-databind", "jackson-annotations", "jackson-datatype-jdk8", "okhttp", "okio", "kotlin-stdlib",
      "annotations", "slf4j-api", "slf4j-simple");
  private static final Path APP_SOURCES = Path.of("src/main/java/dev/securetag/examples/app");

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void builtAppServesHealthAuthenticatesLimitsBodiesAndAnalyzesWithoutLeakingSecrets(@TempDir Path dir)
      throws Exception {
    List<JsonNode> inputs = new CopyOnWriteArrayList<>();
    try (FakeRunPodEndpoint runpod = FakeRunPodEndpoint.builder().apiKey(KEY).handler(JobHandler.sync(input -> {
      inputs.add(input);
      return Json.object().put("response", "Command injection (CWE-78): user input reaches os.system.")
          .put("model", input.path("model").asText());
    })).build()) {
      Path out = dir.resolve("app.log");
      Process p = launch(dir, out, Map.of("RUNPOD_API_KEY", KEY, "RUNPOD_ENDPOINT_ID", runpod.endpointId(),
          "RUNPOD_BASE_URL", runpod.baseUrl(), "SECURETAG_APP_TOKEN", TOKEN, "PORT", "0", "BIND_ADDRESS", "127.0.0.1",
          "SECURETAG_APP_MAX_BODY_BYTES", "4096", "SECURETAG_MODEL", "securetag"));
      List<String> bodies = new ArrayList<>();
      try {
        String base = "http://127.0.0.1:" + awaitPort(p, out);
        HttpResponse<String> health = get(base + "/healthz");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"ok\"");
        HttpResponse<String> ready = get(base + "/readyz");
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
        bodies.add(ready.body());

        String analyze = "{\"code\": \"os.system('ping ' + host)\", \"language\": \"python\"}";
        HttpResponse<String> none = post(base, analyze, Map.of());
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        assertThat(post(base, analyze, Map.of("Authorization", "Bearer wrong-" + TOKEN)).statusCode()).isEqualTo(401);
        assertThat(post(base, analyze, Map.of("X-API-Key", TOKEN.toUpperCase())).statusCode()).isEqualTo(401);
        assertThat(inputs).as("unauthenticated calls never reach the model").isEmpty();

        for (Map<String, String> auth : List.of(Map.of("Authorization", "Bearer " + TOKEN),
            Map.of("Authorization", "bearer " + TOKEN), Map.of("X-API-Key", TOKEN))) {
          HttpResponse<String> ok = post(base, analyze, auth);
          assertThat(ok.statusCode()).as("%s: %s", auth.keySet(), ok.body()).isEqualTo(200);
          assertThat(Json.readTree(ok.body(), "analysis").path("analysis").asText()).contains("CWE-78");
          bodies.add(ok.body());
        }
        assertThat(inputs).hasSize(3);
        assertThat(inputs.get(0).path("prompt").asText()).startsWith(SecuretagApp.instruction("python"))
            .endsWith("\n\n### Input:\nos.system('ping ' + host)");
        assertThat(inputs.get(0).path("model").asText()).isEqualTo("securetag");

        // Over the limit: announced by Content-Length (refused before any body byte is read) ...
        assertThat(announcedOversize(Integer.parseInt(base.substring(base.lastIndexOf(':') + 1)))).startsWith("HTTP/1.1 413");
        // ... or chunked, with no length to go by.
        byte[] big = new byte[6000];
        Arrays.fill(big, (byte) 'a');
        HttpResponse<String> chunked = http.send(HttpRequest.newBuilder(URI.create(base + "/api/analyze"))
            .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(30))
            .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(chunked.statusCode()).isEqualTo(413);
        bodies.add(chunked.body());
        assertThat(inputs).hasSize(3);
      } finally {
        p.destroy(); // SIGTERM, as the platform stops a container
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new AssertionError("securetag-app did not stop within 30 s of SIGTERM");
        }
      }
      String log = Files.readString(out, StandardCharsets.UTF_8);
      assertThat(log).contains("listening on port").contains("POST /api/analyze -> 200").contains("-> 401")
          .contains("-> 413").doesNotContain(KEY).doesNotContain(TOKEN);
      assertThat(String.join("\n", bodies)).doesNotContain(KEY).doesNotContain(TOKEN);
    }
  }

  @Test
  void builtAppRefusesToStartWithoutAToken(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("app.log");
    Process p = launch(dir, out, Map.of("RUNPOD_API_KEY", KEY, "RUNPOD_ENDPOINT_ID", "ep", "PORT", "0"));
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(Files.readString(out)).contains("SECURETAG_APP_TOKEN is not set").doesNotContain(KEY);
  }

  /** Docker is not run here; the Dockerfile and the App Platform spec are checked against the repository and app. */
  @Test
  void dockerfileAndAppPlatformSpecMatchTheApp() throws Exception {
    Path appDir = Path.of("securetag-app");
    Path root = Path.of("").toAbsolutePath().getParent();
    String dockerfile = Files.readString(appDir.resolve("Dockerfile"));
    List<String> ins = instructions(dockerfile);
    assertThat(ins.stream().filter(i -> i.startsWith("FROM "))).containsExactly("FROM eclipse-temurin:17-jdk AS build",
        "FROM eclipse-temurin:17-jre");
    String build = ins.stream().filter(i -> i.startsWith("RUN ./mvnw")).findFirst().orElseThrow();
    assertThat(build).contains("-pl securetag-runpod-client -am install")
        .contains("dependency:copy-dependencies -DincludeScope=runtime")
        .contains("javac --release 17 -encoding UTF-8 -cp \"/app/lib/*\" -d /app/classes "
            + "examples/src/main/java/dev/securetag/examples/app/*.java");
    assertThat(ins).contains("USER 10001").contains("EXPOSE 8080").contains("COPY --from=build /app /app")
        .contains("ENTRYPOINT [\"java\", \"-XX:MaxRAMPercentage=75\", \"-cp\", \"/app/classes:/app/lib/*\", \""
            + SecuretagApp.class.getName() + "\"]");
    assertThat(dockerfile).doesNotContain("RUNPOD_API_KEY=").doesNotContain("SECURETAG_APP_TOKEN=");
    assertThat(root.resolve("mvnw")).isExecutable();
    assertThat(Files.readString(appDir.resolve("Dockerfile.dockerignore"))).contains("**/target").contains("**/.env");

    String spec = Files.readString(appDir.resolve(".do/app.yaml"));
    Path python = Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        .filter(d -> !d.isEmpty()).map(d -> Path.of(d, "python3")).filter(Files::isExecutable).findFirst().orElse(null);
    assumeTrue(python != null, "python3 not on PATH: .do/app.yaml is not parsed");
    Process p = new ProcessBuilder(python.toString(), "-c", "import json, sys\ntry:\n    import yaml\nexcept ImportError:\n"
        + "    sys.exit(3)\nprint(json.dumps(yaml.safe_load(sys.stdin.read())))").start();
    try (OutputStream in = p.getOutputStream()) {
      in.write(spec.getBytes(StandardCharsets.UTF_8));
    }
    String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assumeTrue(p.exitValue() != 3, "PyYAML not installed: .do/app.yaml is not parsed");
    assertThat(p.exitValue()).isZero();
    JsonNode service = Json.readTree(json, "app.yaml").path("services").get(0);
    assertThat(root.resolve(service.path("dockerfile_path").asText())).isEqualTo(root.resolve("examples/securetag-app/Dockerfile"))
        .exists();
    assertThat(service.path("http_port").asInt()).isEqualTo(8080);
    assertThat(service.path("health_check").path("http_path").asText()).isEqualTo("/healthz");
    assertThat(service.path("instance_size_slug").asText()).isNotBlank();
    Map<String, JsonNode> envs = new java.util.HashMap<>();
    service.path("envs").forEach(e -> envs.put(e.path("key").asText(), e));
    for (String secret : List.of("RUNPOD_API_KEY", "SECURETAG_APP_TOKEN")) {
      assertThat(envs.get(secret).path("type").asText()).as(secret).isEqualTo("SECRET");
      assertThat(envs.get(secret).has("value")).as("%s has no value in the committed spec", secret).isFalse();
    }
    assertThat(envs).containsKeys("RUNPOD_ENDPOINT_ID", "SECURETAG_MODEL");
  }

  // ------------------------------------------------------------------ helpers

  /** Compiles the app's sources against the image's class path only and starts it in {@code dir}. */
  private static Process launch(Path dir, Path out, Map<String, String> env) throws Exception {
    List<Path> libs = imageLibs();
    String cp = libs.stream().map(Path::toString).collect(Collectors.joining(File.pathSeparator));
    Path classes = Files.createDirectories(dir.resolve("classes"));
    List<String> args = new ArrayList<>(List.of("--release", "17", "-encoding", "UTF-8", "-cp", cp, "-d",
        classes.toString()));
    try (var files = Files.list(APP_SOURCES)) {
      files.filter(f -> f.toString().endsWith(".java")).map(Path::toString).sorted().forEach(args::add);
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assumeTrue(javac != null, "no system Java compiler (a JRE, not a JDK): the app is not built");
    java.io.ByteArrayOutputStream diagnostics = new java.io.ByteArrayOutputStream();
    int rc = javac.run(null, diagnostics, diagnostics, args.toArray(String[]::new));
    assertThat(rc).as("the app compiles against the image class path alone:\n%s", diagnostics).isZero();
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        classes + File.pathSeparator + cp, SecuretagApp.class.getName()).directory(dir.toFile())
        .redirectErrorStream(true).redirectOutput(out.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("RUNPOD_") || k.startsWith("SECURETAG_") || k.equals("PORT")
        || k.equals("BIND_ADDRESS"));
    pb.environment().putAll(env);
    return pb.start();
  }

  /** Class-path entries of this test run that belong in the image (manifest-only surefire jars expanded). */
  private static List<Path> imageLibs() throws Exception {
    Set<Path> entries = new LinkedHashSet<>();
    for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path p = Path.of(e).toAbsolutePath();
      entries.add(p);
      if (p.toString().endsWith(".jar") && Files.isRegularFile(p)) {
        try (JarFile jar = new JarFile(p.toFile())) {
          Manifest m = jar.getManifest();
          String more = m == null ? null : m.getMainAttributes().getValue("Class-Path");
          if (more != null) {
            for (String u : more.trim().split("\\s+")) {
              entries.add(Path.of(p.getParent().toUri().resolve(u)));
            }
          }
        }
      }
    }
    List<Path> libs = new ArrayList<>();
    for (Path p : entries) {
      String s = p.toString().replace(File.separatorChar, '/');
      String name = s.endsWith("/target/classes") || s.endsWith("/target/classes/")
          ? Path.of(s).getParent().getParent().getFileName().toString()
          : p.getFileName().toString();
      if (IMAGE_LIBS.stream().anyMatch(lib -> name.equals(lib) || name.matches(Pattern.quote(lib) + "(-jvm)?-[0-9].*\\.jar"))) {
        libs.add(p);
      }
    }
    assertThat(libs).as("image libraries found on the test class path").hasSizeGreaterThanOrEqualTo(IMAGE_LIBS.size());
    return libs;
  }

  private static int awaitPort(Process p, Path out) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < end) {
      Matcher m = LISTENING.matcher(Files.readString(out, StandardCharsets.UTF_8));
      if (m.find()) {
        return Integer.parseInt(m.group(1));
      }
      if (!p.isAlive()) {
        throw new AssertionError("securetag-app exited with " + p.exitValue() + ":\n" + Files.readString(out));
      }
      Thread.sleep(50);
    }
    throw new AssertionError("securetag-app did not report its port:\n" + Files.readString(out));
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String base, String body, Map<String, String> headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/api/analyze")).timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(b::header);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Announces a 10 MB body and sends none of it: the answer must come from the header alone. */
  private static String announcedOversize(int port) throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(30_000);
      s.getOutputStream().write(("POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TOKEN
          + "\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      StringBuilder line = new StringBuilder();
      int c;
      while ((c = in.read()) >= 0 && c != '\n') {
        line.append((char) c);
      }
      return line.toString().strip();
    }
  }

  private static List<String> instructions(String dockerfile) {
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
      out.add(cur.append(t).toString().replaceAll("\\s+", " ").strip());
      cur.setLength(0);
    }
    return out;
  }
}
