package dev.securetag.gguf.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.securetag.gguf.GgmlType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Differential test of the native kernels ({@link NativeKernels}, through {@link QMatrix#dotRows}): each supported
 * type, in both the AVX2 and the AVX-512 VNNI build where the CPU has them, against the scalar integer reference
 * (ggml's generic code), which computes the same integers; only the float additions of per-block sums may differ.
 * Skipped, with the reason, where the library was not built (no C compiler) or cannot run on this CPU.
 */
class NativeKernelsTest {
  private static final int ROWS = 37;

  @AfterEach
  void restoreBestLevel() {
    NativeKernels.forceAvx2(false);
  }

  @ParameterizedTest(name = "{0} x {1} columns, {2}")
  @CsvSource({
      "Q8_0, 1024, best", "Q8_0, 1056, best", "Q8_0, 1024, avx2", "Q8_0, 1056, avx2",
      "Q4_0, 1024, best", "Q4_0, 1056, avx2",
      "Q4_K, 1024, best", "Q4_K, 2816, best", "Q4_K, 1024, avx2", "Q4_K, 2816, avx2",
      "Q6_K, 1024, best", "Q6_K, 2816, best", "Q6_K, 1024, avx2", "Q6_K, 2816, avx2"})
  void nativeRowsEqualTheScalarIntegerReference(GgmlType type, int cols, String level) {
    assumeTrue(NativeKernels.available(), "native kernels: " + NativeKernels.status());
    assertThat(NativeKernels.forceAvx2(level.equals("avx2"))).isTrue();
    Random rnd = new Random(7 + type.ordinal() + cols);
    int rowBytes = (int) type.rowBytes(cols);
    byte[] q = new byte[rowBytes * ROWS];
    float[] w = new float[cols];
    for (int r = 0; r < ROWS; r++) {
      for (int i = 0; i < cols; i++) {
        w[i] = (float) (rnd.nextGaussian() * 0.05 * (i % 97 == 0 ? 8 : 1) * (r == 3 && i < 256 ? 1e-3 : 1));
      }
      type.quantizeRow(w, 0, cols, q, r * rowBytes);
    }
    ByteBuffer buf = ByteBuffer.allocateDirect(q.length + 64).order(ByteOrder.LITTLE_ENDIAN);
    buf.position(64);
    ByteBuffer slice = buf.slice().order(ByteOrder.LITTLE_ENDIAN); // a tensor at an offset inside the mapping
    slice.put(q).flip();
    QMatrix fast = new QMatrix("w", type, slice, ROWS, cols, true);
    QMatrix scalar = new QMatrix("w", type, slice, ROWS, cols, false, false);
    assertThat(fast.nativeKernel()).isTrue();
    float[] scratch = new float[cols];
    for (int trial = 0; trial < 3; trial++) {
      float[] x = new float[cols];
      for (int i = 0; i < cols; i++) {
        x[i] = (float) (rnd.nextGaussian() * (trial == 2 && i % 50 == 0 ? 20 : 1));
      }
      if (trial == 1) {
        Arrays.fill(x, 256, 512, 0f); // an all-zero activation block: scale 0
      }
      Q8Activation a = new Q8Activation(cols);
      a.set(x);
      float[] out = new float[ROWS + 5];
      Arrays.fill(out, Float.NaN);
      // Rows 2..ROWS-1 land at out[3..]: row range and output offset are independent.
      fast.dotRows(2, ROWS, a, out, 3, scratch);
      assertThat(out[0]).isNaN();
      assertThat(out[2]).isNaN();
      for (int r = 2; r < ROWS; r++) {
        float[] row = new float[cols];
        scalar.row(r, row, 0);
        double abs = 0;
        for (int i = 0; i < cols; i++) {
          abs += Math.abs((double) row[i] * x[i]);
        }
        float ref = scalar.dot(r, a, scratch);
        assertThat((double) out[3 + r - 2]).as(type + " " + level + " row " + r + " trial " + trial)
            .isCloseTo(ref, within(2e-6 * abs + 1e-9));
      }
      assertThat(out[ROWS + 1]).isNaN();
    }
  }

  @ParameterizedTest(name = "{0} x {1} columns, batch {2}, {3}")
  @CsvSource({
      "Q8_0, 1024, 9, best", "Q8_0, 1056, 4, avx2", "Q8_0, 2816, 13, best", "Q8_0, 2816, 5, avx2",
      "Q4_K, 1024, 9, best", "Q4_K, 2816, 4, best", "Q4_K, 1024, 7, avx2", "Q4_K, 2816, 1, avx2",
      "Q6_K, 1024, 9, best", "Q6_K, 2816, 8, best", "Q6_K, 1024, 6, avx2", "Q6_K, 2816, 2, avx2"})
  void batchedRowsEqualTheScalarIntegerReferenceForEveryToken(GgmlType type, int cols, int batch, String level) {
    assumeTrue(NativeKernels.available(), "native kernels: " + NativeKernels.status());
    assertThat(NativeKernels.forceAvx2(level.equals("avx2"))).isTrue();
    Random rnd = new Random(11 + type.ordinal() + cols + batch);
    int rowBytes = (int) type.rowBytes(cols);
    byte[] q = new byte[rowBytes * ROWS];
    float[] w = new float[cols];
    for (int r = 0; r < ROWS; r++) {
      for (int i = 0; i < cols; i++) {
        w[i] = (float) (rnd.nextGaussian() * 0.05 * (i % 89 == 0 ? 8 : 1));
      }
      type.quantizeRow(w, 0, cols, q, r * rowBytes);
    }
    ByteBuffer buf = ByteBuffer.allocateDirect(q.length).order(ByteOrder.LITTLE_ENDIAN);
    buf.put(q).flip();
    QMatrix fast = new QMatrix("w", type, buf, ROWS, cols, true);
    QMatrix scalar = new QMatrix("w", type, buf, ROWS, cols, false, false);
    Q8Activation[] in = new Q8Activation[batch];
    for (int t = 0; t < batch; t++) {
      float[] x = new float[cols];
      for (int i = 0; i < cols; i++) {
        x[i] = (float) (rnd.nextGaussian() * (t % 3 == 2 && i % 50 == 0 ? 20 : 1));
      }
      in[t] = new Q8Activation(cols);
      in[t].set(x);
    }
    // Rows 1..ROWS-1 into a strided output: token t's products at out[2 + t * ROWS + r - 1].
    Q8Batch xb = new Q8Batch(batch, cols, ROWS).fill(fast, in, batch);
    float[] out = new float[2 + batch * ROWS];
    Arrays.fill(out, Float.NaN);
    assertThat(fast.dotRowsBatch(1, ROWS, xb, out, 2, ROWS)).isTrue();
    float[] scratch = new float[cols];
    for (int t = 0; t < batch; t++) {
      for (int r = 1; r < ROWS; r++) {
        float[] row = new float[cols];
        scalar.row(r, row, 0);
        double abs = 0;
        for (int i = 0; i < cols; i++) {
          abs += Math.abs((double) row[i] * in[t].floats()[i]);
        }
        assertThat((double) out[2 + t * ROWS + r - 1]).as(type + " " + level + " token " + t + " row " + r)
            .isCloseTo(scalar.dot(r, in[t], scratch), within(2e-6 * abs + 1e-9));
      }
      assertThat(out[2 + t * ROWS + ROWS - 1]).as("gap after token " + t).isNaN();
    }
  }

  @Test
  void heapBuffersAndTypesWithoutANativeKernelUseTheJavaKernels() {
    assumeTrue(NativeKernels.available(), "native kernels: " + NativeKernels.status());
    int cols = 256;
    ByteBuffer heap = ByteBuffer.allocate((int) GgmlType.Q4_K.rowBytes(cols) * 2);
    assertThat(new QMatrix("w", GgmlType.Q4_K, heap, 2, cols, true).nativeKernel()).isFalse();
    ByteBuffer direct = ByteBuffer.allocateDirect((int) GgmlType.Q5_K.rowBytes(cols) * 2);
    QMatrix q5 = new QMatrix("w", GgmlType.Q5_K, direct, 2, cols, true);
    assertThat(q5.nativeKernel()).isFalse();
    Q8Activation a = new Q8Activation(cols);
    a.set(new float[cols]);
    float[] out = new float[2];
    Arrays.fill(out, Float.NaN);
    q5.dotRows(0, 2, a, out, 0, new float[cols]);
    assertThat(out).containsExactly(0f, 0f);
    // Q4_0 rows go native one token at a time; its batches stay in the faster Java float kernel.
    ByteBuffer q40 = ByteBuffer.allocateDirect((int) GgmlType.Q4_0.rowBytes(cols));
    QMatrix q4_0 = new QMatrix("w", GgmlType.Q4_0, q40, 1, cols, true);
    assertThat(q4_0.nativeKernel()).isTrue();
    assertThat(q4_0.nativeBatchKernel()).isFalse();
    assertThat(q4_0.dotRowsBatch(0, 1, new Q8Batch(1, cols, 1).fill(q4_0, new Q8Activation[] {a}, 1), new float[1], 0,
        1)).isFalse();
    ByteBuffer q4 = ByteBuffer.allocateDirect((int) GgmlType.Q4_K.rowBytes(cols));
    assertThat(new QMatrix("w", GgmlType.Q4_K, q4, 1, cols, true, false).nativeKernel()).isFalse();
    assertThat(new QMatrix("w", GgmlType.Q4_K, q4, 1, cols, true).nativeKernel()).isTrue();
  }

  @Test
  void loadsWhereTheBuildWasRequiredToBuildThem() {
    // CI's main pass sets SECURETAG_REQUIRE_NATIVE=true: the library must then be in the classes and load, so that
    // the tests above ran rather than skipped.
    assumeTrue("true".equals(System.getenv("SECURETAG_REQUIRE_NATIVE")), "SECURETAG_REQUIRE_NATIVE is not set");
    assertThat(NativeKernels.status()).doesNotContain("not in this build").doesNotStartWith("failed");
  }

  @Test
  void saysWhichInstructionSetRunsOrWhyNone() {
    if (NativeKernels.available()) {
      assertThat(NativeKernels.status()).isIn("AVX2", "AVX-512 VNNI");
    } else {
      // A JDK-only machine (no C compiler when the module was built): the reason names what is missing.
      assertThat(NativeKernels.status()).containsAnyOf("not in this build", "not built for", "no AVX2", "off (", "failed");
    }
  }
}
