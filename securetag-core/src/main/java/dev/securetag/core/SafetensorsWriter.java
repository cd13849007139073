package dev.securetag.core;

import dev.securetag.core.internal.AtomicFiles;
import dev.securetag.core.internal.Half;
import dev.securetag.core.internal.Json;
import dev.securetag.core.internal.Streams;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes one safetensors file the way the reference writer does: tensors sorted by name, header padded with
 * spaces to a multiple of 8, {@code __metadata__ = {"format": "pt"}} (Hugging Face loaders require it). Tensor
 * data is produced on demand while streaming, so large tensors need not all be in memory, and the file is
 * replaced atomically.
 *
 * <pre>{@code
 * SafetensorsWriter w = new SafetensorsWriter();
 * w.addF32("lm_head.weight", new long[] {vocab, hidden}, weights);
 * w.write(dir.resolve("model.safetensors"));
 * }</pre>
 */
public final class SafetensorsWriter {

  /** Produces a tensor's little-endian bytes on demand; must write exactly the declared size. */
  @FunctionalInterface
  public interface DataSource {
    void writeTo(OutputStream out) throws IOException;
  }

  private record Entry(String name, SafetensorsReader.DType dtype, long[] shape, long bytes, DataSource source) {}

  private final List<Entry> entries = new ArrayList<>();
  private final Map<String, String> metadata = new LinkedHashMap<>();

  public SafetensorsWriter() {
    metadata.put("format", "pt");
  }

  /** Adds a {@code __metadata__} entry. */
  public SafetensorsWriter metadata(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  /** Adds a tensor whose bytes {@code source} will write. */
  public SafetensorsWriter add(String name, SafetensorsReader.DType dtype, long[] shape, DataSource source) {
    long numel = 1;
    for (long d : shape) {
      numel = Math.multiplyExact(numel, d);
    }
    for (Entry e : entries) {
      if (e.name.equals(name)) {
        throw new IllegalArgumentException("duplicate tensor name " + name);
      }
    }
    entries.add(new Entry(name, dtype, shape.clone(), numel * dtype.bytes(), source));
    return this;
  }

  /** Adds a float tensor stored as F32, F16 or BF16 (converted with round-to-nearest-even). */
  public SafetensorsWriter addFloats(String name, SafetensorsReader.DType dtype, long[] shape, float[] data) {
    long numel = 1;
    for (long d : shape) {
      numel *= d;
    }
    if (numel != data.length) {
      throw new IllegalArgumentException(name + ": shape holds " + numel + " elements, data has " + data.length);
    }
    return add(name, dtype, shape, out -> writeFloats(out, dtype, data));
  }

  /** Adds an F32 tensor. */
  public SafetensorsWriter addF32(String name, long[] shape, float[] data) {
    return addFloats(name, SafetensorsReader.DType.F32, shape, data);
  }

  private static void writeFloats(OutputStream out, SafetensorsReader.DType dtype, float[] data) throws IOException {
    int width = dtype.bytes();
    ByteBuffer buf = ByteBuffer.allocate(8192 * width).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < data.length; i++) {
      switch (dtype) {
        case F32 -> buf.putFloat(data[i]);
        case F16 -> buf.putShort(Half.floatToF16(data[i]));
        case BF16 -> buf.putShort(Half.floatToBf16(data[i]));
        default -> throw new IllegalArgumentException("float data cannot be written as " + dtype);
      }
      if (!buf.hasRemaining()) {
        out.write(buf.array(), 0, buf.position());
        buf.clear();
      }
    }
    out.write(buf.array(), 0, buf.position());
  }

  /** Total bytes of tensor data added so far (for sharding decisions). */
  public long dataBytes() {
    return entries.stream().mapToLong(Entry::bytes).sum();
  }

  /** Writes the file atomically. */
  public void write(Path file) {
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort(Comparator.comparing(Entry::name));
    var header = Json.object();
    var meta = header.putObject("__metadata__");
    metadata.forEach(meta::put);
    long offset = 0;
    for (Entry e : sorted) {
      var t = header.putObject(e.name);
      t.put("dtype", e.dtype.name());
      var shape = t.putArray("shape");
      for (long d : e.shape) {
        shape.add(d);
      }
      var off = t.putArray("data_offsets");
      off.add(offset);
      off.add(offset + e.bytes);
      offset += e.bytes;
    }
    byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    byte[] hdr = new byte[padded];
    System.arraycopy(json, 0, hdr, 0, json.length);
    java.util.Arrays.fill(hdr, json.length, padded, (byte) ' ');
    AtomicFiles.write(file, out -> {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
      out.write(len.array());
      out.write(hdr);
      for (Entry e : sorted) {
        Streams.CountingOutputStream counting = new Streams.CountingOutputStream(out);
        e.source.writeTo(counting);
        if (counting.count() != e.bytes) {
          throw new IOException("tensor " + e.name + " wrote " + counting.count() + " bytes, declared " + e.bytes);
        }
      }
    });
  }

}
