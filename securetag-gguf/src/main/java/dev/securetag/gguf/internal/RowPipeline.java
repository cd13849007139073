package dev.securetag.gguf.internal;

import dev.securetag.core.InvalidInputException;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.internal.DaemonThreads;
import dev.securetag.core.internal.Half;
import dev.securetag.gguf.GgmlType;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;

/**
 * Streams one tensor at a time from a memory-mapped checkpoint into a GGUF data section: rows are read (permuted,
 * stacked), checked for NaN/Inf, rounded through the intermediate type and quantized in parallel batches of a few
 * MB, so the heap needed is independent of the model size.
 */
public final class RowPipeline implements AutoCloseable {
  private static final int BATCH_VALUES = 1 << 21;
  private static final float[] F16_TABLE = new float[65536];
  private static final ThreadLocal<short[]> SHORTS = ThreadLocal.withInitial(() -> new short[0]);

  static {
    for (int i = 0; i < 65536; i++) {
      F16_TABLE[i] = Half.f16ToFloat((short) i);
    }
  }

  /**
   * Adds a per-row correction (e.g. a merged LoRA update) to a row before rounding; {@code sourceRow} is the row
   * index in the checkpoint tensor (before the Q/K permutation).
   */
  @FunctionalInterface
  public interface RowDelta {
    void addTo(long sourceRow, float[] dst);
  }

  private final int threads;
  private final long windowBytes;
  private final ExecutorService pool;
  private final ThreadLocal<float[]> rowBuf = new ThreadLocal<>();
  private volatile boolean closed;

  public RowPipeline(int threads) {
    this(threads, 1L << 30);
  }

  /** @param windowBytes largest single mapping of checkpoint data (tests use small windows) */
  public RowPipeline(int threads, long windowBytes) {
    this.windowBytes = windowBytes;
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    this.threads = threads;
    this.pool = threads == 1 ? null : DaemonThreads.fixedPool("gguf-quantize", threads);
  }

  /** Rounds a float through F16 exactly as writing and re-reading an F16 tensor would. */
  public static float roundF16(float v) {
    return F16_TABLE[Half.floatToF16(v) & 0xFFFF];
  }

  /**
   * Writes {@code plan}'s data encoded as {@code type}.
   *
   * @param intermediate F16/BF16 to round values through first (as when quantizing a converted F16/BF16 file),
   *     F32 for none
   * @param delta optional per-row correction, may be null
   * @param rowsDone receives the number of rows finished after each batch
   */
  public void write(SafetensorsReader st, TensorPlan plan, GgmlType type, GgmlType intermediate, RowDelta delta,
      OutputStream out, LongConsumer rowsDone) throws IOException {
    if (closed) {
      throw new IllegalStateException("RowPipeline is closed");
    }
    try (Source src = new Source(st, plan, windowBytes)) {
      writeFrom(src, plan, type, intermediate, delta, out, rowsDone);
    }
  }

  private void writeFrom(Source src, TensorPlan plan, GgmlType type, GgmlType intermediate, RowDelta delta,
      OutputStream out, LongConsumer rowsDone) throws IOException {
    if (delta == null && (intermediate == GgmlType.F16 && src.storedAs(SafetensorsReader.DType.F16))
        || delta == null && (intermediate == GgmlType.BF16 && src.storedAs(SafetensorsReader.DType.BF16))) {
      intermediate = GgmlType.F32;
    }
    GgmlType through = intermediate;
    int rowLen = plan.rowLen();
    long rows = plan.rows();
    int rowBytes = (int) type.rowBytes(rowLen);
    int batchRows = (int) Math.max(1, Math.min(rows, BATCH_VALUES / Math.max(1, rowLen)));
    byte[] buf = new byte[batchRows * rowBytes];
    for (long start = 0; start < rows; start += batchRows) {
      int n = (int) Math.min(batchRows, rows - start);
      long first = start;
      if (pool == null || n < 2) {
        encode(src, plan, type, through, delta, first, 0, n, buf, rowBytes);
      } else {
        int per = (n + threads - 1) / threads;
        List<Future<?>> fs = new ArrayList<>();
        for (int from = 0; from < n; from += per) {
          int f = from;
          int to = Math.min(n, from + per);
          fs.add(pool.submit(() -> encode(src, plan, type, through, delta, first, f, to, buf, rowBytes)));
        }
        for (Future<?> fu : fs) {
          try {
            fu.get();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fs.forEach(x -> x.cancel(true));
            throw new InterruptedIOException("quantization of " + plan.name() + " interrupted");
          } catch (ExecutionException e) {
            fs.forEach(x -> x.cancel(true));
            if (e.getCause() instanceof RuntimeException re) {
              throw re;
            }
            if (e.getCause() instanceof Error err) {
              throw err;
            }
            throw new IOException("quantization of " + plan.name() + " failed", e.getCause());
          }
        }
      }
      out.write(buf, 0, n * rowBytes);
      rowsDone.accept(start + n);
    }
  }

  private void encode(Source src, TensorPlan plan, GgmlType type, GgmlType intermediate, RowDelta delta,
      long first, int from, int to, byte[] buf, int rowBytes) {
    int rowLen = plan.rowLen();
    float[] row = rowBuf.get();
    if (row == null || row.length < rowLen) {
      row = new float[rowLen];
      rowBuf.set(row);
    }
    for (int i = from; i < to; i++) {
      long r = first + i;
      src.read(r, row);
      if (delta != null) {
        delta.addTo(src.sourceRow(r), row);
      }
      for (int c = 0; c < rowLen; c++) {
        float v = row[c];
        if (!Float.isFinite(v)) {
          throw new InvalidInputException(src.describe(r, c), "tensor " + plan.name() + " holds a non-finite value ("
              + v + "); refusing to quantize it");
        }
      }
      if (intermediate == GgmlType.F16) {
        for (int c = 0; c < rowLen; c++) {
          row[c] = F16_TABLE[Half.floatToF16(row[c]) & 0xFFFF];
        }
      } else if (intermediate == GgmlType.BF16) {
        for (int c = 0; c < rowLen; c++) {
          row[c] = Half.bf16ToFloat(Half.floatToBf16(row[c]));
        }
      }
      type.quantizeRow(row, 0, rowLen, buf, i * rowBytes);
    }
  }

  /**
   * Reads rows of a planned tensor from its checkpoint parts, applying the Q/K permutation. Each part is mapped in
   * row-aligned windows of at most {@code windowBytes}, so single tensors over 2 GB (F32 embeddings of large
   * vocabularies) convert too.
   */
  private static final class Source implements AutoCloseable {
    private final TensorPlan plan;
    private final FloatBuffer[][] floats;
    private final ShortBuffer[][] shorts;
    private final SafetensorsReader.DType[] dtypes;
    private final long[] windowRows;
    private final long rowsPerPart;
    private final Map<Path, FileChannel> channels = new HashMap<>();

    Source(SafetensorsReader st, TensorPlan plan, long windowBytes) throws IOException {
      this.plan = plan;
      int parts = plan.parts().size();
      floats = new FloatBuffer[parts][];
      shorts = new ShortBuffer[parts][];
      dtypes = new SafetensorsReader.DType[parts];
      windowRows = new long[parts];
      rowsPerPart = parts == 0 ? plan.rows() : plan.rows() / parts;
      try {
        for (int p = 0; p < parts; p++) {
          String name = plan.parts().get(p);
          SafetensorsReader.TensorInfo info = st.tensor(name).orElseThrow();
          if (info.numel() * parts != plan.numel()) {
            throw new InvalidInputException(info.file() + ": " + name, "has " + info.numel()
                + " elements, expected " + plan.numel() / parts);
          }
          dtypes[p] = info.dtype();
          long rowBytes = Math.max(1, (long) plan.rowLen() * info.dtype().bytes());
          long rows = plan.ne().length == 1 ? 1 : rowsPerPart;
          if (plan.ne().length == 1) {
            rowBytes = info.byteSize();
          }
          windowRows[p] = Math.max(1, windowBytes / rowBytes);
          int nw = (int) ((rows + windowRows[p] - 1) / windowRows[p]);
          floats[p] = new FloatBuffer[nw];
          shorts[p] = new ShortBuffer[nw];
          FileChannel ch = channels.get(info.file());
          if (ch == null) {
            ch = FileChannel.open(info.file(), StandardOpenOption.READ);
            channels.put(info.file(), ch);
          }
          for (int w = 0; w < nw; w++) {
            long first = w * windowRows[p];
            long len = Math.min(windowRows[p], rows - first) * rowBytes;
            ByteBuffer data = ch.map(FileChannel.MapMode.READ_ONLY, info.begin() + first * rowBytes, len)
                .order(ByteOrder.LITTLE_ENDIAN);
            if (dtypes[p] == SafetensorsReader.DType.F32) {
              floats[p][w] = data.asFloatBuffer();
            } else {
              shorts[p][w] = data.asShortBuffer();
            }
          }
        }
      } catch (IOException | RuntimeException e) {
        close();
        throw e;
      }
    }

    @Override
    public void close() throws IOException {
      for (FileChannel ch : channels.values()) {
        ch.close();
      }
      channels.clear();
    }

    long sourceRow(long r) {
      long local = r % rowsPerPart;
      int heads = plan.permuteHeads();
      if (heads == 0) {
        return local;
      }
      long hd = rowsPerPart / heads;
      long h = local / hd;
      long w = local % hd;
      return h * hd + (w % 2) * (hd / 2) + w / 2;
    }

    String describe(long r, int c) {
      if (plan.parts().isEmpty()) {
        return plan.name();
      }
      return plan.parts().get((int) (r / rowsPerPart)) + " [row " + sourceRow(r) + ", column " + c + "]";
    }

    void read(long r, float[] dst) {
      int rowLen = plan.rowLen();
      if (plan.generated() != null) {
        System.arraycopy(plan.generated(), (int) (r * rowLen), dst, 0, rowLen);
        return;
      }
      int p = (int) (r / rowsPerPart);
      if (plan.ne().length == 1 && plan.permuteHeads() > 0) {
        readPermutedVector(p, dst);
        return;
      }
      long srcRow = sourceRow(r);
      int w = (int) (srcRow / windowRows[p]);
      int base = (int) ((srcRow % windowRows[p]) * rowLen);
      switch (dtypes[p]) {
        case F32 -> floats[p][w].get(base, dst, 0, rowLen);
        case F16, BF16 -> {
          short[] tmp = SHORTS.get();
          if (tmp.length < rowLen) {
            tmp = new short[rowLen];
            SHORTS.set(tmp);
          }
          shorts[p][w].get(base, tmp, 0, rowLen);
          if (dtypes[p] == SafetensorsReader.DType.F16) {
            for (int c = 0; c < rowLen; c++) {
              dst[c] = F16_TABLE[tmp[c] & 0xFFFF];
            }
          } else {
            for (int c = 0; c < rowLen; c++) {
              dst[c] = Float.intBitsToFloat((tmp[c] & 0xFFFF) << 16);
            }
          }
        }
        default -> throw new IllegalStateException("unsupported dtype " + dtypes[p]);
      }
    }

    /** A permuted 1-D tensor (q/k bias): the head permutation applies to its elements. */
    private void readPermutedVector(int p, float[] dst) {
      int n = plan.rowLen();
      float[] v = new float[n];
      if (dtypes[p] == SafetensorsReader.DType.F32) {
        floats[p][0].get(0, v, 0, n);
      } else {
        for (int c = 0; c < n; c++) {
          int bits = shorts[p][0].get(c) & 0xFFFF;
          v[c] = dtypes[p] == SafetensorsReader.DType.F16 ? F16_TABLE[bits] : Float.intBitsToFloat(bits << 16);
        }
      }
      int hd = n / plan.permuteHeads();
      for (int k = 0; k < n; k++) {
        int h = k / hd;
        int w = k % hd;
        dst[k] = v[h * hd + (w % 2) * (hd / 2) + w / 2];
      }
    }

    /** True when every part is already stored in {@code t}, so rounding through it changes nothing. */
    boolean storedAs(SafetensorsReader.DType t) {
      for (SafetensorsReader.DType d : dtypes) {
        if (d != t) {
          return false;
        }
      }
      return plan.generated() == null && dtypes.length > 0;
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (pool != null) {
      pool.shutdownNow();
    }
  }
}
