package dev.securetag.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.core.internal.Hashing;
import dev.securetag.core.internal.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufReaderTest {
  @TempDir Path tmp;

  @Test
  void readsLlamaCppFilesWithTheirTensorHashes() throws IOException {
    // metadata.json is gguf-py's reading of the same files: every file, KV and tensor it lists is checked.
    JsonNode files = Json.readTree(Files.readString(TestResources.path("tiny-llama/expected/metadata.json")),
        "metadata.json").get("files");
    assertThat(files).isNotEmpty();
    for (Map.Entry<String, JsonNode> e : files.properties()) {
      JsonNode exp = e.getValue();
      Path file = TestResources.path("tiny-llama/expected/" + e.getKey());
      try (GgufReader r = GgufReader.open(file)) {
        assertThat(r.version()).as(e.getKey()).isEqualTo(exp.get("version").asInt());
        assertThat(r.tensors()).as(e.getKey()).hasSize(exp.get("tensor_count").asInt());
        assertThat(r.metadata()).as(e.getKey()).hasSize(exp.get("kv_count").asInt());
        assertThat(r.alignment()).as(e.getKey()).isEqualTo(exp.get("alignment").asInt());
        assertThat(r.dataOffset()).as(e.getKey()).isEqualTo(exp.get("data_offset").asLong());
        assertThat(r.fileSize()).as(e.getKey()).isEqualTo(exp.get("file_size").asLong());
        for (JsonNode t : exp.get("tensors")) {
          assertThat(r.tensorData(t.get("name").asText()).remaining()).as(t.get("name").asText())
              .isEqualTo(t.get("n_bytes").asInt());
        }
      }
      GgufQuantizerTest.assertMatches(file, exp);
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

  /** What a single-byte mutation of a GGUF file did when the file was opened and every tensor read. */
  private enum Outcome { REJECTED, IDENTICAL, DIFFERENT }

  /** One parsed file: KVs and tensor infos in file order, with each tensor's bytes, for comparison. */
  private record Snapshot(List<Object> entries, List<byte[]> data) {
    /** Indexes of KV / tensor entries that differ from {@code o} (entry-wise; a count mismatch lists all). */
    List<Integer> diff(Snapshot o) {
      List<Integer> d = new ArrayList<>();
      int n = Math.max(entries.size(), o.entries.size());
      for (int i = 0; i < n; i++) {
        if (i >= entries.size() || i >= o.entries.size() || !entries.get(i).equals(o.entries.get(i))) {
          d.add(i);
        }
      }
      return d;
    }
  }

  private static Snapshot snapshot(GgufReader r) {
    List<Object> entries = new ArrayList<>();
    r.metadata().forEach((k, v) -> entries.add(List.of(k, v)));
    List<byte[]> data = new ArrayList<>();
    for (GgufTensorInfo t : r.tensors()) {
      ByteBuffer b = r.tensorData(t.name());
      byte[] bytes = new byte[b.remaining()];
      b.get(bytes);
      data.add(bytes);
      entries.add(List.of(t, Hashing.sha256Hex(bytes)));
    }
    return new Snapshot(entries, data);
  }

  /** Opens a mutated file; a rejection must be typed and name the file. */
  private Snapshot openMutated(byte[] bytes, String what) throws IOException {
    Path f = write(bytes);
    try {
      return open(f, what);
    } finally {
      Files.delete(f);
    }
  }

  private static Snapshot open(Path f, String what) {
    try (GgufReader r = GgufReader.open(f)) {
      return snapshot(r);
    } catch (InvalidInputException rejected) {
      assertThat(rejected.getMessage()).as(what).contains(f.toString());
      return null;
    } catch (RuntimeException untyped) {
      throw new AssertionError(what + ": untyped " + untyped, untyped);
    }
  }

  /** Opens {@code copy} with byte {@code pos} xor-ed with {@code mask} through {@code ch}, then restores the byte. */
  private static Snapshot openWithByteFlipped(Path copy, FileChannel ch, int pos, int mask, byte original,
      String what) throws IOException {
    ch.write(ByteBuffer.wrap(new byte[] {(byte) (original ^ mask)}), pos);
    try {
      return open(copy, what);
    } finally {
      ch.write(ByteBuffer.wrap(new byte[] {original}), pos);
    }
  }

  @Test
  void rejectsStructuralCorruptionAndConfinesEveryAcceptedMutationToTheByteItChanged() throws IOException {
    for (String name : List.of("lora-f16.gguf", "model-q4_k_m.gguf")) {
      Path file = TestResources.path("tiny-llama/expected/" + name);
      byte[] base = Files.readAllBytes(file);
      Snapshot original;
      long dataOffset;
      try (GgufReader r = GgufReader.open(file)) {
        original = snapshot(r);
        dataOffset = r.dataOffset();
      }
      GgufLayout layout = GgufLayout.walk(base, dataOffset);
      int nKv = layout.kvCount();
      // Every header byte of the small adapter. Of the model: every count, length, type, shape and offset byte
      // outside its long token arrays, a seeded 1-in-4 sample of key and name bytes and 1-in-32 of the arrays'
      // strings, lengths and scores. Then a spread of tensor-data bytes.
      boolean small = dataOffset <= 2048;
      Random rnd = new Random(name.hashCode());
      List<Integer> positions = new ArrayList<>();
      for (int i = 0; i < dataOffset; i++) {
        int oneIn = switch (layout.field(i)) {
          case STRING, STRING_LENGTH, SCALAR -> layout.entry(i) < nKv ? 32 : 1;
          case KEY, TENSOR_NAME -> 4;
          default -> 1;
        };
        if (small || rnd.nextInt(oneIn) == 0) {
          positions.add(i);
        }
      }
      int dataStep = Math.max(1, (int) ((base.length - dataOffset) / 512));
      for (long i = dataOffset; i < base.length; i += dataStep) {
        positions.add((int) i);
      }
      Map<GgufLayout.Field, int[]> tally = new EnumMap<>(GgufLayout.Field.class);
      List<String> violations = new ArrayList<>();
      // One writable copy, each byte flipped in place and restored: the model is too large to rewrite per mutation.
      Path copy = tmp.resolve("mutated-" + name);
      Files.write(copy, base);
      try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.WRITE)) {
        for (int pos : positions) {
          GgufLayout.Field field = layout.field(pos);
          int entry = layout.entry(pos);
          int[] masks = field == GgufLayout.Field.DATA ? new int[] {0xFF}
              : small ? new int[] {0x01, 0x02, 0x10, 0x80, 0xFF} : new int[] {0x01, 0x10, 0xFF};
          for (int mask : masks) {
            String what = String.format("%s byte %d (%s of entry %d) ^ 0x%02x", name, pos, field, entry, mask);
            Snapshot got = openWithByteFlipped(copy, ch, pos, mask, base[pos], what);
            Outcome outcome = got == null ? Outcome.REJECTED
                : got.diff(original).isEmpty() && sameData(got, original) ? Outcome.IDENTICAL : Outcome.DIFFERENT;
            tally.computeIfAbsent(field, k -> new int[3])[outcome.ordinal()]++;
            String violation = violation(field, entry, outcome, got, original, nKv, layout.inTensor(pos));
            if (violation != null) {
              violations.add(what + ": " + violation);
            }
          }
        }
      }
      int rejected = tally.values().stream().mapToInt(t -> t[0]).sum();
      int total = tally.values().stream().mapToInt(t -> t[0] + t[1] + t[2]).sum();
      System.out.printf("%s: %d of %d mutated files rejected with a typed error; by field (rejected/identical/"
          + "different): %s%n", name, rejected, total, format(tally));
      // Every structural field was mutated and each such mutation was rejected (asserted above per file); the
      // sweep must have reached them all, and data bytes must all have been read.
      assertThat(tally).containsKeys(GgufLayout.Field.MAGIC, GgufLayout.Field.VERSION, GgufLayout.Field.COUNT,
          GgufLayout.Field.KEY_LENGTH, GgufLayout.Field.STRING_LENGTH, GgufLayout.Field.TENSOR_NAME_LENGTH,
          GgufLayout.Field.N_DIMS, GgufLayout.Field.NE, GgufLayout.Field.GGML_TYPE, GgufLayout.Field.OFFSET,
          GgufLayout.Field.DATA);
      assertThat(rejected).as(name).isPositive();
      assertThat(violations).as("%s: %d mutations not rejected although they change the layout, or that spread "
          + "past the byte they hit; first ones: %s", name, violations.size(),
          violations.subList(0, Math.min(20, violations.size()))).isEmpty();
    }
  }

  @Test
  void rejectsEveryTruncationOfAFixtureWithATypedError() throws IOException {
    Path file = TestResources.path("tiny-llama/expected/lora-f16.gguf");
    byte[] base = Files.readAllBytes(file);
    long end;
    try (GgufReader r = GgufReader.open(file)) {
      GgufTensorInfo last = r.tensors().get(r.tensors().size() - 1);
      end = r.dataOffset() + last.offset() + last.byteSize();
    }
    // One copy, cut shorter a byte at a time from just below the end of the last tensor down to empty.
    Path copy = tmp.resolve("truncated.gguf");
    Files.write(copy, base);
    int rejected = 0;
    try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.WRITE)) {
      for (long len = end - 1; len >= 0; len--) {
        ch.truncate(len);
        assertThat(open(copy, "length " + len)).as("length %d", len).isNull();
        rejected++;
      }
    }
    assertThat(rejected).isEqualTo(end);
  }

  @Test
  void randomMultiByteCorruptionIsRejectedWithTypedErrors() throws IOException {
    Path file = TestResources.path("tiny-llama/expected/lora-f16.gguf");
    byte[] base = Files.readAllBytes(file);
    long dataOffset;
    try (GgufReader r = GgufReader.open(file)) {
      dataOffset = r.dataOffset();
    }
    GgufLayout layout = GgufLayout.walk(base, dataOffset);
    Random rnd = new Random(11);
    int trials = 300;
    int structural = 0;
    int structuralRejected = 0;
    for (int trial = 0; trial < trials; trial++) {
      byte[] b = base.clone();
      int flips = 1 + rnd.nextInt(4);
      boolean hitStructure = false;
      for (int i = 0; i < flips; i++) {
        int pos = rnd.nextInt((int) dataOffset);
        byte v = (byte) (b[pos] ^ (1 + rnd.nextInt(255)));
        b[pos] = v;
        hitStructure |= layout.isStructural(pos);
      }
      Snapshot got = openMutated(b, "trial " + trial);
      if (hitStructure) {
        structural++;
        structuralRejected += got == null ? 1 : 0;
      }
    }
    System.out.printf("random header corruption: %d of %d files with a structural byte changed were rejected%n",
        structuralRejected, structural);
    assertThat(structural).isPositive();
    // Every structural byte is covered by one length, count, type or offset check; a changed one always fails.
    assertThat(structuralRejected).isEqualTo(structural);
  }

  /** Why a mutation's outcome breaks the rules for the field it hit, or null when it keeps them. */
  private static String violation(GgufLayout.Field field, int entry, Outcome outcome, Snapshot got, Snapshot original,
      int nKv, boolean inTensor) {
    switch (field) {
      case DATA -> {
        // Tensor bytes carry no checksum: the file must read, with the header intact and exactly the changed byte
        // changed in the tensor that holds it (none when it hit the padding between tensors).
        if (outcome == Outcome.REJECTED) {
          return "rejected";
        }
        List<Integer> d = got.diff(original);
        if (d.size() > 1 || !d.stream().allMatch(i -> i >= nKv)) {
          return "header entries " + d + " changed";
        }
        int changed = changedDataBytes(got, original);
        return changed == (inTensor ? 1 : 0) ? null : changed + " tensor bytes changed";
      }
      case PADDING -> {
        return outcome == Outcome.IDENTICAL ? null : "read as " + outcome;
      }
      case KEY, STRING, SCALAR, TENSOR_NAME, VALUE_TYPE, ARRAY_ITEM_TYPE -> {
        // A key, a string, a number or a same-width value type is a valid different value (GGUF has no checksum);
        // what must never happen is a change that spreads past the entry it hit.
        if (outcome != Outcome.DIFFERENT) {
          return null;
        }
        if (!got.diff(original).equals(List.of(entry))) {
          return "entries " + got.diff(original) + " changed";
        }
        return changedDataBytes(got, original) == 0 ? null : "tensor data changed";
      }
      default -> {
        // Counts, lengths, dimensions, types and offsets: everything after them hangs on them.
        return outcome == Outcome.REJECTED ? null : "read as " + outcome + " " + got.diff(original);
      }
    }
  }

  private static boolean sameData(Snapshot a, Snapshot b) {
    return changedDataBytes(a, b) == 0;
  }

  private static int changedDataBytes(Snapshot a, Snapshot b) {
    if (a.data().size() != b.data().size()) {
      return Integer.MAX_VALUE;
    }
    int n = 0;
    for (int t = 0; t < a.data().size(); t++) {
      byte[] x = a.data().get(t);
      byte[] y = b.data().get(t);
      if (x.length != y.length) {
        return Integer.MAX_VALUE;
      }
      for (int i = 0; i < x.length; i++) {
        n += x[i] != y[i] ? 1 : 0;
      }
    }
    return n;
  }

  private static String format(Map<GgufLayout.Field, int[]> tally) {
    StringBuilder sb = new StringBuilder();
    tally.forEach((f, t) -> sb.append(f).append(' ').append(t[0]).append('/').append(t[1]).append('/').append(t[2])
        .append("; "));
    return sb.toString();
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
    String first = r.tensors().get(0).name();
    r.close();
    r.close();
    assertThatThrownBy(() -> r.tensorData(first)).isInstanceOf(IllegalStateException.class);
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
