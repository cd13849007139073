package dev.securetag.gguf;

import dev.securetag.core.UnsupportedFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a GGUF v3 file: the header (metadata and tensor infos) is parsed and validated eagerly with the checks
 * llama.cpp's loader applies, tensor data is memory-mapped on demand, one mapping per request, so files (and tensors
 * read by range) beyond 2 GB work on Java 17.
 *
 * <pre>{@code
 * try (GgufReader gguf = GgufReader.open(Path.of("model.gguf"))) {
 *   String arch = gguf.metadata().get("general.architecture").asString();
 *   ByteBuffer q = gguf.tensorData("blk.0.attn_q.weight");
 * }
 * }</pre>
 *
 * @throws GgufFormatException from {@link #open} naming the file, field and byte position at fault
 */
public final class GgufReader implements AutoCloseable {
  /** {@code GGUF} as a little-endian uint32. */
  public static final int MAGIC = 0x46554747;
  /** Alignment used when {@code general.alignment} is absent. */
  public static final int DEFAULT_ALIGNMENT = 32;
  /** Longest tensor name llama.cpp accepts ({@code GGML_MAX_NAME} - 1). */
  public static final int MAX_NAME_BYTES = 63;
  private static final long MAX_STRING = 1L << 30;
  private static final long MAX_ARRAY = 1L << 30;

  private final Path file;
  private final FileChannel channel;
  private final int version;
  private final Map<String, GgufValue> metadata;
  private final List<GgufTensorInfo> tensors;
  private final Map<String, GgufTensorInfo> byName;
  private final int alignment;
  private final long dataOffset;
  private final long fileSize;
  private volatile boolean closed;

  private GgufReader(Path file, FileChannel channel, int version, Map<String, GgufValue> metadata,
      List<GgufTensorInfo> tensors, int alignment, long dataOffset, long fileSize) {
    this.file = file;
    this.channel = channel;
    this.version = version;
    this.metadata = metadata;
    this.tensors = tensors;
    this.alignment = alignment;
    this.dataOffset = dataOffset;
    this.fileSize = fileSize;
    Map<String, GgufTensorInfo> m = new LinkedHashMap<>();
    for (GgufTensorInfo t : tensors) {
      m.put(t.name(), t);
    }
    this.byName = Collections.unmodifiableMap(m);
  }

  /**
   * Opens and validates {@code file}.
   *
   * @throws GgufFormatException when the file is not a valid GGUF v3 file (bad magic, unsupported version, truncated,
   *     bad types, offsets out of range or misaligned ...)
   * @throws UncheckedIOException when the file cannot be read
   */
  public static GgufReader open(Path file) {
    FileChannel ch;
    try {
      ch = FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open " + file + ": " + e.getMessage(), e);
    }
    try {
      return parse(file, ch);
    } catch (IOException e) {
      closeQuietly(ch);
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly(ch);
      throw e;
    }
  }

  private static void closeQuietly(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException suppressed) {
      // Already failing with the parse error, which is the one the caller needs.
    }
  }

  private static GgufReader parse(Path file, FileChannel ch) throws IOException {
    long size = ch.size();
    Cursor c = new Cursor(file.toString(), ch, size);
    int magic = c.i32("magic");
    if (magic != MAGIC) {
      throw c.error("magic", String.format("bad magic 0x%08x, expected 0x%08x (\"GGUF\")", magic, MAGIC));
    }
    int version = c.i32("version");
    if ((version & 0xFFFF) == 0) {
      throw new UnsupportedFormatException(file + ": version", "version " + version
          + " looks byte-swapped (big-endian GGUF files are not supported)");
    }
    if (version != 3) {
      throw new UnsupportedFormatException(file + ": version",
          "GGUF version " + version + " is not supported (only 3)");
    }
    long nTensors = c.i64("tensor_count");
    long nKv = c.i64("kv_count");
    // Each KV needs at least 8+1+4 bytes and each tensor info 8+1+4+8+4+8: counts beyond that are corrupt.
    if (nTensors < 0 || nTensors > size / 33) {
      throw c.error("tensor_count", "file is truncated or the count is corrupt: tensor count " + nTensors
          + " for a file of " + size + " bytes");
    }
    if (nKv < 0 || nKv > size / 13) {
      throw c.error("kv_count", "file is truncated or the count is corrupt: metadata count " + nKv
          + " for a file of " + size + " bytes");
    }
    Map<String, GgufValue> meta = new LinkedHashMap<>();
    for (long i = 0; i < nKv; i++) {
      String key = c.string("kv[" + i + "].key");
      if (key.isEmpty()) {
        throw c.error("kv[" + i + "].key", "empty key");
      }
      if (meta.containsKey(key)) {
        throw c.error("kv[" + i + "].key", "duplicate key '" + key + "'");
      }
      String field = "kv '" + key + "'";
      int typeId = c.i32(field + " type");
      GgufValueType type = GgufValueType.fromId(typeId)
          .orElseThrow(() -> c.error(field + " type", "invalid value type " + typeId));
      meta.put(key, readValue(c, type, field));
    }
    int alignment = DEFAULT_ALIGNMENT;
    GgufValue al = meta.get("general.alignment");
    if (al != null) {
      if (al.type() != GgufValueType.UINT32) {
        throw c.error("kv 'general.alignment'", "must be UINT32, got " + al.type());
      }
      long a = al.asLong();
      if (a == 0 || (a & (a - 1)) != 0 || a > (1 << 30)) {
        throw c.error("kv 'general.alignment'", "must be a non-zero power of two, got " + a);
      }
      alignment = (int) a;
    }
    List<GgufTensorInfo> infos = new ArrayList<>();
    Set<String> names = new HashSet<>();
    long expectedOffset = 0;
    for (long i = 0; i < nTensors; i++) {
      String name = c.string("tensor[" + i + "].name");
      String field = "tensor '" + name + "'";
      if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
        throw c.error(field + " name", "name longer than " + MAX_NAME_BYTES + " bytes");
      }
      if (!names.add(name)) {
        throw c.error(field + " name", "duplicate tensor name");
      }
      int nDims = c.i32(field + " n_dims");
      if (nDims < 1 || nDims > 4) {
        throw c.error(field + " n_dims", "n_dims " + Integer.toUnsignedString(nDims) + " is not in 1..4");
      }
      long[] ne = new long[nDims];
      long numel = 1;
      for (int d = 0; d < nDims; d++) {
        ne[d] = c.i64(field + " ne[" + d + "]");
        if (ne[d] < 0) {
          throw c.error(field + " ne[" + d + "]", "negative dimension " + ne[d]);
        }
        try {
          numel = Math.multiplyExact(numel, ne[d]);
        } catch (ArithmeticException e) {
          throw c.error(field + " ne", "element count overflows int64");
        }
      }
      int typeId = c.i32(field + " type");
      if (typeId < 0 || typeId >= GgmlType.TYPE_COUNT) {
        throw c.error(field + " type", "invalid ggml type id " + typeId);
      }
      GgmlType type = GgmlType.fromId(typeId)
          .orElseThrow(() -> c.error(field + " type", "ggml type id " + typeId + " was removed from ggml"));
      if (ne[0] % type.blockSize() != 0) {
        throw c.error(field + " ne[0]", "row length " + ne[0] + " is not a multiple of the " + type
            + " block size " + type.blockSize());
      }
      long offset = c.i64(field + " offset");
      if (offset != expectedOffset) {
        throw c.error(field + " offset", "data offset " + offset + ", expected " + expectedOffset
            + (offset % alignment != 0 ? " (not aligned to " + alignment + ")" : "")
            + " (tensor data must be contiguous, each tensor padded to the alignment)");
      }
      GgufTensorInfo info = new GgufTensorInfo(name, type, ne, offset);
      long bytes;
      try {
        bytes = info.byteSize();
        expectedOffset = Math.addExact(offset, pad(bytes, alignment));
      } catch (ArithmeticException e) {
        throw c.error(field + " ne", "tensor size overflows int64");
      }
      infos.add(info);
    }
    long dataOffset = nTensors > 0 ? pad(c.position(), alignment) : c.position();
    if (!infos.isEmpty()) {
      GgufTensorInfo last = infos.get(infos.size() - 1);
      long end = dataOffset + last.offset() + last.byteSize();
      if (end > size) {
        throw new GgufFormatException(file + ": tensor '" + last.name() + "' data",
            "file is truncated: tensor data ends at byte " + end + " but the file has " + size + " bytes");
      }
      // llama.cpp and gguf-py pad every tensor, the last one included, so a file ends within one alignment of the
      // last tensor's bytes. Anything beyond means the header lost a tensor or shrank one.
      if (size > pad(end, alignment)) {
        throw new GgufFormatException(file + ": tensor_count / tensor '" + last.name() + "' ne",
            "the tensors end at byte " + end + " but the file has " + size + " bytes: the tensor count or a"
                + " tensor shape is corrupt");
      }
    }
    return new GgufReader(file, ch, version, Collections.unmodifiableMap(meta), List.copyOf(infos), alignment,
        dataOffset, size);
  }

  private static GgufValue readValue(Cursor c, GgufValueType type, String field) throws IOException {
    if (type == GgufValueType.ARRAY) {
      int itemId = c.i32(field + " array type");
      GgufValueType item = GgufValueType.fromId(itemId)
          .orElseThrow(() -> c.error(field + " array type", "invalid array element type " + itemId));
      if (item == GgufValueType.ARRAY) {
        throw c.error(field + " array type", "nested arrays are not supported");
      }
      long n = c.i64(field + " array length");
      long minBytes = item == GgufValueType.STRING ? 8 : item.scalarBytes();
      if (n < 0 || n > MAX_ARRAY || n * minBytes > c.remaining()) {
        throw c.error(field + " array length", "file is truncated or the length is corrupt: array length "
            + Long.toUnsignedString(n) + " exceeds the limit or the remaining " + c.remaining() + " bytes");
      }
      List<Object> items = new ArrayList<>((int) n);
      for (long i = 0; i < n; i++) {
        items.add(scalar(c, item, field + "[" + i + "]"));
      }
      return new GgufValue(GgufValueType.ARRAY, item, items);
    }
    return new GgufValue(type, null, scalar(c, type, field));
  }

  private static Object scalar(Cursor c, GgufValueType t, String field) throws IOException {
    return switch (t) {
      case UINT8 -> (long) (c.u8(field) & 0xFF);
      case INT8 -> (long) c.u8(field);
      case UINT16 -> (long) (c.i16(field) & 0xFFFF);
      case INT16 -> (long) c.i16(field);
      case UINT32 -> c.i32(field) & 0xFFFFFFFFL;
      case INT32 -> (long) c.i32(field);
      case UINT64, INT64 -> c.i64(field);
      case FLOAT32 -> Float.intBitsToFloat(c.i32(field));
      case FLOAT64 -> Double.longBitsToDouble(c.i64(field));
      case BOOL -> c.u8(field) != 0;
      case STRING -> c.string(field);
      case ARRAY -> throw c.error(field, "nested arrays are not supported");
    };
  }

  static long pad(long n, int alignment) {
    return (n + alignment - 1) / alignment * alignment;
  }

  /** The file this reader reads. */
  public Path file() {
    return file;
  }

  /** GGUF version (always 3). */
  public int version() {
    return version;
  }

  /** Metadata in file order. */
  public Map<String, GgufValue> metadata() {
    return metadata;
  }

  /** A metadata value by key. */
  public Optional<GgufValue> get(String key) {
    return Optional.ofNullable(metadata.get(key));
  }

  /** Tensor infos in file order. */
  public List<GgufTensorInfo> tensors() {
    return tensors;
  }

  /** A tensor info by name. */
  public Optional<GgufTensorInfo> tensor(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** Data alignment in bytes. */
  public int alignment() {
    return alignment;
  }

  /** Absolute file offset of the data section. */
  public long dataOffset() {
    return dataOffset;
  }

  /** Size of the file in bytes. */
  public long fileSize() {
    return fileSize;
  }

  /**
   * A tensor's bytes, memory-mapped read-only, little-endian, positioned at 0.
   *
   * @throws UnsupportedFormatException for a single tensor over 2 GB (use {@link #tensorData(String, long, int)})
   */
  public ByteBuffer tensorData(String name) {
    GgufTensorInfo t = require(name);
    long bytes = t.byteSize();
    if (bytes > Integer.MAX_VALUE) {
      throw new UnsupportedFormatException(file + ": tensor '" + name + "'",
          "tensor of " + bytes + " bytes does not fit one mapping; read it by range");
    }
    return tensorData(name, 0, (int) bytes);
  }

  /** {@code length} bytes of a tensor starting at byte {@code from} of its data, memory-mapped read-only. */
  public ByteBuffer tensorData(String name, long from, int length) {
    ensureOpen();
    GgufTensorInfo t = require(name);
    if (from < 0 || length < 0 || from + length > t.byteSize()) {
      throw new IndexOutOfBoundsException("bytes [" + from + ", " + (from + length) + ") of tensor '" + name
          + "' (" + t.byteSize() + " bytes)");
    }
    try {
      return channel.map(FileChannel.MapMode.READ_ONLY, dataOffset + t.offset() + from, length)
          .order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot map tensor '" + name + "' of " + file + ": " + e.getMessage(), e);
    }
  }

  /** The tensor decoded to float (any type with a dequantizer: F32, F16, BF16, Q4_0/1, Q5_0/1, Q8_0, K-quants). */
  public float[] readFloats(String name) {
    GgufTensorInfo t = require(name);
    long n = t.numel();
    if (n > Integer.MAX_VALUE - 8) {
      throw new UnsupportedFormatException(file + ": tensor '" + name + "'", "too many elements for one float[]");
    }
    float[] out = new float[(int) n];
    ByteBuffer data = tensorData(name);
    t.type().dequantizeRow(data, 0, (int) n, out, 0);
    return out;
  }

  private GgufTensorInfo require(String name) {
    GgufTensorInfo t = byName.get(name);
    if (t == null) {
      throw new IllegalArgumentException("no tensor '" + name + "' in " + file);
    }
    return t;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("GgufReader for " + file + " is closed");
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "GgufReader[" + file + ", " + tensors.size() + " tensors, " + metadata.size() + " keys]";
  }

  /** Sequential little-endian reads through a window buffer, checking every read against the file size. */
  private static final class Cursor {
    private final String file;
    private final FileChannel ch;
    private final long size;
    private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    private long bufStart;

    Cursor(String file, FileChannel ch, long size) {
      this.file = file;
      this.ch = ch;
      this.size = size;
      buf.limit(0);
    }

    long position() {
      return bufStart + buf.position();
    }

    long remaining() {
      return size - position();
    }

    GgufFormatException error(String field, String message) {
      return new GgufFormatException(file + ": " + field + " (byte " + position() + ")", message);
    }

    private void need(int n, String field) throws IOException {
      if (remaining() < n) {
        throw new GgufFormatException(file + ": " + field + " (byte " + position() + ")",
            "file is truncated: needs " + n + " more bytes, " + remaining() + " left");
      }
      if (buf.remaining() < n) {
        long pos = position();
        buf.clear();
        bufStart = pos;
        long want = Math.min(buf.capacity(), size - pos);
        buf.limit((int) want);
        while (buf.hasRemaining()) {
          if (ch.read(buf, bufStart + buf.position()) < 0) {
            throw new GgufFormatException(file + ": " + field, "file shrank while reading");
          }
        }
        buf.flip();
      }
    }

    byte u8(String field) throws IOException {
      need(1, field);
      return buf.get();
    }

    short i16(String field) throws IOException {
      need(2, field);
      return buf.getShort();
    }

    int i32(String field) throws IOException {
      need(4, field);
      return buf.getInt();
    }

    long i64(String field) throws IOException {
      need(8, field);
      return buf.getLong();
    }

    String string(String field) throws IOException {
      long len = i64(field + " length");
      if (len < 0 || len > MAX_STRING || len > remaining()) {
        throw error(field, "file is truncated or the length is corrupt: string length " + Long.toUnsignedString(len)
            + " exceeds the limit or the remaining "
            + remaining() + " bytes");
      }
      byte[] bytes = new byte[(int) len];
      int done = 0;
      while (done < bytes.length) {
        int chunk = Math.min(bytes.length - done, buf.capacity());
        need(chunk, field);
        buf.get(bytes, done, chunk);
        done += chunk;
      }
      try {
        return StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(bytes))
            .toString();
      } catch (CharacterCodingException e) {
        throw new GgufFormatException(file + ": " + field, "string is not valid UTF-8", e);
      }
    }
  }
}
