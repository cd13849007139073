package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.train.internal.BnbTables;
import dev.securetag.train.internal.CpuKernelBackend;
import dev.securetag.train.internal.CudaKernelBackend;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Assumptions;
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

  private static double[] referenceLora(float[] x, int rows, int in, float[] a, int r, float[] b, int out, float s,
      float[] y0) {
    double[] y = new double[rows * out];
    for (int i = 0; i < rows; i++) {
      for (int o = 0; o < out; o++) {
        double acc = 0;
        for (int k = 0; k < r; k++) {
          double xa = 0;
          for (int j = 0; j < in; j++) {
            xa += (double) x[i * in + j] * a[k * in + j];
          }
          acc += xa * b[o * r + k];
        }
        y[i * out + o] = y0[i * out + o] + s * acc;
      }
    }
    return y;
  }

  static void checkBackend(KernelBackend kb) {
    SplittableRandom r = new SplittableRandom(7);
    int n = 64 * 37 + 13;
    float[] w = random(r, n);
    Nf4Tensor t = Nf4Tensor.quantize(w, new long[] {n}, true);
    float[] got = new float[n];
    t.dequantize(kb, got);
    assertThat(got).containsExactly(referenceDequant(t.packed(), t.absmaxDequantized(), 64, n));

    int rows = 7;
    int in = 33;
    int rank = 4;
    int out = 21;
    float[] x = random(r, rows * in);
    float[] a = random(r, rank * in);
    float[] b = random(r, out * rank);
    float[] y = random(r, rows * out);
    double[] expect = referenceLora(x, rows, in, a, rank, b, out, 0.5f, y);
    kb.loraMatmul(x, rows, in, a, rank, b, out, 0.5f, y);
    for (int i = 0; i < y.length; i++) {
      assertThat((double) y[i]).isCloseTo(expect[i], Offset.offset(1e-4));
    }

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

  @Test
  void cudaBackendMatchesScalarReferenceWhereADeviceExists() {
    var reason = CudaKernelBackend.unavailableReason();
    Assumptions.assumeTrue(reason.isEmpty(), () -> "no CUDA device: " + reason.orElse(""));
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
