package dev.securetag.train.cuda;

import dev.securetag.train.KernelBackend;
import dev.securetag.train.KernelBackendProvider;
import dev.securetag.train.cuda.internal.CudaKernelBackend;
import java.util.Optional;

/**
 * The CUDA kernel backend (NF4 dequantization and LoRA merge as PTX kernels through the JCuda driver API, which needs
 * only the NVIDIA driver), registered with {@link java.util.ServiceLoader}: with this module on the class path,
 * {@code KernelBackends.select(AUTO, ..)} picks CUDA wherever {@code cuInit} finds a device, and falls back to the CPU
 * backend with the reason where it does not. Rank 100.
 */
public final class CudaKernelBackendProvider implements KernelBackendProvider {

  @Override
  public String name() {
    return "cuda";
  }

  @Override
  public int rank() {
    return 100;
  }

  /** Probed once per JVM: a missing driver surfaces as a LinkageError that must not be provoked twice. */
  @Override
  public Optional<String> unavailableReason() {
    return CudaKernelBackend.unavailableReason();
  }

  /** Opens the backend on device 0; {@code threads} is unused (the GPU does the work). */
  @Override
  public KernelBackend open(int threads) {
    return CudaKernelBackend.open();
  }
}
