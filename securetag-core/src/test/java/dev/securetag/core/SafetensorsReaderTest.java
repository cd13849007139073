package dev.securetag.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsReaderTest {
  @TempDir Path dir;

  private Path writeSample() {
    Path f = dir.resolve("model.safetensors");
    new SafetensorsWriter()
        .addF32("b.weight", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6})
        .addFloats("a.weight", SafetensorsReader.DType.F16, new long[] {3}, new float[] {0.5f, -1.25f, 1000f})
        .addFloats("c.weight", SafetensorsReader.DType.BF16, new long[] {2}, new float[] {3.140625f, -0.5f})
        .write(f);
    return f;
  }

  @Test
  void writesReferenceLayoutAndReadsAllDtypesBack() throws IOException {
    Path f = writeSample();
    byte[] bytes = Files.readAllBytes(f);
    long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat(n % 8).isZero();
    String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
    assertThat(header).startsWith("{\"__metadata__\":{\"format\":\"pt\"},\"a.weight\":");
    try (SafetensorsReader r = SafetensorsReader.open(dir)) {
      assertThat(r.names()).containsExactlyInAnyOrder("a.weight", "b.weight", "c.weight");
      assertThat(r.metadata()).containsEntry("format", "pt");
      assertThat(r.readFloats("b.weight")).containsExactly(1, 2, 3, 4, 5, 6);
      assertThat(r.readFloats("a.weight")).containsExactly(0.5f, -1.25f, 1000f);
      assertThat(r.readFloats("c.weight")).containsExactly(3.140625f, -0.5f);
      assertThat(r.tensor("b.weight").orElseThrow().shape()).containsExactly(2, 3);
      float[] part = new float[2];
      r.readFloats("b.weight", 3, part, 0, 2);
      assertThat(part).containsExactly(4, 5);
    }
  }

  @Test
  void readsShardedCheckpointThroughIndex() throws IOException {
    new SafetensorsWriter().addF32("x", new long[] {2}, new float[] {1, 2}).write(dir.resolve("model-00001-of-00002.safetensors"));
    new SafetensorsWriter().addF32("y", new long[] {1}, new float[] {3}).write(dir.resolve("model-00002-of-00002.safetensors"));
    Files.writeString(dir.resolve("model.safetensors.index.json"),
        "{\"metadata\":{\"total_size\":12},\"weight_map\":{\"x\":\"model-00001-of-00002.safetensors\",\"y\":\"model-00002-of-00002.safetensors\"}}");
    try (SafetensorsReader r = SafetensorsReader.open(dir)) {
      assertThat(r.readFloats("x")).containsExactly(1, 2);
      assertThat(r.readFloats("y")).containsExactly(3);
    }
  }

  @Test
  void truncatedFileIsATypedErrorNamingTheFile() throws IOException {
    Path f = writeSample();
    byte[] bytes = Files.readAllBytes(f);
    Path cut = dir.resolve("cut.safetensors");
    Files.write(cut, Arrays.copyOf(bytes, bytes.length - 5));
    assertThatThrownBy(() -> SafetensorsReader.open(cut))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("cut.safetensors")
        .hasMessageContaining("truncated");
  }

  @Test
  void absurdHeaderLengthIsRejected() throws IOException {
    Path f = dir.resolve("bad.safetensors");
    Files.write(f, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
    assertThatThrownBy(() -> SafetensorsReader.open(f))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("header length");
  }

  @Test
  void sizeMismatchNamesTheTensor() throws IOException {
    String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + 8).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    Path f = dir.resolve("mismatch.safetensors");
    Files.write(f, b.array());
    assertThatThrownBy(() -> SafetensorsReader.open(f))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("w.data_offsets");
  }

  @Test
  void unknownDtypeIsUnsupportedFormat() throws IOException {
    String header = "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}";
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + 1).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    Path f = dir.resolve("f8.safetensors");
    Files.write(f, b.array());
    assertThatThrownBy(() -> SafetensorsReader.open(f)).isInstanceOf(UnsupportedFormatException.class);
  }

  @Test
  void useAfterCloseIsIllegalState() {
    writeSample();
    SafetensorsReader r = SafetensorsReader.open(dir);
    r.close();
    r.close();
    assertThatThrownBy(() -> r.data("a.weight")).isInstanceOf(IllegalStateException.class);
  }
}
