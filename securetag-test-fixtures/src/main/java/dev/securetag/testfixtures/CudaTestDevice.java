package dev.securetag.testfixtures;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * Decides what a CUDA test does when the CUDA backend is unavailable: skip (with the reason) only where no NVIDIA
 * device is visible; where one is (a {@code /dev/nvidiaN} node or a GPU listed by {@code nvidia-smi -L}), failing to
 * load CUDA is a test failure carrying the load error, so a broken JCuda or driver setup on a GPU machine is not
 * reported as a harmless skip. Detection takes its inputs as parameters so the decision is testable without a GPU.
 * Shared by the tests of securetag-train (the DJL CUDA device) and securetag-train-cuda (the JCuda backend).
 */
public final class CudaTestDevice {
  private static final Pattern DEVICE_NODE = Pattern.compile("nvidia\\d+");

  private CudaTestDevice() {}

  /** Evidence of an NVIDIA device on this machine, or empty when there is none. */
  public static Optional<String> detect() {
    return detect(Path.of("/dev"), CudaTestDevice::nvidiaSmiList);
  }

  /**
   * Evidence of an NVIDIA device: the first {@code nvidiaN} node under {@code devDir}, else the first {@code GPU N:}
   * line of {@code nvidia-smi -L} (the supplier gives its output when it ran and exited 0, else empty).
   */
  public static Optional<String> detect(Path devDir, Supplier<Optional<String>> nvidiaSmiList) {
    if (Files.isDirectory(devDir)) {
      try (Stream<Path> s = Files.list(devDir)) {
        Optional<Path> node = s.filter(p -> DEVICE_NODE.matcher(p.getFileName().toString()).matches()).sorted()
            .findFirst();
        if (node.isPresent()) {
          return Optional.of(node.get() + " exists");
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list " + devDir, e);
      }
    }
    return nvidiaSmiList.get().flatMap(out -> out.lines().map(String::strip).filter(l -> l.startsWith("GPU "))
        .findFirst().map(l -> "nvidia-smi -L: " + l));
  }

  /**
   * Returns normally when CUDA is usable ({@code unavailableReason} empty). Otherwise aborts the test (a skip) with
   * the reason when {@code device} is empty, and fails it with the load error when a device was detected.
   */
  public static void requireCuda(Optional<String> unavailableReason, Optional<String> device) {
    if (unavailableReason.isEmpty()) {
      return;
    }
    if (device.isPresent()) {
      throw new AssertionError("an NVIDIA device is present (" + device.get() + ") but the CUDA backend did not load: "
          + unavailableReason.get());
    }
    Assumptions.abort("no NVIDIA device (no /dev/nvidiaN, no GPU from nvidia-smi); CUDA backend unavailable: "
        + unavailableReason.get());
  }

  /** Output of {@code nvidia-smi -L} when it is on PATH and exits 0 within 30 s; empty otherwise. */
  private static Optional<String> nvidiaSmiList() {
    Path log = null;
    try {
      log = Files.createTempFile("nvidia-smi", ".txt");
      Process p = new ProcessBuilder("nvidia-smi", "-L").redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return Optional.empty();
      }
      return p.exitValue() == 0 ? Optional.of(Files.readString(log, StandardCharsets.UTF_8)) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    } finally {
      if (log != null) {
        try {
          Files.deleteIfExists(log);
        } catch (IOException ignored) {
          // a leftover temp file does not change the answer
        }
      }
    }
  }
}
