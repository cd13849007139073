package dev.securetag.gguf.internal.runtime;

import dev.securetag.core.Half;
import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.gguf.GgmlType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A weight matrix stored in a ggml type inside a (memory-mapped) buffer: {@code rows} rows of {@code cols} values,
 * each row packed in whole blocks. The only operation inference needs is the dot product of one row with an
 * activation vector; it reads the quantized bytes directly so that decoding streams each weight byte once.
 *
 * <p>Two implementations of every dot product exist: the scalar one dequantizes a row with the module's reference
 * dequantizer and sums in plain Java (the ground truth the tests compare against), the vector one reads blocks with
 * the incubator Vector API. Types without a dedicated vector kernel use the scalar path with a vectorised final dot.
 */
public final class QMatrix {
  private final String name;
  private final GgmlType type;
  private final ByteBuffer data;
  private final int rows;
  private final int cols;
  private final int rowBytes;
  private final boolean vector;

  public QMatrix(String name, GgmlType type, ByteBuffer data, int rows, int cols, boolean vector) {
    if (!type.canQuantize()) {
      throw new UnsupportedFormatException("tensor '" + name + "'", "ggml type " + type
          + " is not supported by the CPU runtime (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K,"
          + " Q5_K, Q6_K)");
    }
    this.name = name;
    this.type = type;
    this.data = data.order(ByteOrder.LITTLE_ENDIAN);
    this.rows = rows;
    this.cols = cols;
    this.rowBytes = (int) type.rowBytes(cols);
    this.vector = vector && VectorKernels.AVAILABLE;
  }

  public String name() {
    return name;
  }

  public GgmlType type() {
    return type;
  }

  public int rows() {
    return rows;
  }

  public int cols() {
    return cols;
  }

  /** Bytes of one row. */
  public int rowBytes() {
    return rowBytes;
  }

  /** Bytes of the whole matrix. */
  public long bytes() {
    return (long) rowBytes * rows;
  }

  /** Decodes row {@code r} into {@code out[outOff..outOff+cols)} with the reference dequantizer. */
  public void row(int r, float[] out, int outOff) {
    type.dequantizeRow(data, r * rowBytes, cols, out, outOff);
  }

  /** Decodes row {@code r} into {@code out[0..cols)}, with vector instructions where the type has them. */
  public void decodeRow(int r, float[] out) {
    if (!vector || !VectorKernels.decode(type, data, r * rowBytes, out, cols)) {
      type.dequantizeRow(data, r * rowBytes, cols, out, 0);
    }
  }

  /** Dot product of row {@code r} with {@code x[xo..xo+cols)}; {@code scratch} holds at least {@code cols} floats. */
  public float dot(int r, float[] x, int xo, float[] scratch) {
    int off = r * rowBytes;
    if (vector) {
      switch (type) {
        case F32:
          return VectorKernels.dotF32(data, off, x, xo, cols);
        case F16:
          return VectorKernels.dotF16(data, off, x, xo, cols);
        case Q8_0:
          return VectorKernels.ARRAY_KERNELS
              ? VectorKernels.dotQ8_0(VectorKernels.rowBytes(data, off, rowBytes), x, xo, cols)
              : VectorKernels.dotQ8_0(data, off, x, xo, cols);
        case Q4_0:
          return VectorKernels.dotQ4_0(data, off, x, xo, cols);
        case Q4_K:
          return VectorKernels.ARRAY_KERNELS
              ? VectorKernels.dotQ4_K(VectorKernels.rowBytes(data, off, rowBytes), x, xo, cols)
              : VectorKernels.dotQ4_K(data, off, x, xo, cols);
        case Q6_K:
          return VectorKernels.ARRAY_KERNELS
              ? VectorKernels.dotQ6_K(VectorKernels.rowBytes(data, off, rowBytes), x, xo, cols)
              : VectorKernels.dotQ6_K(data, off, x, xo, cols);
        default:
          type.dequantizeRow(data, off, cols, scratch, 0);
          return VectorKernels.dot(scratch, 0, x, xo, cols);
      }
    }
    return scalarDot(off, x, xo, scratch);
  }

  private float scalarDot(int off, float[] x, int xo, float[] scratch) {
    switch (type) {
      case F32: {
        float s = 0;
        for (int i = 0; i < cols; i++) {
          s += data.getFloat(off + 4 * i) * x[xo + i];
        }
        return s;
      }
      case F16: {
        float s = 0;
        for (int i = 0; i < cols; i++) {
          s += Half.f16ToFloat(data.getShort(off + 2 * i)) * x[xo + i];
        }
        return s;
      }
      default: {
        type.dequantizeRow(data, off, cols, scratch, 0);
        float s = 0;
        for (int i = 0; i < cols; i++) {
          s += scratch[i] * x[xo + i];
        }
        return s;
      }
    }
  }

  @Override
  public String toString() {
    return name + " " + type + " [" + cols + " x " + rows + "]";
  }
}
