package dev.securetag.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.testing.FakeRunPodApi;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The main job's {@code --deploy} stage: option parsing, the dry run without a key, a deploy against the fake API. */
class RunPodDeployTest {
  private static final String KEY = "rpa_DEPLOYKEY0123456789";

  private static String[] args(String... extra) {
    return extra;
  }

  @Test
  void parsesTheDeployOptions() {
    SecuretagPipeline.Options o = SecuretagPipeline.Options.parse(args("--quick", "--deploy", "--worker-image",
        "ghcr.io/acme/securetag-worker:1.0", "--gpu-pool", "ADA_24,AMPERE_48", "--network-volume", "vol_abc",
        "--data-center", "EU-RO-1", "--workers", "1:4", "--idle-timeout", "30", "--runpod-api-url", "http://x"));
    assertThat(o.deploy()).isEqualTo(new RunPodDeploy.Settings("http://x", "securetag-tiny",
        "ghcr.io/acme/securetag-worker:1.0", List.of("ADA_24", "AMPERE_48"), "vol_abc", "EU-RO-1", 1, 4, 30));
    assertThat(SecuretagPipeline.Options.parse(args("--quick")).deploy()).isNull();
    assertThatThrownBy(() -> SecuretagPipeline.Options.parse(args("--deploy", "--workers", "a:b")))
        .hasMessageContaining("--workers");
  }

  @Test
  void withoutAKeyPrintsWhatItWouldCreateAndCreatesNothing() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    RunPodDeploy.Settings s = SecuretagPipeline.Options.parse(args("--deploy", "--network-volume", "vol_abc"))
        .deploy();
    try (FakeRunPodApi fake = FakeRunPodApi.builder().apiKey(KEY).build()) {
      RunPodDeploy.Settings toFake = new RunPodDeploy.Settings(fake.baseUrl(), s.name(), s.image(), s.gpuPools(),
          s.networkVolume(), s.dataCenter(), s.workersMin(), s.workersMax(), s.idleTimeoutSeconds());
      String result = RunPodDeploy.run(toFake, Map.of(), new PrintStream(buf, true, StandardCharsets.UTF_8));

      assertThat(result).contains("dry run");
      assertThat(fake.requests()).isEmpty();
    }
    assertThat(buf.toString(StandardCharsets.UTF_8)).contains("RUNPOD_API_KEY is not set", "template securetag-tiny-worker",
        "endpoint securetag-tiny", "ADA_24", "workers 0..3", "network volume vol_abc", "--worker-image");
  }

  @Test
  void withAKeyCreatesTheEndpointThenFindsItAgain() {
    try (FakeRunPodApi fake = FakeRunPodApi.builder().apiKey(KEY).build()) {
      RunPodDeploy.Settings s = SecuretagPipeline.Options.parse(args("--deploy", "--runpod-api-url", fake.baseUrl(),
          "--worker-image", "ghcr.io/acme/securetag-worker:1.0", "--network-volume", "vol_abc")).deploy();
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);

      String id = RunPodDeploy.run(s, Map.of("RUNPOD_API_KEY", KEY), out);
      String again = RunPodDeploy.run(s, Map.of("RUNPOD_API_KEY", KEY), out);

      assertThat(id).isEqualTo(again).isEqualTo(fake.endpoints().get(0).path("id").asText());
      assertThat(fake.endpoints()).hasSize(1);
      assertThat(fake.endpoints().get(0).at("/networkVolumes/0").asText()).isEqualTo("vol_abc");
      assertThat(buf.toString(StandardCharsets.UTF_8)).contains("endpoint " + id + " created")
          .contains("endpoint " + id + " unchanged").doesNotContain(KEY);
    }
  }

  @Test
  void aRealDeployNeedsTheWorkerImage() {
    RunPodDeploy.Settings s = SecuretagPipeline.Options.parse(args("--deploy")).deploy();
    assertThatThrownBy(() -> RunPodDeploy.run(s, Map.of("RUNPOD_API_KEY", KEY), System.out))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--worker-image");
  }
}
