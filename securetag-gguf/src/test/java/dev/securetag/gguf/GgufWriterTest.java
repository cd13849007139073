package dev.securetag.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufWriterTest {
  @TempDir Path tmp;

  @Test
  void roundTripsEveryMetadataValueTypeAndTensor() {
    byte[] q = new byte[(int) GgmlType.Q8_0.rowBytes(64) * 2];
    float[] x = new float[128];
    for (int i = 0; i < x.length; i++) {
      x[i] = (i - 64) / 17f;
    }
    GgmlType.Q8_0.quantizeRow(x, 0, 128, q, 0);
    GgufWriter w = GgufWriter.create()
        .put("u8", new GgufValue(GgufValueType.UINT8, null, 255))
        .put("i8", new GgufValue(GgufValueType.INT8, null, -128))
        .put("u16", new GgufValue(GgufValueType.UINT16, null, 65535))
        .put("i16", new GgufValue(GgufValueType.INT16, null, -32768))
        .put("u32", GgufValue.uint32(4_000_000_000L))
        .put("i32", GgufValue.int32(-7))
        .put("f32", GgufValue.float32(-0.0f))
        .put("bool", GgufValue.bool(true))
        .put("str", GgufValue.string("héllo ▁ world"))
        .put("u64", GgufValue.uint64(-1L))
        .put("i64", new GgufValue(GgufValueType.INT64, null, Long.MIN_VALUE))
        .put("f64", new GgufValue(GgufValueType.FLOAT64, null, Math.PI))
        .put("arr.str", GgufValue.array(GgufValueType.STRING, List.of("a", "", "ü")))
        .put("arr.f32", GgufValue.array(GgufValueType.FLOAT32, List.of(1f, -1000f, Float.MIN_VALUE)))
        .put("arr.i32", GgufValue.array(GgufValueType.INT32, List.of(1, 2, 3)))
        .put("arr.empty", GgufValue.array(GgufValueType.UINT32, List.of()))
        .tensor("norm", GgmlType.F32, new long[] {3}, new byte[12])
        .tensor("w", GgmlType.Q8_0, new long[] {64, 2}, q);
    Path f = tmp.resolve("a.gguf");
    w.write(f);
    try (GgufReader r = GgufReader.open(f)) {
      assertThat(r.metadata()).containsExactlyEntriesOf(w.metadata());
      assertThat(r.tensors()).containsExactlyElementsOf(w.tensorInfos());
      assertThat(r.tensor("w").orElseThrow().offset()).isEqualTo(32);
      assertThat(r.dataOffset() % 32).isZero();
      ByteBuffer data = r.tensorData("w");
      byte[] back = new byte[data.remaining()];
      data.get(back);
      assertThat(back).isEqualTo(q);
      float[] deq = r.readFloats("w");
      assertThat(deq[0]).isCloseTo(x[0], org.assertj.core.data.Offset.offset(0.03f));
      assertThat(r.get("u64").orElseThrow().asLong()).isEqualTo(-1L);
    }
  }

  @Test
  void rewritesLlamaCppFileByteForByte() throws IOException {
    Path src = TestResources.path("tiny-llama/expected/model-q4_k_m.gguf");
    Path out = tmp.resolve("copy.gguf");
    try (GgufReader r = GgufReader.open(src)) {
      GgufWriter w = GgufWriter.create();
      r.metadata().forEach(w::put);
      for (GgufTensorInfo t : r.tensors()) {
        ByteBuffer b = r.tensorData(t.name());
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        w.tensor(t.name(), t.type(), t.ne(), bytes);
      }
      w.write(out);
    }
    assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(src));
  }

  @Test
  void honoursCustomAlignment() {
    Path f = tmp.resolve("al.gguf");
    GgufWriter.create()
        .put("general.alignment", GgufValue.uint32(64))
        .tensor("a", GgmlType.F32, new long[] {1}, new byte[4])
        .tensor("b", GgmlType.F16, new long[] {3}, new byte[6])
        .write(f);
    try (GgufReader r = GgufReader.open(f)) {
      assertThat(r.alignment()).isEqualTo(64);
      assertThat(r.dataOffset() % 64).isZero();
      assertThat(r.tensor("b").orElseThrow().offset()).isEqualTo(64);
    }
  }

  @Test
  void rejectsMisuse() {
    GgufWriter w = GgufWriter.create().tensor("a", GgmlType.F32, new long[] {1}, new byte[4]);
    assertThatThrownBy(() -> w.tensor("a", GgmlType.F32, new long[] {1}, new byte[4]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("duplicate");
    assertThatThrownBy(() -> w.tensor("q", GgmlType.Q4_K, new long[] {64}, new byte[0]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("256");
    assertThatThrownBy(() -> w.tensor("x".repeat(64), GgmlType.F32, new long[] {1}, new byte[4]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> w.put("general.alignment", GgufValue.uint32(48)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> GgufValue.array(GgufValueType.ARRAY, List.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("array");
    assertThatThrownBy(() -> GgufValue.uint32(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void leavesTargetUntouchedWhenATensorSourceWritesTheWrongSize() throws IOException {
    Path f = tmp.resolve("t.gguf");
    Files.writeString(f, "old");
    GgufWriter w = GgufWriter.create().tensor("a", GgmlType.F32, new long[] {2}, new byte[4]);
    assertThatThrownBy(() -> w.write(f)).isInstanceOf(IllegalStateException.class).hasMessageContaining("a");
    assertThat(Files.readString(f)).isEqualTo("old");
  }
}
