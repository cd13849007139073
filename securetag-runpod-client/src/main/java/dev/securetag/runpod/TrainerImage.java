package dev.securetag.runpod;

import dev.securetag.core.internal.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The Dockerfile of the trainer image that {@link RunPodTrainingJob} runs on a GPU pod: PyTorch's CUDA runtime image
 * (for its libtorch: Maven Central has none built for CUDA), a JDK 17, the securetag jars, DJL pointed at that libtorch
 * ({@code PYTORCH_LIBRARY_PATH}, {@code PYTORCH_VERSION}, {@code PYTORCH_FLAVOR}, offline, no telemetry), and
 * {@code TrainCli serve} on port {@value RunPodTrainingJob#JOB_PORT} as the entrypoint. See the module README for the
 * build steps.
 */
public final class TrainerImage {
  private static final String RESOURCE = "/dev/securetag/runpod/trainer/Dockerfile";

  private TrainerImage() {}

  /** The Dockerfile text. */
  public static String dockerfile() {
    try (InputStream in = TrainerImage.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + RESOURCE);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes {@code Dockerfile} into {@code dir} (the build context; put the jars in {@code dir/lib}). */
  public static Path writeTo(Path dir) {
    Path f = dir.resolve("Dockerfile");
    AtomicFiles.writeString(f, dockerfile());
    return f;
  }
}
