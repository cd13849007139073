package dev.securetag.gguf.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.securetag.gguf.GgmlType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Differential test of the per-format integer dot products ({@link Q8_0Kernels}, {@link Q4_KKernels}, ...): each
 * type's Vector API kernel (through {@link QMatrix#dot(int, Q8Activation, float[])}) against the scalar integer
 * reference beside it, which must agree up to float summation order, and both against the float
 * reference (dequantized weights times float activations, in float64), which they may only leave by the rounding of
 * the activations to their 8-bit grid.
 */
class QuantKernelsTest {
  private static final int ROWS = 9;
  private static final int COLS = 1024;

  @ParameterizedTest
  @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
  void vectorKernelsEqualTheScalarIntegerReferenceAndStayNearTheFloatReference(GgmlType type) {
    Random rnd = new Random(31 + type.ordinal());
    int rowBytes = (int) type.rowBytes(COLS);
    byte[] q = new byte[rowBytes * ROWS];
    float[] w = new float[COLS];
    for (int r = 0; r < ROWS; r++) {
      for (int i = 0; i < COLS; i++) {
        // Mixed magnitudes: some blocks tiny, some with an outlier, as in real weight rows.
        w[i] = (float) (rnd.nextGaussian() * 0.05 * (i % 97 == 0 ? 8 : 1) * (r == 3 && i < 256 ? 1e-3 : 1));
      }
      type.quantizeRow(w, 0, COLS, q, r * rowBytes);
    }
    ByteBuffer buf = ByteBuffer.allocateDirect(q.length).order(ByteOrder.LITTLE_ENDIAN);
    buf.put(q).flip();
    QMatrix vector = new QMatrix("w", type, buf, ROWS, COLS, true);
    QMatrix scalar = new QMatrix("w", type, buf, ROWS, COLS, false);
    assertThat(vector.integer()).isTrue();
    float[] scratch = new float[COLS];
    double relSum = 0;
    for (int trial = 0; trial < 3; trial++) {
      float[] x = new float[COLS];
      for (int i = 0; i < COLS; i++) {
        x[i] = (float) (rnd.nextGaussian() * (trial == 2 && i % 50 == 0 ? 20 : 1));
      }
      if (trial == 1) {
        java.util.Arrays.fill(x, 256, 512, 0f); // an all-zero block: scale 0
      }
      Q8Activation a = new Q8Activation(COLS);
      a.set(x);
      for (int r = 0; r < ROWS; r++) {
        float[] row = new float[COLS];
        scalar.row(r, row, 0);
        double exact = 0;
        double abs = 0;
        double bound = 0;
        for (int i = 0; i < COLS; i++) {
          exact += (double) row[i] * x[i];
          abs += Math.abs((double) row[i] * x[i]);
          bound += Math.abs(row[i]) * 0.5001 * step(a, type, i);
        }
        float ref = scalar.dot(r, a, scratch);
        float fast = vector.dot(r, a, scratch);
        // Same integers, different float order: a few ulps of the sum of the magnitudes.
        assertThat((double) fast).as(type + " vector vs scalar integer, row " + r).isCloseTo(ref, within(2e-6 * abs + 1e-9));
        // Against the float reference the only change is the activation rounding: |x - d*q| <= d/2 per value.
        assertThat(Math.abs(ref - exact)).as(type + " integer vs float reference, row " + r)
            .isLessThanOrEqualTo(bound + 2e-6 * abs);
        assertThat((double) vector.dot(r, x, 0, scratch)).as(type + " float kernel row " + r)
            .isCloseTo(exact, within(1e-5 * abs + 1e-7));
        relSum += Math.abs(ref - exact) / abs;
      }
    }
    // On average the 8-bit activations move a product by well under 0.5 % of its magnitude.
    assertThat(relSum / (3 * ROWS)).as(type + " mean relative change").isLessThan(0.005);
  }

  /** The activation grid step of value {@code i} for the grid {@code type} uses. */
  private static double step(Q8Activation a, GgmlType type, int i) {
    if (Q8Activation.usesQ8K(type)) {
      return Math.abs(a.q8_K().dk[i / 256]);
    }
    // The q8_0 scale is stored as fp16; the values were rounded against the unrounded amax/127.
    return Math.abs(a.q8_0().d0[i / 32]) * 1.001;
  }

  @ParameterizedTest
  @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_K", "Q6_K"})
  void batchInputIsTheDequantizedEightBitActivation(GgmlType type) {
    Q8Activation a = new Q8Activation(512);
    float[] x = new float[512];
    Random rnd = new Random(5);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    a.set(x);
    QMatrix m = new QMatrix("w", type, ByteBuffer.allocateDirect((int) type.rowBytes(512)), 1, 512, true);
    float[] in = m.batchInput(a);
    for (int i = 0; i < 512; i++) {
      double d = Q8Activation.usesQ8K(type) ? a.dk[i / 256] : a.d0[i / 32];
      short qv = Q8Activation.usesQ8K(type) ? a.qk[i] : a.q0[i];
      assertThat((double) in[i]).isEqualTo((float) (d * qv));
    }
  }
}
