package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.train.internal.BnbTables;
import dev.securetag.train.internal.CpuKernelBackend;
import dev.securetag.train.internal.CudaKernelBackend;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class KernelBackendsTest {

  private static float[] random(SplittableRandom r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return a;
  }

  /** The one scalar reference both backends are checked against. */
  private static float[] referenceDequant(byte[] packed, float[] scales, int bs, int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      int b = packed[i / 2] & 0xFF;
      out[i] = BnbTables.NF4[i % 2 == 0 ? b >> 4 : b & 15] * scales[i / bs];
    }
    return out;
  }

  static void checkBackend(KernelBackend kb) {
    SplittableRandom r = new SplittableRandom(7);
    int n = 64 * 37 + 13;
    float[] w = random(r, n);
    Nf4Tensor t = Nf4Tensor.quantize(w, new long[] {n}, true);
    float[] got = new float[n];
    t.dequantize(kb, got);
    assertThat(got).containsExactly(referenceDequant(t.packed(), t.absmaxDequantized(), 64, n));

    int in = 33;
    int rank = 4;
    int out = 21;
    float[] a = random(r, rank * in);
    float[] b = random(r, out * rank);
    float[] base = random(r, out * in);
    float[] merged = base.clone();
    kb.mergeLora(merged, out, in, a, b, rank, 2f);
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        double d = 0;
        for (int k = 0; k < rank; k++) {
          d += (double) b[o * rank + k] * a[k * in + i];
        }
        assertThat((double) merged[o * in + i]).isCloseTo(base[o * in + i] + 2 * d, Offset.offset(1e-5));
      }
    }
  }

  @Test
  void cpuBackendMatchesScalarReferenceWithOneAndSeveralThreads() {
    try (CpuKernelBackend one = new CpuKernelBackend(1); CpuKernelBackend three = new CpuKernelBackend(3)) {
      checkBackend(one);
      checkBackend(three);
      assertThat(three.name()).isEqualTo("cpu(3 threads)");
    }
  }

  /** Skips only where no NVIDIA device is visible; on a GPU machine a CUDA backend that does not load fails. */
  @Test
  void cudaBackendMatchesScalarReferenceWhereADeviceExists() {
    CudaTestDevice.requireCuda(CudaKernelBackend.unavailableReason(), CudaTestDevice.detect());
    try (KernelBackend cuda = CudaKernelBackend.open()) {
      checkBackend(cuda);
    }
  }

  @Test
  void autoSelectionExplainsWhyCudaWasNotChosen() {
    var reason = CudaKernelBackend.unavailableReason();
    KernelBackends.Selection s = KernelBackends.select(KernelBackends.Preference.AUTO, 2);
    try (KernelBackend kb = s.backend()) {
      if (reason.isPresent()) {
        assertThat(kb.name()).startsWith("cpu");
        assertThat(s.reason()).contains("CUDA unavailable").contains(reason.get());
        assertThatThrownBy(() -> KernelBackends.select(KernelBackends.Preference.CUDA, 1))
            .isInstanceOf(IllegalStateException.class).hasMessageContaining(reason.get());
      } else {
        assertThat(kb.name()).startsWith("cuda");
      }
    }
    KernelBackends.Selection cpu = KernelBackends.select(KernelBackends.Preference.CPU, 1);
    cpu.backend().close();
    cpu.backend().close();
    assertThatThrownBy(() -> cpu.backend().mergeLora(new float[1], 1, 1, new float[1], new float[1], 1, 1f))
        .isInstanceOf(IllegalStateException.class);
  }
}
