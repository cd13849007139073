package dev.securetag.testfixtures;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.TestAbortedException;

class CudaTestDeviceTest {
  private static final String LOAD_ERROR =
      "NVIDIA driver not loadable (UnsatisfiedLinkError: Error while loading native library \"JCudaDriver-12.0.0\")";

  @TempDir Path dev;

  @Test
  void cudaLoadFailureOnAMachineWithAnNvidiaDeviceFailsWithTheLoadError() {
    assertThatThrownBy(() -> CudaTestDevice.requireCuda(Optional.of(LOAD_ERROR), Optional.of("/dev/nvidia0 exists")))
        .isInstanceOf(AssertionError.class).hasMessageContaining("/dev/nvidia0 exists")
        .hasMessageContaining(LOAD_ERROR);
  }

  @Test
  void cudaUnavailableWithoutAnyNvidiaDeviceSkipsWithTheReason() {
    assertThatThrownBy(() -> CudaTestDevice.requireCuda(Optional.of("no CUDA device"), Optional.empty()))
        .isInstanceOf(TestAbortedException.class).hasMessageContaining("no NVIDIA device")
        .hasMessageContaining("no CUDA device");
  }

  @Test
  void usableCudaProceedsWhetherOrNotADeviceWasDetected() {
    assertThatCode(() -> CudaTestDevice.requireCuda(Optional.empty(), Optional.of("/dev/nvidia0 exists")))
        .doesNotThrowAnyException();
    assertThatCode(() -> CudaTestDevice.requireCuda(Optional.empty(), Optional.empty())).doesNotThrowAnyException();
  }

  @Test
  void numberedDeviceNodeIsADeviceButControlNodesAloneAreNot() throws Exception {
    Files.createFile(dev.resolve("nvidiactl"));
    Files.createFile(dev.resolve("nvidia-uvm"));
    assertThat(CudaTestDevice.detect(dev, Optional::empty)).isEmpty();
    Files.createFile(dev.resolve("nvidia1"));
    assertThat(CudaTestDevice.detect(dev, Optional::empty)).contains(dev.resolve("nvidia1") + " exists");
  }

  @Test
  void gpuListedByNvidiaSmiIsADeviceEvenWithoutADeviceNode() {
    String listing = "GPU 0: NVIDIA H200 (UUID: GPU-5f1c2a9e-0000-0000-0000-000000000000)\n";
    assertThat(CudaTestDevice.detect(dev, () -> Optional.of(listing)))
        .contains("nvidia-smi -L: GPU 0: NVIDIA H200 (UUID: GPU-5f1c2a9e-0000-0000-0000-000000000000)");
    // nvidia-smi that ran but lists no GPU (e.g. "No devices found.") is no evidence.
    assertThat(CudaTestDevice.detect(dev, () -> Optional.of("No devices found.\n"))).isEmpty();
    assertThat(CudaTestDevice.detect(dev.resolve("absent"), Optional::empty)).isEmpty();
  }

  @Test
  void detectionOnThisMachineAgreesWithItsDeviceNodes() throws Exception {
    boolean node;
    try (var s = Files.list(Path.of("/dev"))) {
      node = s.anyMatch(p -> p.getFileName().toString().matches("nvidia\\d+"));
    }
    Optional<String> found = CudaTestDevice.detect();
    if (node) {
      assertThat(found).hasValueSatisfying(v -> assertThat(v).startsWith("/dev/nvidia"));
    } else {
      found.ifPresent(v -> assertThat(v).startsWith("nvidia-smi -L: GPU "));
    }
  }
}
