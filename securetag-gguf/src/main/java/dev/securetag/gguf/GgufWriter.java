package dev.securetag.gguf;

import dev.securetag.core.internal.AtomicFiles;
import dev.securetag.core.internal.Streams;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes GGUF v3 files the way llama.cpp's tools do: metadata in insertion order, tensor infos with contiguous
 * offsets, header and every tensor zero-padded to the alignment (32 unless {@code general.alignment} is set). Tensor
 * bytes are pulled from each {@link TensorSource} while writing, so a converter can stream one tensor at a time. The
 * file is replaced atomically.
 *
 * <pre>{@code
 * GgufWriter.create()
 *     .put("general.architecture", GgufValue.string("llama"))
 *     .tensor("output_norm.weight", GgmlType.F32, new long[] {64}, out -> out.write(bytes))
 *     .write(Path.of("model.gguf"));
 * }</pre>
 */
public final class GgufWriter {

  /** Produces a tensor's bytes; must write exactly {@link GgmlType#byteSize} bytes. */
  @FunctionalInterface
  public interface TensorSource {
    void writeTo(OutputStream out) throws IOException;
  }

  private record Entry(GgufTensorInfo info, TensorSource source) {}

  private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
  private final List<Entry> tensors = new ArrayList<>();
  private final Map<String, Boolean> names = new LinkedHashMap<>();

  private GgufWriter() {}

  /** A new, empty writer. */
  public static GgufWriter create() {
    return new GgufWriter();
  }

  /** Adds (or replaces, keeping its position) a metadata key. */
  public GgufWriter put(String key, GgufValue value) {
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("metadata key must not be empty");
    }
    if (key.equals("general.alignment")) {
      long a = value.type() == GgufValueType.UINT32 ? value.asLong() : -1;
      if (a <= 0 || (a & (a - 1)) != 0) {
        throw new IllegalArgumentException("general.alignment must be a UINT32 power of two, got " + value);
      }
    }
    metadata.put(key, value);
    return this;
  }

  /** Removes a metadata key if present. */
  public GgufWriter remove(String key) {
    metadata.remove(key);
    return this;
  }

  /** The metadata added so far, in order. */
  public Map<String, GgufValue> metadata() {
    return Collections.unmodifiableMap(metadata);
  }

  /** Adds a tensor; {@code ne} is innermost first (the reversed torch shape). */
  public GgufWriter tensor(String name, GgmlType type, long[] ne, TensorSource source) {
    if (name.getBytes(StandardCharsets.UTF_8).length > GgufReader.MAX_NAME_BYTES) {
      throw new IllegalArgumentException("tensor name longer than " + GgufReader.MAX_NAME_BYTES + " bytes: " + name);
    }
    if (names.put(name, Boolean.TRUE) != null) {
      throw new IllegalArgumentException("duplicate tensor name " + name);
    }
    if (ne.length < 1 || ne.length > 4) {
      throw new IllegalArgumentException(name + ": 1 to 4 dimensions expected, got " + ne.length);
    }
    for (long d : ne) {
      if (d < 0) {
        throw new IllegalArgumentException(name + ": negative dimension");
      }
    }
    if (ne[0] % type.blockSize() != 0) {
      throw new IllegalArgumentException(name + ": row length " + ne[0] + " is not a multiple of the " + type
          + " block size " + type.blockSize());
    }
    tensors.add(new Entry(new GgufTensorInfo(name, type, ne, -1), source));
    return this;
  }

  /** Adds a tensor from bytes already encoded in {@code type}. */
  public GgufWriter tensor(String name, GgmlType type, long[] ne, byte[] data) {
    return tensor(name, type, ne, out -> out.write(data));
  }

  private int alignment() {
    GgufValue a = metadata.get("general.alignment");
    return a == null ? GgufReader.DEFAULT_ALIGNMENT : (int) a.asLong();
  }

  /** The tensor infos with their final offsets, in write order. */
  public List<GgufTensorInfo> tensorInfos() {
    int align = alignment();
    List<GgufTensorInfo> out = new ArrayList<>();
    long offset = 0;
    for (Entry e : tensors) {
      GgufTensorInfo t = e.info;
      out.add(new GgufTensorInfo(t.name(), t.type(), t.ne(), offset));
      offset += GgufReader.pad(t.byteSize(), align);
    }
    return out;
  }

  /** Writes the file atomically (a temporary file renamed over {@code file}). */
  public void write(Path file) {
    AtomicFiles.write(file, this::writeTo);
  }

  /** Writes the GGUF bytes to {@code out} (not closed). */
  public void writeTo(OutputStream out) throws IOException {
    int align = alignment();
    Streams.CountingOutputStream cs = new Streams.CountingOutputStream(out);
    Le le = new Le(cs);
    le.i32(GgufReader.MAGIC);
    le.i32(3);
    le.i64(tensors.size());
    le.i64(metadata.size());
    for (Map.Entry<String, GgufValue> kv : metadata.entrySet()) {
      le.string(kv.getKey());
      GgufValue v = kv.getValue();
      le.i32(v.type().id());
      if (v.type() == GgufValueType.ARRAY) {
        le.i32(v.itemType().id());
        le.i64(v.asList().size());
        for (Object item : v.asList()) {
          scalar(le, v.itemType(), item);
        }
      } else {
        scalar(le, v.type(), v.value());
      }
    }
    List<GgufTensorInfo> infos = tensorInfos();
    for (GgufTensorInfo t : infos) {
      le.string(t.name());
      long[] ne = t.ne();
      le.i32(ne.length);
      for (long d : ne) {
        le.i64(d);
      }
      le.i32(t.type().id());
      le.i64(t.offset());
    }
    le.flush();
    if (!tensors.isEmpty()) {
      padTo(cs, align);
    }
    for (int i = 0; i < tensors.size(); i++) {
      GgufTensorInfo t = infos.get(i);
      long start = cs.count();
      tensors.get(i).source.writeTo(Streams.nonClosing(cs));
      long written = cs.count() - start;
      if (written != t.byteSize()) {
        throw new IllegalStateException("tensor " + t.name() + " source wrote " + written + " bytes, expected "
            + t.byteSize());
      }
      padTo(cs, align);
    }
  }

  private static void padTo(Streams.CountingOutputStream cs, int align) throws IOException {
    long rem = cs.count() % align;
    if (rem != 0) {
      cs.write(new byte[(int) (align - rem)]);
    }
  }

  private static void scalar(Le le, GgufValueType t, Object v) throws IOException {
    switch (t) {
      case UINT8, INT8 -> le.u8((int) (long) (Long) v);
      case UINT16, INT16 -> le.i16((int) (long) (Long) v);
      case UINT32, INT32 -> le.i32((int) (long) (Long) v);
      case UINT64, INT64 -> le.i64((Long) v);
      case FLOAT32 -> le.i32(Float.floatToRawIntBits((Float) v));
      case FLOAT64 -> le.i64(Double.doubleToRawLongBits((Double) v));
      case BOOL -> le.u8((Boolean) v ? 1 : 0);
      case STRING -> le.string((String) v);
      case ARRAY -> throw new IllegalArgumentException("nested arrays are not supported");
    }
  }

  /** Little-endian primitive writes through a small staging buffer. */
  private static final class Le {
    private final OutputStream out;
    private final ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

    Le(OutputStream out) {
      this.out = out;
    }

    private void room(int n) throws IOException {
      if (b.remaining() < n) {
        flush();
      }
    }

    void flush() throws IOException {
      out.write(b.array(), 0, b.position());
      b.clear();
    }

    void u8(int v) throws IOException {
      room(1);
      b.put((byte) v);
    }

    void i16(int v) throws IOException {
      room(2);
      b.putShort((short) v);
    }

    void i32(int v) throws IOException {
      room(4);
      b.putInt(v);
    }

    void i64(long v) throws IOException {
      room(8);
      b.putLong(v);
    }

    void string(String s) throws IOException {
      byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
      i64(bytes.length);
      if (bytes.length <= b.capacity()) {
        room(bytes.length);
        b.put(bytes);
      } else {
        flush();
        out.write(bytes);
      }
    }
  }
}
