package dev.securetag.core;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.internal.Half;
import dev.securetag.core.internal.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads Hugging Face safetensors checkpoints: one file, a directory with {@code model.safetensors}, or a sharded
 * directory with {@code model.safetensors.index.json}. Headers are validated as the reference reader does
 * (contiguous sorted offsets, sizes matching dtype and shape, file length); tensor data is memory-mapped one tensor
 * at a time, so files larger than 2 GB work and nothing is read until asked for.
 *
 * <pre>{@code
 * try (SafetensorsReader st = SafetensorsReader.open(modelDir)) {
 *   float[] w = st.readFloats("model.layers.0.self_attn.q_proj.weight");
 * }
 * }</pre>
 */
public final class SafetensorsReader implements AutoCloseable {
  private static final long MAX_HEADER = 100_000_000L;

  /** Element types of safetensors that securetag reads. */
  public enum DType {
    F32(4), F16(2), BF16(2), F64(8), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

    private final int bytes;

    DType(int bytes) {
      this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
      return bytes;
    }
  }

  /** One tensor's header entry. {@code begin}/{@code end} are absolute file offsets. */
  public record TensorInfo(String name, DType dtype, long[] shape, Path file, long begin, long end) {
    /** Number of elements. */
    public long numel() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }

    /** Size in bytes. */
    public long byteSize() {
      return end - begin;
    }
  }

  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;
  private final Map<Path, FileChannel> channels;
  private volatile boolean closed;

  private SafetensorsReader(Map<String, TensorInfo> tensors, Map<String, String> metadata, Map<Path, FileChannel> channels) {
    this.tensors = tensors;
    this.metadata = metadata;
    this.channels = channels;
  }

  /**
   * Opens a safetensors file, or a checkpoint directory (sharded via {@code model.safetensors.index.json}, or a
   * single {@code model.safetensors}, or {@code adapter_model.safetensors}).
   *
   * @throws InvalidInputException naming the file and the field at fault when a header is malformed
   */
  public static SafetensorsReader open(Path fileOrDir) {
    List<Path> files = new ArrayList<>();
    if (Files.isDirectory(fileOrDir)) {
      Path index = fileOrDir.resolve("model.safetensors.index.json");
      if (Files.exists(index)) {
        files.addAll(shardsOf(index));
      } else if (Files.exists(fileOrDir.resolve("model.safetensors"))) {
        files.add(fileOrDir.resolve("model.safetensors"));
      } else if (Files.exists(fileOrDir.resolve("adapter_model.safetensors"))) {
        files.add(fileOrDir.resolve("adapter_model.safetensors"));
      } else {
        throw new InvalidInputException(fileOrDir.toString(), "no model.safetensors or model.safetensors.index.json");
      }
    } else {
      files.add(fileOrDir);
    }
    Map<String, TensorInfo> all = new LinkedHashMap<>();
    Map<String, String> meta = new LinkedHashMap<>();
    Map<Path, FileChannel> channels = new LinkedHashMap<>();
    try {
      for (Path f : files) {
        FileChannel ch = FileChannel.open(f, StandardOpenOption.READ);
        channels.put(f, ch);
        for (TensorInfo t : parseHeader(f, ch, meta)) {
          if (all.put(t.name(), t) != null) {
            throw new InvalidInputException(f.toString(), "tensor " + t.name() + " appears in more than one shard");
          }
        }
      }
    } catch (IOException e) {
      closeAll(channels);
      throw new UncheckedIOException("cannot read " + fileOrDir + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeAll(channels);
      throw e;
    }
    return new SafetensorsReader(Collections.unmodifiableMap(all), Collections.unmodifiableMap(meta), channels);
  }

  private static List<Path> shardsOf(Path index) {
    JsonNode root;
    try {
      root = Json.readTree(Files.readString(index), index.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + index + ": " + e.getMessage(), e);
    }
    JsonNode map = root.get("weight_map");
    if (map == null || !map.isObject()) {
      throw new InvalidInputException(index + ": weight_map", "missing or not an object");
    }
    List<Path> shards = new ArrayList<>();
    for (Iterator<JsonNode> it = map.elements(); it.hasNext(); ) {
      Path p = index.resolveSibling(it.next().asText());
      if (!shards.contains(p)) {
        shards.add(p);
      }
    }
    return shards;
  }

  private static List<TensorInfo> parseHeader(Path file, FileChannel ch, Map<String, String> meta) throws IOException {
    long size = ch.size();
    String loc = file.toString();
    if (size < 8) {
      throw new InvalidInputException(loc, "truncated: " + size + " bytes, a safetensors file has at least 8");
    }
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, lenBuf, 0);
    long n = lenBuf.flip().getLong();
    if (n <= 0 || n > MAX_HEADER || 8 + n > size) {
      throw new InvalidInputException(loc + ": header length", n + " is invalid for a file of " + size + " bytes");
    }
    ByteBuffer hdr = ByteBuffer.allocate((int) n);
    readFully(ch, hdr, 8);
    JsonNode root = Json.readTree(new String(hdr.array(), StandardCharsets.UTF_8), loc + ": header");
    if (!root.isObject()) {
      throw new InvalidInputException(loc + ": header", "not a JSON object");
    }
    long dataStart = 8 + n;
    List<TensorInfo> infos = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().equals("__metadata__")) {
        e.getValue().fields().forEachRemaining(m -> meta.put(m.getKey(), m.getValue().asText()));
        continue;
      }
      infos.add(parseTensor(file, e.getKey(), e.getValue(), dataStart));
    }
    infos.sort(Comparator.comparingLong(TensorInfo::begin));
    long expect = dataStart;
    for (TensorInfo t : infos) {
      if (t.begin() != expect) {
        throw new InvalidInputException(loc + ": " + t.name() + ".data_offsets",
            "not contiguous: starts at " + (t.begin() - dataStart) + ", expected " + (expect - dataStart));
      }
      expect = t.end();
    }
    if (expect != size) {
      throw new InvalidInputException(loc, (expect > size ? "truncated: " : "trailing bytes: ")
          + "header describes " + expect + " bytes, file has " + size);
    }
    return infos;
  }

  private static TensorInfo parseTensor(Path file, String name, JsonNode node, long dataStart) {
    String loc = file + ": " + name;
    JsonNode dt = node.get("dtype");
    JsonNode sh = node.get("shape");
    JsonNode off = node.get("data_offsets");
    if (dt == null || sh == null || off == null || !sh.isArray() || !off.isArray() || off.size() != 2) {
      throw new InvalidInputException(loc, "needs dtype, shape and data_offsets [begin, end]");
    }
    DType dtype;
    try {
      dtype = DType.valueOf(dt.asText());
    } catch (IllegalArgumentException e) {
      throw new UnsupportedFormatException(loc + ".dtype", "unsupported dtype " + dt.asText());
    }
    long[] shape = new long[sh.size()];
    long numel = 1;
    for (int i = 0; i < shape.length; i++) {
      if (!sh.get(i).canConvertToLong() || sh.get(i).asLong() < 0) {
        throw new InvalidInputException(loc + ".shape", "dimension " + i + " is not a non-negative integer");
      }
      shape[i] = sh.get(i).asLong();
      numel = Math.multiplyExact(numel, shape[i]);
    }
    long begin = off.get(0).asLong();
    long end = off.get(1).asLong();
    if (begin < 0 || end < begin) {
      throw new InvalidInputException(loc + ".data_offsets", "[" + begin + ", " + end + "] is not a range");
    }
    if (end - begin != numel * dtype.bytes()) {
      throw new InvalidInputException(loc + ".data_offsets",
          (end - begin) + " bytes but shape and dtype need " + numel * dtype.bytes());
    }
    return new TensorInfo(name, dtype, shape, file, dataStart + begin, dataStart + end);
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    while (buf.hasRemaining()) {
      int r = ch.read(buf, pos);
      if (r < 0) {
        throw new IOException("unexpected end of file");
      }
      pos += r;
    }
  }

  /** All tensors in file-then-offset order. */
  public List<TensorInfo> tensors() {
    return List.copyOf(tensors.values());
  }

  /** Tensor names. */
  public java.util.Set<String> names() {
    return tensors.keySet();
  }

  public Optional<TensorInfo> tensor(String name) {
    return Optional.ofNullable(tensors.get(name));
  }

  /** The header's {@code __metadata__} entries (of all shards). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The tensor's raw little-endian bytes, memory-mapped read-only. */
  public ByteBuffer data(String name) {
    ensureOpen();
    TensorInfo t = require(name);
    if (t.byteSize() > Integer.MAX_VALUE) {
      throw new UnsupportedFormatException(t.file() + ": " + name, "a single tensor over 2 GB cannot be mapped on Java 17");
    }
    try {
      MappedByteBuffer mb = channels.get(t.file()).map(FileChannel.MapMode.READ_ONLY, t.begin(), t.byteSize());
      return mb.order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot map " + name + " in " + t.file() + ": " + e.getMessage(), e);
    }
  }

  /** The tensor converted to float (F32, F16 and BF16 tensors). */
  public float[] readFloats(String name) {
    TensorInfo t = require(name);
    if (t.numel() > Integer.MAX_VALUE - 8) {
      throw new UnsupportedFormatException(t.file() + ": " + name, "too many elements for one float[]");
    }
    float[] out = new float[(int) t.numel()];
    readFloats(name, 0, out, 0, out.length);
    return out;
  }

  /** Reads {@code len} elements starting at element {@code from} into {@code dst[off..]}, converting to float. */
  public void readFloats(String name, long from, float[] dst, int off, int len) {
    TensorInfo t = require(name);
    if (from < 0 || from + len > t.numel()) {
      throw new IndexOutOfBoundsException("elements [" + from + ", " + (from + len) + ") of " + name + " (" + t.numel() + ")");
    }
    ByteBuffer b = data(name);
    switch (t.dtype()) {
      case F32 -> b.position((int) (from * 4)).asFloatBuffer().get(dst, off, len);
      case F16 -> {
        for (int i = 0; i < len; i++) {
          dst[off + i] = Half.f16ToFloat(b.getShort((int) ((from + i) * 2)));
        }
      }
      case BF16 -> {
        for (int i = 0; i < len; i++) {
          dst[off + i] = Half.bf16ToFloat(b.getShort((int) ((from + i) * 2)));
        }
      }
      default -> throw new UnsupportedFormatException(t.file() + ": " + name + ".dtype",
          t.dtype() + " cannot be read as float (F32, F16, BF16 only)");
    }
  }

  private TensorInfo require(String name) {
    TensorInfo t = tensors.get(name);
    if (t == null) {
      throw new InvalidInputException(name, "no such tensor in the checkpoint");
    }
    return t;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("SafetensorsReader is closed");
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      closeAll(channels);
    }
  }

  private static void closeAll(Map<Path, FileChannel> channels) {
    for (FileChannel ch : channels.values()) {
      try {
        ch.close();
      } catch (IOException e) {
        // Closing a read-only channel cannot lose data; nothing to report.
      }
    }
  }

  @Override
  public String toString() {
    return "SafetensorsReader{" + tensors.size() + " tensors in " + channels.size() + " file(s)}";
  }

}
