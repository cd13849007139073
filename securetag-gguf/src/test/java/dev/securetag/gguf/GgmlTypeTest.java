package dev.securetag.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.internal.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GgmlTypeTest {

  private static JsonNode golden() throws IOException {
    return Json.readTree(Files.readString(TestResources.path("gguf-quant-golden.json")), "gguf-quant-golden.json");
  }

  private static float[] input(JsonNode row) {
    JsonNode in = row.get("input");
    float[] x = new float[in.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) in.get(i).asDouble();
    }
    return x;
  }

  @Test
  void quantizesEveryGoldenRowBitExactlyForEveryType() throws IOException {
    JsonNode g = golden();
    List<String> checked = new ArrayList<>();
    for (JsonNode row : g.get("rows")) {
      float[] x = input(row);
      assertThat(x).as("row %s", row.get("kind").asText()).hasSize(g.get("n_per_row").asInt());
      for (Map.Entry<String, JsonNode> q : row.get("quantized").properties()) {
        GgmlType type = GgmlType.valueOf(q.getKey());
        byte[] expected = TestResources.hex(q.getValue().asText());
        byte[] actual = new byte[(int) type.rowBytes(x.length)];
        type.quantizeRow(x, 0, x.length, actual, 0);
        assertThat(HexFormat.of().formatHex(actual))
            .as("%s row %s", type, row.get("kind").asText())
            .isEqualTo(q.getValue().asText());
        assertThat(actual).hasSize(expected.length);
        checked.add(type + "/" + row.get("kind").asText());
      }
    }
    // Every row and type the file holds is checked (a type this module lacks fails valueOf); an empty file or a
    // repeated row kind is not a pass.
    assertThat(checked).isNotEmpty().doesNotHaveDuplicates();
  }

  @Test
  void dequantizesGoldenBytesWithinTheFormatsErrorBounds() throws IOException {
    JsonNode g = golden();
    for (JsonNode row : g.get("rows")) {
      float[] x = input(row);
      float amax = 0;
      for (float v : x) {
        amax = Math.max(amax, Math.abs(v));
      }
      for (Map.Entry<String, JsonNode> q : row.get("quantized").properties()) {
        GgmlType type = GgmlType.valueOf(q.getKey());
        ByteBuffer bytes = ByteBuffer.wrap(TestResources.hex(q.getValue().asText())).order(ByteOrder.LITTLE_ENDIAN);
        float[] y = new float[x.length];
        type.dequantizeRow(bytes, 0, x.length, y, 0);
        double maxErr = 0;
        for (int i = 0; i < x.length; i++) {
          maxErr = Math.max(maxErr, Math.abs(x[i] - y[i]));
        }
        // Inputs are already F16 values, so F16 is exact; BF16 keeps 8 bits; the block formats are bounded by a
        // fraction of the row's largest magnitude that shrinks with the bit width.
        double bound = switch (type) {
          case F16 -> 0;
          case BF16 -> amax / 256.0;
          case Q8_0 -> amax / 127.0;
          case Q6_K -> amax / 20.0;
          case Q5_0, Q5_K -> amax / 12.0;
          default -> amax / 5.0;
        };
        // The F16 block scale itself is rounded; in the subnormal range its step (2^-24) times |q| dominates.
        // K-quants multiply that step by a 6-bit sub-scale as well.
        bound += type.blockSize() == 256 ? 64 * 64 * 0x1p-24 : type.isQuantized() ? 128 * 0x1p-24 : 0;
        assertThat(maxErr).as("%s row %s", type, row.get("kind").asText()).isLessThanOrEqualTo(bound);
      }
    }
  }

  @Test
  void roundTripsEverySupportedTypeOnRandomRows() {
    Random rnd = new Random(7);
    float[] x = new float[1024];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (rnd.nextGaussian() * 0.02);
    }
    for (GgmlType t : GgmlType.values()) {
      if (!t.canQuantize()) {
        continue;
      }
      byte[] q = new byte[(int) t.rowBytes(x.length)];
      t.quantizeRow(x, 0, x.length, q, 0);
      float[] y = new float[x.length];
      t.dequantizeRow(ByteBuffer.wrap(q).order(ByteOrder.LITTLE_ENDIAN), 0, x.length, y, 0);
      double err = 0;
      double norm = 0;
      for (int i = 0; i < x.length; i++) {
        err += (x[i] - y[i]) * (x[i] - y[i]);
        norm += x[i] * x[i];
      }
      assertThat(Math.sqrt(err / norm)).as(t.toString()).isLessThan(0.2);
      // Quantizing the dequantized values of a block format is stable for the symmetric 8-bit type.
      if (t == GgmlType.Q8_0 || t == GgmlType.F16 || t == GgmlType.F32) {
        byte[] again = new byte[q.length];
        t.quantizeRow(y, 0, y.length, again, 0);
        assertThat(again).as(t.toString()).isEqualTo(q);
      }
    }
  }

  @Test
  void dequantizesABlockRangeInsideARow() {
    Random rnd = new Random(3);
    float[] x = new float[1024];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    GgmlType t = GgmlType.Q4_K;
    byte[] q = new byte[(int) t.rowBytes(x.length)];
    t.quantizeRow(x, 0, x.length, q, 0);
    ByteBuffer b = ByteBuffer.wrap(q).order(ByteOrder.LITTLE_ENDIAN);
    float[] all = new float[1024];
    t.dequantizeRow(b, 0, 1024, all, 0);
    float[] part = new float[256];
    t.dequantizeRow(b, 2 * t.typeSize(), 256, part, 0);
    for (int i = 0; i < 256; i++) {
      assertThat(part[i]).isEqualTo(all[512 + i]);
    }
  }

  @Test
  void exposesLlamaCppTypeIdsAndBlockSizes() {
    assertThat(GgmlType.fromId(8)).contains(GgmlType.Q8_0);
    assertThat(GgmlType.fromId(4)).isEmpty();
    assertThat(GgmlType.fromId(43)).isEmpty();
    assertThat(GgmlType.Q4_K.typeSize()).isEqualTo(144);
    assertThat(GgmlType.Q6_K.rowBytes(4096)).isEqualTo(16 * 210);
    assertThat(GgmlType.BF16.id()).isEqualTo(30);
    assertThat(GgmlType.Q5_0.byteSize(new long[] {64, 512})).isEqualTo(22528);
    assertThatThrownBy(() -> GgmlType.Q4_K.rowBytes(320)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("256");
  }
}
