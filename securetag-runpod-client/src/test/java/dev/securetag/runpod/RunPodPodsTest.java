package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.RemoteServiceException;
import dev.securetag.core.RetryPolicy;
import dev.securetag.testing.FakeRunPodApi;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class RunPodPodsTest {
  private static final String KEY = "rpa_TESTKEY0123456789";

  private static PodSpec spec() {
    return PodSpec.builder().name("securetag-train").image("ghcr.io/acme/securetag-trainer:0.1.0")
        .gpuTypeId("NVIDIA H100 80GB HBM3").networkVolume("vol_abc123", "/runpod-volume").dataCenterId("EU-RO-1")
        .port("8080/http").env("SECURETAG_JOB_TOKEN", "s3cret-token-value").diskGb(80).build();
  }

  private static RunPodPods client(FakeRunPodApi fake, String key) {
    return RunPodPods.builder().apiKey(key).baseUrl(fake.baseUrl()).proxyUrlTemplate(fake.proxyUrlTemplate())
        .retry(RetryPolicy.builder().initialBackoff(Duration.ofMillis(10)).build()).build();
  }

  @Test
  void createsAGpuPodWithTheV2BodyFollowsItToRunningAndTerminatesIt() throws Exception {
    try (FakeRunPodApi fake = FakeRunPodApi.builder().apiKey(KEY).startDelay(Duration.ofMillis(200)).build();
        RunPodPods pods = client(fake, KEY)) {
      Pod pod = pods.create(spec());

      assertThat(pod.status()).isEqualTo(PodStatus.PROVISIONING);
      assertThat(pod.gpuTypeId()).isEqualTo("NVIDIA H100 80GB HBM3");
      assertThat(pod.raw().has("env")).as("env (secrets) is not kept").isFalse();
      ObjectNode sent = fake.pod(pod.id());
      assertThat(sent.at("/mounts/network/0/volumeId").asText()).isEqualTo("vol_abc123");
      assertThat(sent.at("/mounts/network/0/path").asText()).isEqualTo("/runpod-volume");
      assertThat(sent.at("/gpu/count").asInt()).isEqualTo(1);
      assertThat(sent.at("/ports/0").asText()).isEqualTo("8080/http");
      assertThat(sent.at("/dataCenterIds/0").asText()).isEqualTo("EU-RO-1");

      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (pods.get(pod.id()).orElseThrow().status() != PodStatus.RUNNING && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(pods.get(pod.id()).orElseThrow().actions()).contains("terminate");
      assertThat(pods.list()).extracting(Pod::id).containsExactly(pod.id());
      assertThat(pods.proxyUrl(pod.id(), 8080)).isEqualTo(fake.baseUrl() + "/proxy/" + pod.id() + "/8080");

      assertThat(pods.terminate(pod.id())).isTrue();
      assertThat(pods.get(pod.id())).isEmpty();
      assertThat(pods.terminate(pod.id())).as("already gone").isFalse();
      assertThat(fake.terminated()).containsExactly(pod.id());
    }
  }

  @Test
  void aRefusedCreateIsATypedErrorWithRunPodsDetailAndIsNotRepeated() {
    try (FakeRunPodApi fake = FakeRunPodApi.builder().apiKey(KEY).build(); RunPodPods pods = client(fake, KEY)) {
      fake.refuseCreates(1, 400, "There are no longer any instances available with the requested specifications.");

      assertThatThrownBy(() -> pods.create(spec())).isInstanceOfSatisfying(RunPodException.class, e -> {
        assertThat(e.kind()).isEqualTo(RemoteServiceException.Kind.INVALID_REQUEST);
        assertThat(e.httpStatus()).isEqualTo(400);
        assertThat(e.isRetriable()).isFalse();
        assertThat(e.getMessage()).contains("no longer any instances available").doesNotContain(KEY);
      });
      assertThat(fake.requests()).filteredOn(r -> r.equals("POST /v2/pods")).hasSize(1);
      assertThat(fake.livePods()).isEmpty();
    }
  }

  @Test
  void aWrongKeyIsAnAuthenticationErrorThatNeverShowsTheKey() {
    try (FakeRunPodApi fake = FakeRunPodApi.builder().apiKey(KEY).build();
        RunPodPods pods = client(fake, "rpa_WRONGKEY987654321")) {
      assertThatThrownBy(pods::list).isInstanceOfSatisfying(RunPodException.class, e -> {
        assertThat(e.kind()).isEqualTo(RemoteServiceException.Kind.AUTHENTICATION);
        assertThat(e.getMessage()).doesNotContain("rpa_WRONGKEY987654321");
      });
      assertThat(pods.toString()).doesNotContain("WRONGKEY");
      assertThat(spec().toString()).contains("SECURETAG_JOB_TOKEN").doesNotContain("s3cret-token-value");
    }
  }

  @Test
  void followsThePodsContainerLogAsServerSentEvents() throws Exception {
    List<String> containerLog = new CopyOnWriteArrayList<>(List.of("job server listening on 8080"));
    FakeRunPodApi.PodRuntime runtime = (id, env) -> new FakeRunPodApi.Container() {
      @Override
      public int localPort(int containerPort) {
        return -1;
      }

      @Override
      public List<String> logLines() {
        return containerLog;
      }

      @Override
      public void close() {}
    };
    try (FakeRunPodApi fake = FakeRunPodApi.builder().apiKey(KEY).podRuntime(runtime).startDelay(Duration.ZERO)
        .build(); RunPodPods pods = client(fake, KEY)) {
      Pod pod = pods.create(spec());
      List<RunPodPods.LogLine> seen = new CopyOnWriteArrayList<>();
      try (AutoCloseable follow = pods.followLogs(pod.id(), 100, seen::add)) {
        Thread.sleep(300);
        containerLog.add("epoch 1 loss 2.31");
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (seen.size() < 2 && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
      }
      assertThat(seen).extracting(RunPodPods.LogLine::line)
          .containsExactly("job server listening on 8080", "epoch 1 loss 2.31");
      assertThat(seen).allSatisfy(l -> assertThat(l.source()).isEqualTo("container"));
      pods.terminate(pod.id());
    }
  }

  @Test
  void rejectsIncompleteSpecsAndActionsThatAreNotStateTransitions() {
    assertThatThrownBy(() -> PodSpec.builder().name("x").image("i").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gpuTypeId");
    assertThatThrownBy(() -> PodSpec.builder().name("x").image("i").gpuTypeId("g").port("8080").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("8080/http");
    try (FakeRunPodApi fake = FakeRunPodApi.builder().apiKey(KEY).build(); RunPodPods pods = client(fake, KEY)) {
      assertThatThrownBy(() -> pods.action("p", "terminate")).isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> RunPodPods.builder().build()).hasMessageContaining("apiKey");
  }
}
