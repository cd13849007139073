package dev.securetag.gguf.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.core.internal.Json;
import dev.securetag.gguf.GgmlType;
import dev.securetag.testfixtures.SharedFixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every weight type's dot product, vector kernel and scalar path: on llama.cpp's own quantized rows
 * (gguf-quant-golden.json) against a float64 dot of those rows decoded by an independent transcription of ggml's
 * dequantizers, and, for the types the golden file lacks, on rows of the module's quantizer.
 */
class QMatrixTest {
  private static final int ROWS = 7;
  private static final int COLS = 512;

  /** gguf-quant-golden.json's rows as one matrix per type: {type: [row hex...]}, in file order. */
  private static Map<String, List<byte[]>> goldenMatrices(JsonNode g) {
    Map<String, List<byte[]>> m = new LinkedHashMap<>();
    for (JsonNode row : g.get("rows")) {
      for (Map.Entry<String, JsonNode> e : row.get("quantized").properties()) {
        m.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(HexFormat.of().parseHex(e.getValue().asText()));
      }
    }
    return m;
  }

  @Test
  void decodesAndDotsLlamaCppsGoldenRowsLikeGgml() {
    JsonNode g = Json.readTree(SharedFixtures.readString("gguf-quant-golden.json"), "gguf-quant-golden.json");
    int cols = g.get("n_per_row").asInt();
    List<float[]> inputs = new ArrayList<>();
    for (JsonNode row : g.get("rows")) {
      float[] in = new float[row.get("input").size()];
      for (int i = 0; i < in.length; i++) {
        in[i] = (float) row.get("input").get(i).asDouble();
      }
      inputs.add(in);
    }
    Map<String, List<byte[]>> golden = goldenMatrices(g);
    assertThat(golden).isNotEmpty();
    Random rnd = new Random(42);
    float[] x = new float[cols];
    for (int i = 0; i < cols; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    float[] scratch = new float[cols];
    for (Map.Entry<String, List<byte[]>> e : golden.entrySet()) {
      String name = e.getKey();
      GgmlType type = GgmlType.valueOf(name);
      assertThat(GgmlReferenceDecoder.supports(name)).as("reference decoder for " + name).isTrue();
      List<byte[]> rowBytes = e.getValue();
      int rows = rowBytes.size();
      int rb = (int) type.rowBytes(cols);
      ByteBuffer buf = ByteBuffer.allocateDirect(rb * rows).order(ByteOrder.LITTLE_ENDIAN);
      for (byte[] r : rowBytes) {
        assertThat(r).as(name + " row bytes").hasSize(rb);
        buf.put(r);
      }
      buf.flip();
      QMatrix vector = new QMatrix("golden", type, buf, rows, cols, true);
      QMatrix scalar = new QMatrix("golden", type, buf, rows, cols, false);
      float[] got = new float[cols];
      float[] decoded = new float[cols];
      for (int r = 0; r < rows; r++) {
        float[] ref = GgmlReferenceDecoder.decode(name, rowBytes.get(r), 0, cols);
        // The reference decoder is itself checked against the row llama.cpp quantized: a coarse bound that no
        // mis-decoded block (wrong scale, nibble or sign) stays under, plus the rounding of an F16 block scale in
        // the subnormal range (step 2^-24, times a 6-bit sub-scale and code for the 256-blocks).
        float amax = 0;
        double err = 0;
        for (int i = 0; i < cols; i++) {
          amax = Math.max(amax, Math.abs(inputs.get(r)[i]));
          err = Math.max(err, Math.abs(ref[i] - inputs.get(r)[i]));
        }
        assertThat(err).as(name + " reference decode of row " + r + " vs llama.cpp's input")
            .isLessThanOrEqualTo(amax / 4.0 + (type.blockSize() == 256 ? 64 * 64 * 0x1p-24 : 128 * 0x1p-24));
        scalar.row(r, got, 0);
        vector.decodeRow(r, decoded);
        double want = 0;
        double scale = 0;
        for (int i = 0; i < cols; i++) {
          float tol = Math.abs(ref[i]) * 1e-6f + amax * 1e-7f;
          assertThat(got[i]).as(name + " row(" + r + ")[" + i + "]").isCloseTo(ref[i], within(tol));
          assertThat(decoded[i]).as(name + " decodeRow(" + r + ")[" + i + "]").isCloseTo(ref[i], within(tol));
          want += (double) ref[i] * x[i];
          scale += Math.abs((double) ref[i] * x[i]);
        }
        double tol = 1e-5 * scale + 1e-6;
        assertThat((double) vector.dot(r, x, 0, scratch)).as(name + " vector dot row " + r)
            .isCloseTo(want, within(tol));
        assertThat((double) scalar.dot(r, x, 0, scratch)).as(name + " scalar dot row " + r)
            .isCloseTo(want, within(tol));
      }
    }
  }

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
    assertThat((double) FloatKernels.dot(a, 0, b, 0, a.length)).isCloseTo(want,
        org.assertj.core.api.Assertions.within(1e-3));
    float[][] o = new float[4][3];
    FloatKernels.dot4(a, a, b, a, b, a.length, o[0], o[1], o[2], o[3], 2);
    assertThat((double) o[1][2]).isCloseTo(want, org.assertj.core.api.Assertions.within(1e-3));
    assertThat((double) o[3][2]).isCloseTo(want, org.assertj.core.api.Assertions.within(1e-3));
    assertThat(o[0][2]).isEqualTo(o[2][2]).isCloseTo(FloatKernels.dot(a, 0, a, 0, a.length),
        org.assertj.core.api.Assertions.within(1e-3f));
    float[] y = b.clone();
    FloatKernels.axpy(2f, a, 0, y, 0, a.length);
    for (int i = 0; i < a.length; i++) {
      assertThat(y[i]).isEqualTo(b[i] + 2f * a[i]);
    }
  }
}
