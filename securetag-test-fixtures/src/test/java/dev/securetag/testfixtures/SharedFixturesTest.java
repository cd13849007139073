package dev.securetag.testfixtures;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SharedFixturesTest {
  @TempDir Path tmp;
  Path repo;
  Path module;
  Path bundled;
  final Map<String, String> props = new HashMap<>();
  final Map<String, String> env = new HashMap<>();

  @BeforeEach
  void layout() throws IOException {
    repo = Files.createDirectories(tmp.resolve("work/main"));
    Files.writeString(repo.resolve("mvnw"), "#!/bin/sh\n");
    Files.writeString(repo.resolve("pom.xml"), "<project/>");
    module = Files.createDirectories(repo.resolve("securetag-gguf"));
    bundled = Files.createDirectories(tmp.resolve("bundled"));
  }

  private SharedFixtures.Resolved resolve(Path cwd) {
    Supplier<Path> b = () -> bundled;
    return SharedFixtures.resolve(props::get, env, cwd, b);
  }

  @Test
  void findsSharedFixturesBesideTheRepositoryFromAModuleDirectory() throws IOException {
    Path shared = Files.createDirectories(tmp.resolve("work/shared/fixtures"));
    SharedFixtures.Resolved r = resolve(module);
    assertThat(r.source()).isEqualTo(SharedFixtures.Source.SHARED);
    assertThat(r.root()).isEqualTo(shared.toRealPath());
    assertThat(resolve(repo).root()).isEqualTo(shared.toRealPath());
  }

  @Test
  void findsSharedFixturesInsideTheRepository() throws IOException {
    Path shared = Files.createDirectories(repo.resolve("shared/fixtures"));
    assertThat(resolve(module).root()).isEqualTo(shared.toRealPath());
  }

  @Test
  void fallsBackToTheBundledCopyWithoutSharedFixtures() {
    SharedFixtures.Resolved r = resolve(module);
    assertThat(r.source()).isEqualTo(SharedFixtures.Source.BUNDLED);
    assertThat(r.root()).isEqualTo(bundled);
    assertThat(r.reason()).contains("no shared/fixtures").contains(repo.toString());
    SharedFixtures.Resolved outside = resolve(tmp);
    assertThat(outside.source()).isEqualTo(SharedFixtures.Source.BUNDLED);
    assertThat(outside.reason()).contains("mvnw");
  }

  @Test
  void forcedBundledCopyIgnoresSharedFixtures() throws IOException {
    Files.createDirectories(tmp.resolve("work/shared/fixtures"));
    props.put(SharedFixtures.BUNDLED_PROPERTY, "true");
    SharedFixtures.Resolved r = resolve(module);
    assertThat(r.source()).isEqualTo(SharedFixtures.Source.BUNDLED);
    assertThat(r.reason()).contains(SharedFixtures.BUNDLED_PROPERTY);
  }

  @Test
  void propertyWinsOverEnvironmentAndEnvironmentOverSharedAndBundled() throws IOException {
    Files.createDirectories(tmp.resolve("work/shared/fixtures"));
    Path byProp = Files.createDirectories(tmp.resolve("acceptance-a"));
    Path byEnv = Files.createDirectories(tmp.resolve("acceptance-b"));
    props.put(SharedFixtures.BUNDLED_PROPERTY, "true");
    env.put(SharedFixtures.ROOT_ENV, byEnv.toString());
    assertThat(resolve(module).root()).isEqualTo(byEnv.toRealPath());
    assertThat(resolve(module).source()).isEqualTo(SharedFixtures.Source.ENVIRONMENT);
    props.put(SharedFixtures.ROOT_PROPERTY, byProp.toString());
    assertThat(resolve(module).root()).isEqualTo(byProp.toRealPath());
    assertThat(resolve(module).source()).isEqualTo(SharedFixtures.Source.PROPERTY);
  }

  @Test
  void namedRootThatIsNotADirectoryIsAnErrorNotAFallback() {
    props.put(SharedFixtures.ROOT_PROPERTY, tmp.resolve("missing").toString());
    assertThatThrownBy(() -> resolve(module)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(SharedFixtures.ROOT_PROPERTY).hasMessageContaining("missing");
  }

  @Test
  void bundledCopyHoldsExactlyTheFilesOfItsManifestWithTheirHashes() throws Exception {
    Path root = SharedFixtures.bundledRoot();
    List<String> listed = SharedFixtures.manifestEntries();
    assertThat(listed).contains("gguf-quant-golden.json", "nf4-golden.json", "tiny-llama/hf/model.safetensors",
        "tiny-llama/expected/model-f32.gguf", "tiny-llama/expected/metadata.json");
    List<String> present;
    try (Stream<Path> files = Files.walk(root)) {
      present = files.filter(Files::isRegularFile).map(p -> root.relativize(p).toString().replace('\\', '/'))
          .filter(n -> !n.equals(SharedFixtures.MANIFEST)).toList();
    }
    assertThat(present).containsExactlyInAnyOrderElementsOf(listed);
    for (String line : Files.readAllLines(root.resolve(SharedFixtures.MANIFEST))) {
      String name = line.substring(line.indexOf("  ") + 2);
      assertThat(sha256(root.resolve(name))).as(name).isEqualTo(line.substring(0, 64));
    }
  }

  @Test
  void pathNamesTheRootAndWhyItWasChosenWhenAFixtureIsMissing() {
    assertThat(SharedFixtures.path("tiny-llama/hf/config.json")).isRegularFile();
    assertThatThrownBy(() -> SharedFixtures.path("tiny-llama/no-such-file.json"))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("no-such-file.json")
        .hasMessageContaining(SharedFixtures.root().toString())
        .hasMessageContaining(SharedFixtures.resolved().reason());
    assertThatThrownBy(() -> SharedFixtures.path("../../etc/passwd")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void copiesAreWritableEvenWhenTheFixturesAreReadOnly() throws IOException {
    Path dir = SharedFixtures.copy("tiny-llama/hf-lora", tmp.resolve("copy/hf-lora"));
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> copied = files.toList();
      assertThat(copied).isNotEmpty();
      for (Path p : copied) {
        assertThat(Files.isWritable(p)).as(p.toString()).isTrue();
        assertThat(Files.readAllBytes(p)).isEqualTo(Files.readAllBytes(SharedFixtures.path("tiny-llama/hf-lora")
            .resolve(p.getFileName().toString())));
      }
    }
  }

  private static String sha256(Path p) throws IOException, NoSuchAlgorithmException {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (InputStream in = Files.newInputStream(p)) {
      md.update(in.readAllBytes());
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
