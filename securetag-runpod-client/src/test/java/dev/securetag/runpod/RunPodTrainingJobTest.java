package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.ProgressListener;
import dev.securetag.core.RetryPolicy;
import dev.securetag.core.internal.Json;
import dev.securetag.testing.FakeRunPodApi;
import dev.securetag.testing.TinyLlamaFactory;
import dev.securetag.train.TrainCli;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The orchestration against the fake pods API, whose "pod" runs the real {@code TrainCli} job server (and so the real
 * {@code QloraTrainer} on a tiny model) behind the fake's proxy.
 */
class RunPodTrainingJobTest {
  private static final String KEY = "rpa_TRAINKEY0123456789";

  @TempDir
  static Path shared;
  static Path volume;
  static Path baseModel;
  static Path train;

  @BeforeAll
  static void corpus() throws Exception {
    volume = shared.resolve("network-volume");
    baseModel = TinyLlamaFactory.builder().seed(3).build().writeTo(volume.resolve("models/tiny"));
    StringBuilder sb = new StringBuilder();
    String[][] rows = {
        {"What does control A.5.1 require?", "Policies for information security shall be defined and approved."},
        {"What is an asset?", "Any item that has value to the organization."},
        {"Who owns a risk?", "The person accountable for managing the risk."},
        {"How often is the policy reviewed?", "At least annually and after major incidents."}};
    for (String[] r : rows) {
      sb.append(Json.write(Json.object().put("instruction", r[0]).put("input", "").put("output", r[1]))).append('\n');
    }
    train = shared.resolve("train.jsonl");
    Files.writeString(train, sb.toString());
  }

  /** The trainer image's entrypoint, in process: the job server with the token from the pod's environment. */
  static FakeRunPodApi.PodRuntime trainerImage(Path podDisks) {
    return (podId, env) -> {
      TrainCli.JobServer server = TrainCli.JobServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
          podDisks.resolve(podId), env.get(TrainCli.TOKEN_ENV));
      List<String> log = List.of("securetag job server listening on port " + TrainCli.DEFAULT_PORT);
      return new FakeRunPodApi.Container() {
        @Override
        public int localPort(int containerPort) {
          return containerPort == TrainCli.DEFAULT_PORT ? server.port() : -1;
        }

        @Override
        public List<String> logLines() {
          return log;
        }

        @Override
        public void close() {
          server.close();
        }
      };
    };
  }

  private static RunPodPods pods(FakeRunPodApi fake) {
    return RunPodPods.builder().apiKey(KEY).baseUrl(fake.baseUrl()).proxyUrlTemplate(fake.proxyUrlTemplate())
        .retry(RetryPolicy.builder().initialBackoff(Duration.ofMillis(10)).build()).build();
  }

  private static RunPodTrainingJob.Builder job(RunPodPods pods, Path out, int steps) {
    return RunPodTrainingJob.builder().pods(pods)
        .pod(PodSpec.builder().name("securetag-train").image("ghcr.io/acme/securetag-trainer:0.1.0")
            .gpuTypeId("NVIDIA H100 80GB HBM3").networkVolume("vol_abc123", "/runpod-volume").build())
        .trainData(train).option("baseModel", baseModel.toString()).option("steps", steps).option("batchSize", 2)
        .option("maxSeqLength", 64).option("learningRate", 0.003).option("warmupSteps", 0).option("loraR", 4)
        .outputDir(out).pollInterval(Duration.ofMillis(100)).startTimeout(Duration.ofSeconds(60));
  }

  @Test
  void trainsOnAPodAfterASlowStartDownloadsAdapterAndMergedCheckpointAndTerminatesThePod(@TempDir Path tmp) {
    List<ProgressListener.Progress> progress = new CopyOnWriteArrayList<>();
    List<String> logs = new CopyOnWriteArrayList<>();
    try (FakeRunPodApi fake = FakeRunPodApi.builder().apiKey(KEY).podRuntime(trainerImage(tmp.resolve("pods")))
        .startDelay(Duration.ofMillis(1500)).build(); RunPodPods pods = pods(fake)) {
      RunPodTrainingJob.Result r = job(pods, tmp.resolve("run"), 3).listener(progress::add).logs(logs::add).build()
          .run();

      assertThat(r.steps()).isEqualTo(3);
      assertThat(r.finalLoss()).isFinite().isPositive();
      assertThat(r.adapterDir().resolve("adapter_config.json")).isRegularFile();
      assertThat(r.adapterDir().resolve("adapter_model.safetensors")).isRegularFile();
      assertThat(r.mergedDir()).hasValueSatisfying(m -> {
        assertThat(m.resolve("config.json")).isRegularFile();
        assertThat(m.resolve("model.safetensors")).isRegularFile();
      });
      assertThat(progress).filteredOn(p -> p.phase().equals("train")).extracting(ProgressListener.Progress::done)
          .containsExactly(1L, 2L, 3L);
      assertThat(logs).anyMatch(l -> l.startsWith("uploaded train.jsonl")).anyMatch(l -> l.startsWith("training "))
          .noneMatch(l -> l.contains(KEY));
      // no pod left billing
      assertThat(fake.livePods()).isEmpty();
      assertThat(fake.terminated()).containsExactly(r.podId());
      // the job token went to the pod in its environment, and the proxy demanded it
      assertThat(fake.requests()).filteredOn(q -> q.startsWith("POST /v2/pods")).hasSize(1);
    }
  }

  @Test
  void aRefusedCreateFailsWithRunPodsReasonAndLeavesNoPod(@TempDir Path tmp) {
    try (FakeRunPodApi fake = FakeRunPodApi.builder().apiKey(KEY).podRuntime(trainerImage(tmp)).build();
        RunPodPods pods = pods(fake)) {
      fake.refuseCreates(1, 400, "There are no longer any instances available with the requested specifications.");
      assertThatThrownBy(() -> job(pods, tmp.resolve("run"), 3).build().run())
          .isInstanceOf(RunPodException.class).hasMessageContaining("no longer any instances");
      assertThat(fake.livePods()).isEmpty();
    }
  }

  @Test
  void aPodLostMidRunIsATypedErrorAndTheTerminateIsStillSent(@TempDir Path tmp) {
    AtomicReference<FakeRunPodApi> api = new AtomicReference<>();
    ProgressListener loseAfterFirstStep = p -> {
      if (p.phase().equals("train") && p.done() == 1) {
        api.get().livePods().forEach(api.get()::losePod);
      }
    };
    try (FakeRunPodApi fake = FakeRunPodApi.builder().apiKey(KEY).podRuntime(trainerImage(tmp.resolve("pods")))
        .startDelay(Duration.ZERO).build(); RunPodPods pods = pods(fake)) {
      api.set(fake);
      assertThatThrownBy(() -> job(pods, tmp.resolve("run"), 500).listener(loseAfterFirstStep).build().run())
          .isInstanceOfSatisfying(PodJobException.class, e -> {
            assertThat(e.reason()).isEqualTo(PodJobException.Reason.POD_LOST);
            assertThat(e.podId()).isPresent();
            assertThat(fake.terminated()).containsExactly(e.podId().get());
          });
      assertThat(fake.livePods()).isEmpty();
    }
  }

  @Test
  void aPodThatDoesNotComeUpInTimeIsTerminated(@TempDir Path tmp) {
    try (FakeRunPodApi fake = FakeRunPodApi.builder().apiKey(KEY).podRuntime(trainerImage(tmp.resolve("pods")))
        .startDelay(Duration.ofSeconds(30)).build(); RunPodPods pods = pods(fake)) {
      assertThatThrownBy(() -> job(pods, tmp.resolve("run"), 3).startTimeout(Duration.ofMillis(800)).build().run())
          .isInstanceOfSatisfying(PodJobException.class,
              e -> assertThat(e.reason()).isEqualTo(PodJobException.Reason.START_TIMEOUT));
      assertThat(fake.livePods()).isEmpty();
      assertThat(fake.terminated()).hasSize(1);
    }
  }

  @Test
  void anInterruptedRunTerminatesThePod(@TempDir Path tmp) throws Exception {
    try (FakeRunPodApi fake = FakeRunPodApi.builder().apiKey(KEY).podRuntime(trainerImage(tmp.resolve("pods")))
        .startDelay(Duration.ZERO).build(); RunPodPods pods = pods(fake)) {
      AtomicReference<Throwable> outcome = new AtomicReference<>();
      AtomicReference<Thread> runner = new AtomicReference<>();
      ProgressListener interruptAtFirstStep = p -> {
        if (p.phase().equals("train") && p.done() == 1) {
          runner.get().interrupt();
        }
      };
      Thread t = new Thread(() -> {
        try {
          job(pods, tmp.resolve("run"), 500).listener(interruptAtFirstStep).build().run();
        } catch (Throwable e) {
          outcome.set(e);
        }
      });
      runner.set(t);
      t.start();
      t.join(Duration.ofSeconds(90).toMillis());
      assertThat(t.isAlive()).isFalse();
      assertThat(outcome.get()).isInstanceOf(CancellationException.class);
      assertThat(fake.livePods()).isEmpty();
      assertThat(fake.terminated()).hasSize(1);
    }
  }

  @Test
  void aJobThatFailsOnThePodReportsWhyAndTerminatesIt(@TempDir Path tmp) {
    try (FakeRunPodApi fake = FakeRunPodApi.builder().apiKey(KEY).podRuntime(trainerImage(tmp.resolve("pods")))
        .startDelay(Duration.ZERO).build(); RunPodPods pods = pods(fake)) {
      assertThatThrownBy(() -> job(pods, tmp.resolve("run"), 3).option("baseModel", "/runpod-volume/models/missing")
          .build().run())
          .isInstanceOfSatisfying(PodJobException.class, e -> {
            assertThat(e.reason()).isEqualTo(PodJobException.Reason.JOB_FAILED);
            assertThat(e.getMessage()).contains("/runpod-volume/models/missing");
          });
      assertThat(fake.livePods()).isEmpty();
      assertThat(fake.terminated()).hasSize(1);
    }
  }
}
