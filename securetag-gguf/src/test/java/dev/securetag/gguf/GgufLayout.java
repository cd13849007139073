package dev.securetag.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Which field of a GGUF v3 file each byte belongs to, found by walking the layout of the format description
 * (ggml/docs/gguf.md) independently of {@link GgufReader}, so that corruption tests can say what a mutation hit.
 */
final class GgufLayout {
  /** The kind of bytes at a position. */
  enum Field {
    MAGIC, VERSION, COUNT, KEY_LENGTH, KEY, VALUE_TYPE, ARRAY_ITEM_TYPE, ARRAY_LENGTH, STRING_LENGTH, STRING, SCALAR,
    TENSOR_NAME_LENGTH, TENSOR_NAME, N_DIMS, NE, GGML_TYPE, OFFSET, PADDING, DATA
  }

  private final Field[] fields;
  private final int[] entries;
  private final int kvCount;
  private final long dataOffset;
  private final List<long[]> tensorRanges;

  private GgufLayout(Field[] fields, int[] entries, int kvCount, long dataOffset, List<long[]> tensorRanges) {
    this.fields = fields;
    this.entries = entries;
    this.kvCount = kvCount;
    this.dataOffset = dataOffset;
    this.tensorRanges = tensorRanges;
  }

  /** Walks an intact file; {@code dataOffset} is where its tensor data starts. */
  static GgufLayout walk(byte[] file, long dataOffset) {
    Walker w = new Walker(file, (int) dataOffset);
    w.mark(4, Field.MAGIC, -1);
    w.mark(4, Field.VERSION, -1);
    long nTensors = w.mark(8, Field.COUNT, -1);
    long nKv = w.mark(8, Field.COUNT, -1);
    for (int i = 0; i < nKv; i++) {
      w.string(Field.KEY_LENGTH, Field.KEY, i);
      int type = (int) w.mark(4, Field.VALUE_TYPE, i);
      if (type == 9) {
        int item = (int) w.mark(4, Field.ARRAY_ITEM_TYPE, i);
        long n = w.mark(8, Field.ARRAY_LENGTH, i);
        for (long k = 0; k < n; k++) {
          w.value(item, i);
        }
      } else {
        w.value(type, i);
      }
    }
    List<long[]> ranges = new ArrayList<>();
    for (int t = 0; t < nTensors; t++) {
      int entry = (int) nKv + t;
      w.string(Field.TENSOR_NAME_LENGTH, Field.TENSOR_NAME, entry);
      int nDims = (int) w.mark(4, Field.N_DIMS, entry);
      long[] ne = new long[nDims];
      for (int d = 0; d < nDims; d++) {
        ne[d] = w.mark(8, Field.NE, entry);
      }
      int typeId = (int) w.mark(4, Field.GGML_TYPE, entry);
      long offset = w.mark(8, Field.OFFSET, entry);
      GgmlType type = GgmlType.fromId(typeId).orElseThrow();
      ranges.add(new long[] {dataOffset + offset, dataOffset + offset + type.byteSize(ne)});
    }
    while (w.pos < dataOffset) {
      w.mark(1, Field.PADDING, -1);
    }
    return new GgufLayout(w.fields, w.entries, (int) nKv, dataOffset, ranges);
  }

  Field field(int pos) {
    return pos >= dataOffset ? Field.DATA : fields[pos];
  }

  /** The KV index, or KV count + tensor index, that the byte belongs to; -1 for file-level fields. */
  int entry(int pos) {
    return pos >= dataOffset ? -1 : entries[pos];
  }

  int kvCount() {
    return kvCount;
  }

  /** Whether a data-section byte lies inside a tensor rather than in the alignment padding between tensors. */
  boolean inTensor(int pos) {
    for (long[] r : tensorRanges) {
      if (pos >= r[0] && pos < r[1]) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether the byte is a length, count, type, shape or offset: a field that the rest of the file's layout hangs on.
   * Key and string bytes, scalar values and a KV's value type (a same-width type is a valid different value) are not.
   */
  boolean isStructural(int pos) {
    return switch (field(pos)) {
      case MAGIC, VERSION, COUNT, KEY_LENGTH, ARRAY_LENGTH, STRING_LENGTH, TENSOR_NAME_LENGTH, N_DIMS, NE, GGML_TYPE,
          OFFSET -> true;
      default -> false;
    };
  }

  private static final class Walker {
    final ByteBuffer b;
    final Field[] fields;
    final int[] entries;
    int pos;

    Walker(byte[] file, int header) {
      b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
      fields = new Field[header];
      entries = new int[header];
    }

    long mark(int n, Field f, int entry) {
      for (int i = 0; i < n; i++) {
        fields[pos + i] = f;
        entries[pos + i] = entry;
      }
      long v = switch (n) {
        case 1 -> b.get(pos) & 0xFF;
        case 2 -> b.getShort(pos) & 0xFFFF;
        case 4 -> b.getInt(pos) & 0xFFFFFFFFL;
        default -> b.getLong(pos);
      };
      pos += n;
      return v;
    }

    void string(Field length, Field bytes, int entry) {
      int n = (int) mark(8, length, entry);
      for (int i = 0; i < n; i++) {
        mark(1, bytes, entry);
      }
    }

    void value(int type, int entry) {
      switch (type) {
        case 0, 1, 7 -> mark(1, Field.SCALAR, entry);
        case 2, 3 -> mark(2, Field.SCALAR, entry);
        case 4, 5, 6 -> mark(4, Field.SCALAR, entry);
        case 10, 11, 12 -> mark(8, Field.SCALAR, entry);
        case 8 -> string(Field.STRING_LENGTH, Field.STRING, entry);
        default -> throw new IllegalArgumentException("value type " + type + " at byte " + pos);
      }
    }
  }
}
