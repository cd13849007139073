package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.train.TrainCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Docker cannot run here: this checks the Dockerfile's structure against what the SDK and DJL need. */
class TrainerImageTest {
  private final String dockerfile = TrainerImage.dockerfile();

  private List<String> instructions() {
    return dockerfile.replace("\\\n", " ").lines().map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
  }

  @Test
  void buildsOnAPytorchCudaRuntimeWhoseLibtorchMatchesDjlsPytorchJni() {
    List<String> ins = instructions();
    assertThat(ins.get(0)).matches("FROM pytorch/pytorch:2\\.7\\.1-cuda12\\.\\d+-cudnn9-runtime");
    assertThat(ins).allMatch(l -> l.matches("(FROM|RUN|ENV|COPY|WORKDIR|EXPOSE|ENTRYPOINT) .*"));
    assertThat(dockerfile).contains("openjdk-17-jre-headless").contains("libtorch_cuda.so");
    Matcher flavor = Pattern.compile("PYTORCH_FLAVOR=(cu\\d+)").matcher(dockerfile);
    assertThat(flavor.find()).isTrue();
    Matcher cuda = Pattern.compile("cuda(\\d+)\\.(\\d+)").matcher(ins.get(0));
    assertThat(cuda.find()).isTrue();
    assertThat(flavor.group(1)).isEqualTo("cu" + cuda.group(1) + cuda.group(2));
  }

  @Test
  void pointsDjlAtTheImagesLibtorchOfflineAndWithoutTelemetry() {
    assertThat(dockerfile).contains("PYTORCH_LIBRARY_PATH=/opt/libtorch", "PYTORCH_VERSION=2.7.1",
        "DJL_OFFLINE=true", "OPT_OUT_TRACKING=true", "ln -s \"$TORCH_LIB\" /opt/libtorch");
  }

  @Test
  void runsTheTrainCliJobServerOnThePortTheJobUses() {
    String entry = instructions().stream().filter(l -> l.startsWith("ENTRYPOINT")).findFirst().orElseThrow();
    assertThat(entry).contains("\"" + TrainCli.class.getName() + "\"", "\"serve\"",
        "\"" + RunPodTrainingJob.JOB_PORT + "\"", "/opt/securetag/lib/*");
    assertThat(instructions()).contains("EXPOSE " + RunPodTrainingJob.JOB_PORT, "COPY lib/ /opt/securetag/lib/");
    assertThat(TrainCli.DEFAULT_PORT).isEqualTo(RunPodTrainingJob.JOB_PORT);
    assertThat(TrainCli.TOKEN_ENV).isEqualTo(RunPodTrainingJob.TOKEN_ENV);
    assertThat(dockerfile).doesNotContain("SECURETAG_JOB_TOKEN=");
  }

  @Test
  void writesTheDockerfileIntoABuildContext(@TempDir Path dir) throws Exception {
    Path f = TrainerImage.writeTo(dir);
    assertThat(Files.readString(f)).isEqualTo(dockerfile);
  }
}
