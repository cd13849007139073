package dev.securetag.train.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.testfixtures.CudaTestDevice;
import dev.securetag.train.KernelBackend;
import dev.securetag.train.KernelBackendProvider;
import dev.securetag.train.KernelBackends;
import dev.securetag.train.Nf4Tensor;
import dev.securetag.train.cuda.internal.CudaKernelBackend;
import dev.securetag.train.internal.BnbTables;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/** The CUDA provider as securetag-train finds it: through ServiceLoader, with this module on the class path. */
class CudaKernelBackendProviderTest {

  @Test
  void serviceLoaderFindsTheCudaProviderRankedAboveTheCpuOne() {
    assertThat(KernelBackends.providers()).extracting(KernelBackendProvider::name).containsExactly("cuda", "cpu");
    KernelBackendProvider cuda = KernelBackends.providers().get(0);
    assertThat(cuda).isInstanceOf(CudaKernelBackendProvider.class);
    assertThat(cuda.rank()).isGreaterThan(KernelBackends.providers().get(1).rank());
    assertThat(cuda.unavailableReason()).isEqualTo(CudaKernelBackend.unavailableReason());
  }

  @Test
  void autoSelectionPicksCudaWhereUsableAndSaysWhyNotElsewhere() {
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
        assertThat(s.reason()).isEqualTo("CUDA device available");
      }
    }
  }

  /** Skips only where no NVIDIA device is visible; on a GPU machine a CUDA backend that does not load fails. */
  @Test
  void cudaBackendMatchesScalarReferenceWhereADeviceExists() {
    CudaTestDevice.requireCuda(CudaKernelBackend.unavailableReason(), CudaTestDevice.detect());
    try (KernelBackend cuda = new CudaKernelBackendProvider().open(0)) {
      assertThat(cuda.name()).startsWith("cuda(");
      SplittableRandom r = new SplittableRandom(7);
      int n = 64 * 37 + 13;
      float[] w = random(r, n);
      Nf4Tensor t = Nf4Tensor.quantize(w, new long[] {n}, true);
      float[] got = new float[n];
      t.dequantize(cuda, got);
      float[] scales = t.absmaxDequantized();
      float[] expected = new float[n];
      for (int i = 0; i < n; i++) {
        int b = t.packed()[i / 2] & 0xFF;
        expected[i] = BnbTables.NF4[i % 2 == 0 ? b >> 4 : b & 15] * scales[i / 64];
      }
      assertThat(got).containsExactly(expected);
      int in = 33;
      int rank = 4;
      int out = 21;
      float[] a = random(r, rank * in);
      float[] b = random(r, out * rank);
      float[] base = random(r, out * in);
      float[] merged = base.clone();
      cuda.mergeLora(merged, out, in, a, b, rank, 2f);
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
  }

  private static float[] random(SplittableRandom r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return a;
  }
}
