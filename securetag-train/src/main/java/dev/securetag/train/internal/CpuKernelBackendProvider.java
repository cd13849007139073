package dev.securetag.train.internal;

import dev.securetag.train.KernelBackend;
import dev.securetag.train.KernelBackendProvider;
import java.util.Optional;

/** The multi-threaded Java backend: always available, rank 0 (chosen when nothing better is). */
public final class CpuKernelBackendProvider implements KernelBackendProvider {

  @Override
  public String name() {
    return "cpu";
  }

  @Override
  public int rank() {
    return 0;
  }

  @Override
  public Optional<String> unavailableReason() {
    return Optional.empty();
  }

  @Override
  public KernelBackend open(int threads) {
    return new CpuKernelBackend(threads);
  }
}
