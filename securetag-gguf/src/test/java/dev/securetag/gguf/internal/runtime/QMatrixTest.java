package dev.securetag.gguf.internal.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.gguf.GgmlType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * Every weight type's dot product, vector kernel and scalar path, against a float64 dot of the rows decoded by the
 * module's reference dequantizer, on rows quantized by the module's reference quantizer.
 */
class QMatrixTest {
  private static final int ROWS = 7;
  private static final int COLS = 512;

  @ParameterizedTest
  @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K",
      "Q5_K", "Q6_K"})
  void vectorAndScalarDotsMatchTheDequantizedRows(GgmlType type) {
    Random rnd = new Random(type.ordinal());
    float[] w = new float[ROWS * COLS];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) rnd.nextGaussian() * 0.05f;
    }
    int rowBytes = (int) type.rowBytes(COLS);
    byte[] q = new byte[rowBytes * ROWS];
    for (int r = 0; r < ROWS; r++) {
      type.quantizeRow(w, r * COLS, COLS, q, r * rowBytes);
    }
    ByteBuffer buf = ByteBuffer.allocateDirect(q.length).order(ByteOrder.LITTLE_ENDIAN);
    buf.put(q).flip();
    float[] x = new float[COLS];
    for (int i = 0; i < COLS; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    QMatrix vector = new QMatrix("w", type, buf, ROWS, COLS, true);
    QMatrix scalar = new QMatrix("w", type, buf, ROWS, COLS, false);
    float[] scratch = new float[COLS];
    float[] row = new float[COLS];
    for (int r = 0; r < ROWS; r++) {
      scalar.row(r, row, 0);
      double want = 0;
      double scale = 0;
      for (int i = 0; i < COLS; i++) {
        want += (double) row[i] * x[i];
        scale += Math.abs((double) row[i] * x[i]);
      }
      double tol = 1e-5 * scale + 1e-6;
      assertThat((double) vector.dot(r, x, 0, scratch)).as(type + " vector row " + r).isCloseTo(want,
          org.assertj.core.api.Assertions.within(tol));
      assertThat((double) scalar.dot(r, x, 0, scratch)).as(type + " scalar row " + r).isCloseTo(want,
          org.assertj.core.api.Assertions.within(tol));
      float[] decoded = new float[COLS];
      vector.decodeRow(r, decoded);
      for (int i = 0; i < COLS; i++) {
        assertThat(decoded[i]).as(type + " decodeRow " + r + "[" + i + "]")
            .isCloseTo(row[i], org.assertj.core.api.Assertions.within(Math.abs(row[i]) * 1e-6f + 1e-9f));
      }
      // The quantized row stays close to the original weights (sanity of the decode).
      double err = 0;
      for (int i = 0; i < COLS; i++) {
        err = Math.max(err, Math.abs(row[i] - w[r * COLS + i]));
      }
      assertThat(err).as(type + " reconstruction").isLessThan(0.05);
    }
  }

  @Test
  void rejectsTypesWithoutADequantizer() {
    ByteBuffer buf = ByteBuffer.allocate(1024);
    assertThatThrownBy(() -> new QMatrix("blk.0.attn_q.weight", GgmlType.IQ2_XXS, buf, 1, 256, true))
        .isInstanceOf(UnsupportedFormatException.class).hasMessageContaining("blk.0.attn_q.weight");
  }

  @Test
  void vectorHelpersMatchPlainLoops() {
    float[] a = new float[37];
    float[] b = new float[37];
    for (int i = 0; i < a.length; i++) {
      a[i] = i * 0.5f - 3;
      b[i] = 2 - i * 0.25f;
    }
    double want = 0;
    for (int i = 0; i < a.length; i++) {
      want += a[i] * b[i];
    }
    assertThat((double) VectorKernels.dot(a, 0, b, 0, a.length)).isCloseTo(want,
        org.assertj.core.api.Assertions.within(1e-3));
    float[][] o = new float[4][3];
    VectorKernels.dot4(a, a, b, a, b, a.length, o[0], o[1], o[2], o[3], 2);
    assertThat((double) o[1][2]).isCloseTo(want, org.assertj.core.api.Assertions.within(1e-3));
    assertThat((double) o[3][2]).isCloseTo(want, org.assertj.core.api.Assertions.within(1e-3));
    assertThat(o[0][2]).isEqualTo(o[2][2]).isCloseTo(VectorKernels.dot(a, 0, a, 0, a.length),
        org.assertj.core.api.Assertions.within(1e-3f));
    float[] y = b.clone();
    VectorKernels.axpy(2f, a, 0, y, 0, a.length);
    for (int i = 0; i < a.length; i++) {
      assertThat(y[i]).isEqualTo(b[i] + 2f * a[i]);
    }
  }
}
