package dev.securetag.gguf.internal.runtime;

import dev.securetag.core.Half;
import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.gguf.GgmlType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A weight matrix stored in a ggml type inside a (memory-mapped) buffer: {@code rows} rows of {@code cols} values,
 * each row packed in whole blocks, read in place (never copied or repacked).
 *
 * <p>Products: {@link #dot(int, Q8Activation, float[])} is what inference runs; for quantized types it is llama.cpp's
 * integer dot product with 8-bit activations, by the Vector API kernels of {@link Int8Kernels} or, when not
 * vectorized, the scalar {@link Int8Reference}. {@link #dot(int, float[], int, float[])} multiplies with float
 * activations (the weights dequantized exactly): the float reference, and the product of F32/F16/BF16 and LoRA
 * matrices. {@link #decodeRow} feeds the batched prompt kernels.
 */
public final class QMatrix {
  private final String name;
  private final GgmlType type;
  private final ByteBuffer data;
  private final int rows;
  private final int cols;
  private final int rowBytes;
  private final boolean vector;
  private final boolean integer;

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
    this.integer = Int8Reference.supports(type);
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

  /**
   * True when products with this matrix use 8-bit activations ({@link Q8Activation}), as llama.cpp does for every
   * quantized type; F32, F16 and BF16 weights take float activations.
   */
  public boolean integer() {
    return integer;
  }

  /** True when the activations of this matrix use the q8_K grid (K-quant weights), else q8_0. */
  public boolean usesQ8K() {
    return Int8Reference.usesQ8K(type);
  }

  /**
   * Row {@code r} times the activation {@code a}: llama.cpp's integer dot product for quantized types (Vector API
   * kernel, or {@link Int8Reference} when not vectorized), the float dot with {@code a.floats()} otherwise.
   */
  public float dot(int r, Q8Activation a, float[] scratch) {
    if (!integer) {
      return dot(r, a.floats(), 0, scratch);
    }
    int off = r * rowBytes;
    if (!vector) {
      return Int8Reference.dot(type, data, off, cols, a);
    }
    switch (type) {
      case Q8_0:
        return Int8Kernels.q8_0(data, off, cols, a.q8_0());
      case Q4_0:
        return Int8Kernels.q4_0(data, off, cols, a.q8_0());
      case Q5_0:
        return Int8Kernels.q5_0(data, off, cols, a.q8_0());
      case Q4_K:
        return Int8Kernels.q4_K(data, off, cols, a.q8_K());
      case Q5_K:
        return Int8Kernels.q5_K(data, off, cols, a.q8_K());
      case Q6_K:
        return Int8Kernels.q6_K(data, off, cols, a.q8_K());
      default:
        return Int8Reference.dot(type, data, off, cols, a);
    }
  }

  /**
   * The activations the batched (prompt) kernels multiply this matrix with: {@code a} rounded to llama.cpp's 8-bit
   * grid for quantized weights (so batched and one-token products agree up to float rounding), the float input for
   * F32/F16/BF16 weights.
   */
  public float[] batchInput(Q8Activation a) {
    if (!integer) {
      return a.floats();
    }
    return usesQ8K() ? a.dequantizedK() : a.dequantized0();
  }

  /**
   * Dot product of row {@code r} with float activations {@code x[xo..xo+cols)}: the weights dequantized exactly and
   * multiplied in float32 (the reference the integer kernels are checked against, and the path of F32/F16/BF16 and
   * LoRA matrices); {@code scratch} holds at least {@code cols} floats.
   */
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
          if (VectorKernels.ARRAY_KERNELS) {
            // The buffer kernel uses a second byte shape (see VectorKernels.BW): decode, then a float dot.
            type.dequantizeRow(data, off, cols, scratch, 0);
            return VectorKernels.dot(scratch, 0, x, xo, cols);
          }
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
