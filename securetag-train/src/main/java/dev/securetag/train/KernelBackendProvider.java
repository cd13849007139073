package dev.securetag.train;

import java.util.Optional;

/**
 * A kernel backend implementation, found with {@link java.util.ServiceLoader} (DJL's engine-provider pattern): the
 * CPU backend ships in securetag-train, the CUDA one in securetag-train-cuda, and putting that jar on the class path is
 * all it takes for {@link KernelBackends#select} to consider it. Implementations are listed in
 * {@code META-INF/services/dev.securetag.train.KernelBackendProvider} and need a public no-argument constructor.
 */
public interface KernelBackendProvider {

  /** The name a preference or {@code -Dsecuretag.kernels} selects it by, e.g. {@code cpu} or {@code cuda}. */
  String name();

  /** Preference under {@link KernelBackends.Preference#AUTO}: the available provider of highest rank wins (CPU is 0). */
  int rank();

  /**
   * Why this backend cannot run here (no driver, no device), or empty when it can. May probe native libraries; callers
   * ask once per selection.
   */
  Optional<String> unavailableReason();

  /**
   * Opens the backend; call only when {@link #unavailableReason()} is empty.
   *
   * @param threads CPU worker threads where the backend uses them; 0 means all processors
   */
  KernelBackend open(int threads);
}
