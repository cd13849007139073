package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.train.internal.BnbTables;
import dev.securetag.train.internal.CpuKernelBackend;
import java.util.List;
import java.util.Optional;
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

  /** A provider of the real CPU kernels under another name and rank, to exercise the selection rules. */
  private record Provider(String name, int rank, Optional<String> unavailableReason, int threads)
      implements KernelBackendProvider {
    @Override
    public KernelBackend open(int ignored) {
      return new CpuKernelBackend(threads);
    }
  }

  @Test
  void withoutTheCudaModuleAutoSelectsCpuAndNamesTheMissingModule() {
    assertThat(KernelBackends.providers()).extracting(KernelBackendProvider::name).containsExactly("cpu");
    KernelBackends.Selection s = KernelBackends.select(KernelBackends.Preference.AUTO, 2);
    try (KernelBackend kb = s.backend()) {
      assertThat(kb.name()).isEqualTo("cpu(2 threads)");
      assertThat(s.reason()).contains("CUDA unavailable").contains("securetag-train-cuda");
    }
    assertThatThrownBy(() -> KernelBackends.select(KernelBackends.Preference.CUDA, 1))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("securetag-train-cuda");
    KernelBackends.Selection cpu = KernelBackends.select(KernelBackends.Preference.CPU, 1);
    cpu.backend().close();
    cpu.backend().close();
    assertThat(cpu.reason()).isEqualTo("CPU backend requested");
    assertThatThrownBy(() -> cpu.backend().mergeLora(new float[1], 1, 1, new float[1], new float[1], 1, 1f))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void autoPicksTheAvailableProviderOfHighestRankAndExplainsTheSkippedOnes() {
    List<KernelBackendProvider> providers = List.of(new Provider("cpu", 0, Optional.empty(), 1),
        new Provider("cuda", 100, Optional.of("no CUDA device"), 2), new Provider("fast", 50, Optional.empty(), 3));
    KernelBackends.Selection s = KernelBackends.select(KernelBackends.Preference.AUTO, 1, providers);
    try (KernelBackend kb = s.backend()) {
      assertThat(kb.name()).isEqualTo("cpu(3 threads)");
    }
    assertThat(s.reason()).isEqualTo("CUDA unavailable: no CUDA device");
    KernelBackends.Selection cuda = KernelBackends.select(KernelBackends.Preference.AUTO, 1,
        List.of(new Provider("cpu", 0, Optional.empty(), 1), new Provider("cuda", 100, Optional.empty(), 2)));
    try (KernelBackend kb = cuda.backend()) {
      assertThat(kb.name()).isEqualTo("cpu(2 threads)");
    }
    assertThat(cuda.reason()).isEqualTo("CUDA device available");
    assertThatThrownBy(() -> KernelBackends.select(KernelBackends.Preference.CUDA, 1, providers))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("no CUDA device");
    assertThatThrownBy(() -> KernelBackends.select(KernelBackends.Preference.AUTO, 1,
        List.of(new Provider("cuda", 100, Optional.of("no driver"), 1))))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("no driver");
  }
}
