package dev.securetag.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.Hashing;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.UnsupportedFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufReaderTest {
  @TempDir Path tmp;

  @Test
  void readsLlamaCppFilesWithTheirTensorHashes() {
    try (GgufReader r = GgufReader.open(TestResources.path("tiny-llama/expected/model-q4_k_m.gguf"))) {
      assertThat(r.version()).isEqualTo(3);
      assertThat(r.tensors()).hasSize(21);
      assertThat(r.metadata()).hasSize(28);
      assertThat(r.dataOffset()).isEqualTo(13088);
      assertThat(r.get("general.file_type").orElseThrow()).isEqualTo(GgufValue.uint32(15));
      assertThat(r.get("llama.attention.layer_norm_rms_epsilon").orElseThrow().asFloat()).isEqualTo(1e-5f);
      GgufTensorInfo down = r.tensor("blk.1.ffn_down.weight").orElseThrow();
      assertThat(down.type()).isEqualTo(GgmlType.Q6_K);
      assertThat(down.ne()).containsExactly(256, 64);
      ByteBuffer b = r.tensorData(down.name());
      byte[] bytes = new byte[b.remaining()];
      b.get(bytes);
      assertThat(Hashing.sha256Hex(bytes))
          .isEqualTo("d429a5852a403a4ae28d076ac173a01704c84cb6aa5d4e6b74726bdc30e61f2f");
    }
  }

  @Test
  void dequantizesEveryTensorOfTheQuantizedFixtureCloseToTheF16One() {
    try (GgufReader q = GgufReader.open(TestResources.path("tiny-llama/expected/model-q4_k_m.gguf"));
        GgufReader f = GgufReader.open(TestResources.path("tiny-llama/expected/model-f16.gguf"))) {
      for (GgufTensorInfo t : q.tensors()) {
        float[] a = q.readFloats(t.name());
        float[] e = f.readFloats(t.name());
        double err = 0;
        double norm = 0;
        for (int i = 0; i < a.length; i++) {
          err += (a[i] - e[i]) * (a[i] - e[i]);
          norm += e[i] * e[i];
        }
        assertThat(Math.sqrt(err / norm)).as(t.name()).isLessThan(0.1);
      }
    }
  }

  private Path write(byte[] bytes) throws IOException {
    Path f = Files.createTempFile(tmp, "bad", ".gguf");
    Files.write(f, bytes);
    return f;
  }

  private static byte[] small() {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try {
      GgufWriter.create()
          .put("general.architecture", GgufValue.string("llama"))
          .put("tokens", GgufValue.array(GgufValueType.STRING, java.util.List.of("a", "b")))
          .tensor("t", GgmlType.F32, new long[] {4}, new byte[16])
          .writeTo(out);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  @Test
  void rejectsBadMagicNamingTheField() throws IOException {
    byte[] b = small();
    b[0] = 'X';
    assertThatThrownBy(() -> GgufReader.open(write(b)))
        .isInstanceOf(GgufFormatException.class).hasMessageContaining("magic");
  }

  @Test
  void rejectsUnsupportedVersions() throws IOException {
    byte[] b = small();
    b[4] = 2;
    assertThatThrownBy(() -> GgufReader.open(write(b)))
        .isInstanceOf(UnsupportedFormatException.class).hasMessageContaining("version 2");
    byte[] swapped = small();
    ByteBuffer.wrap(swapped).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 3 << 24);
    assertThatThrownBy(() -> GgufReader.open(write(swapped)))
        .isInstanceOf(UnsupportedFormatException.class).hasMessageContaining("byte-swapped");
  }

  @Test
  void rejectsEveryTruncationWithATypedError() throws IOException {
    byte[] b = small();
    // The last 16 bytes are the final tensor's alignment padding, which readers do not require.
    for (int len = 0; len < b.length - 16; len++) {
      Path f = write(Arrays.copyOf(b, len));
      assertThatThrownBy(() -> GgufReader.open(f)).as("length %d", len)
          .isInstanceOf(GgufFormatException.class).hasMessageContaining("truncated");
    }
  }

  @Test
  void rejectsMisalignedOrOutOfRangeOffsets() throws IOException {
    byte[] b = small();
    int pos = indexOf(b, "t".getBytes()) + 1 + 4 + 8 + 4;
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(pos, 8);
    assertThatThrownBy(() -> GgufReader.open(write(b)))
        .isInstanceOf(GgufFormatException.class).hasMessageContaining("tensor 't' offset")
        .hasMessageContaining("not aligned");
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(pos, 1L << 40);
    assertThatThrownBy(() -> GgufReader.open(write(b)))
        .isInstanceOf(GgufFormatException.class).hasMessageContaining("offset");
  }

  @Test
  void rejectsBadTypesAndNestedArrays() throws IOException {
    byte[] b = small();
    int typePos = indexOf(b, "t".getBytes()) + 1 + 4 + 8;
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(typePos, 4);
    assertThatThrownBy(() -> GgufReader.open(write(b)))
        .isInstanceOf(GgufFormatException.class).hasMessageContaining("tensor 't' type");
    byte[] c = small();
    int arrPos = indexOf(c, "tokens".getBytes()) + 6 + 4;
    ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putInt(arrPos, 9);
    assertThatThrownBy(() -> GgufReader.open(write(c)))
        .isInstanceOf(GgufFormatException.class).hasMessageContaining("nested");
  }

  @Test
  void randomCorruptionNeverEscapesAsAnUntypedException() throws IOException {
    byte[] base = Files.readAllBytes(TestResources.path("tiny-llama/expected/lora-f16.gguf"));
    Random rnd = new Random(11);
    for (int trial = 0; trial < 300; trial++) {
      byte[] b = base.clone();
      int flips = 1 + rnd.nextInt(4);
      for (int i = 0; i < flips; i++) {
        b[rnd.nextInt(800)] = (byte) rnd.nextInt(256);
      }
      Path f = write(b);
      try (GgufReader r = GgufReader.open(f)) {
        for (GgufTensorInfo t : r.tensors()) {
          r.tensorData(t.name());
        }
      } catch (InvalidInputException expected) {
        assertThat(expected.getMessage()).contains(f.toString());
      }
      Files.delete(f);
    }
  }

  @Test
  void readsTensorsBeyondTwoGigabytesThroughSeparateMappings() throws IOException {
    // A sparse file: a 2.25 GB F32 tensor of zeros followed by a small tensor with known values.
    long bigElems = 600_000_000L;
    ByteBuffer h = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(GgufReader.MAGIC).putInt(3).putLong(2).putLong(0);
    h.putLong(3).put("big".getBytes()).putInt(1).putLong(bigElems).putInt(0).putLong(0);
    h.putLong(5).put("small".getBytes()).putInt(1).putLong(4).putInt(0).putLong(bigElems * 4);
    int header = h.position();
    long dataStart = (header + 31) / 32 * 32;
    Path f = tmp.resolve("big.gguf");
    try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(f.toFile(), "rw")) {
      raf.write(h.array(), 0, header);
      raf.setLength(dataStart + bigElems * 4 + 16);
      ByteBuffer small = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
      small.putFloat(1f).putFloat(-2f).putFloat(3.5f).putFloat(0.25f);
      raf.seek(dataStart + bigElems * 4);
      raf.write(small.array());
    }
    try (GgufReader r = GgufReader.open(f)) {
      assertThat(r.tensor("small").orElseThrow().offset()).isGreaterThan(Integer.MAX_VALUE);
      assertThat(r.readFloats("small")).containsExactly(1f, -2f, 3.5f, 0.25f);
      assertThatThrownBy(() -> r.tensorData("big")).isInstanceOf(UnsupportedFormatException.class)
          .hasMessageContaining("big");
      ByteBuffer tail = r.tensorData("big", bigElems * 4 - 8, 8);
      assertThat(tail.getLong(0)).isZero();
    } finally {
      Files.delete(f);
    }
  }

  @Test
  void refusesUseAfterClose() {
    GgufReader r = GgufReader.open(TestResources.path("tiny-llama/expected/lora-f16.gguf"));
    r.close();
    r.close();
    assertThatThrownBy(() -> r.tensorData("blk.0.attn_q.weight.lora_a")).isInstanceOf(IllegalStateException.class);
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = hay.length - needle.length; i >= 0; i--) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new IllegalArgumentException("not found");
  }
}
