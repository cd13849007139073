package dev.securetag.train;

import dev.securetag.train.internal.CpuKernelBackend;
import dev.securetag.train.internal.CudaKernelBackend;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses a {@link KernelBackend}: CUDA when a device and driver are usable, otherwise the multi-threaded CPU one,
 * always with the reason for the choice. The system property / environment variable {@code securetag.kernels} /
 * {@code SECURETAG_KERNELS} ({@code auto}, {@code cpu}, {@code cuda}) overrides {@link Preference#AUTO}.
 */
public final class KernelBackends {
  private static final Logger LOG = LoggerFactory.getLogger(KernelBackends.class);

  /** Which backend the caller wants. */
  public enum Preference {
    /** CUDA if available, else CPU. */
    AUTO,
    /** Always the CPU backend. */
    CPU,
    /** CUDA or fail with the reason it is unavailable. */
    CUDA
  }

  /** The chosen backend and why it was chosen. */
  public record Selection(KernelBackend backend, String reason) {}

  private KernelBackends() {}

  /** Selects a backend with {@code threads} CPU worker threads (0 = available processors). */
  public static Selection select(Preference preference, int threads) {
    Preference p = preference == Preference.AUTO ? fromEnvironment() : preference;
    if (p == Preference.CPU) {
      return new Selection(new CpuKernelBackend(threads), "CPU backend requested");
    }
    Optional<String> unavailable = CudaKernelBackend.unavailableReason();
    if (unavailable.isEmpty()) {
      KernelBackend cuda = CudaKernelBackend.open();
      LOG.info("kernel backend: {}", cuda.name());
      return new Selection(cuda, "CUDA device available");
    }
    if (p == Preference.CUDA) {
      throw new IllegalStateException("CUDA kernel backend requested but unavailable: " + unavailable.get());
    }
    LOG.info("kernel backend: CPU ({})", unavailable.get());
    return new Selection(new CpuKernelBackend(threads), "CUDA unavailable: " + unavailable.get());
  }

  /** {@link #select(Preference, int)} with AUTO and all processors. */
  public static Selection auto() {
    return select(Preference.AUTO, 0);
  }

  private static Preference fromEnvironment() {
    String v = System.getProperty("securetag.kernels", System.getenv("SECURETAG_KERNELS"));
    if (v == null || v.isBlank() || v.equalsIgnoreCase("auto")) {
      return Preference.AUTO;
    }
    try {
      return Preference.valueOf(v.trim().toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("securetag.kernels must be auto, cpu or cuda, was '" + v + "'", e);
    }
  }
}
