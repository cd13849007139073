package dev.securetag.gguf.runtime.internal;

import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.core.internal.Half;
import dev.securetag.gguf.GgmlType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A weight matrix stored in a ggml type inside a (memory-mapped) buffer: {@code rows} rows of {@code cols} values,
 * each row packed in whole blocks, read in place (never copied or repacked).
 *
 * <p>Products: {@link #dot(int, Q8Activation, float[])} is what inference runs; for quantized types it is llama.cpp's
 * integer dot product with 8-bit activations, by the Vector API kernel of the type's class ({@code Q8_0Kernels},
 * {@code Q4_KKernels}, ...) or, when not vectorized, the scalar reference beside it. {@link #dot(int, float[], int,
 * float[])} multiplies with float activations (the weights dequantized exactly): the float reference, and the
 * product of F32/F16/BF16 and LoRA matrices. {@link #decodeRow} feeds the batched prompt kernels.
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
  private final int nativeKind;

  /** A matrix whose products use the native kernels where they are available and {@code vector} is set. */
  public QMatrix(String name, GgmlType type, ByteBuffer data, int rows, int cols, boolean vector) {
    this(name, type, data, rows, cols, vector, vector);
  }

  /**
   * {@code vector}: Java Vector API kernels (else the scalar references); {@code allowNative}: {@link #dotRows} uses
   * {@link NativeKernels} when they are loaded, the type has one and the data is a direct (mapped) buffer.
   */
  public QMatrix(String name, GgmlType type, ByteBuffer data, int rows, int cols, boolean vector,
      boolean allowNative) {
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
    this.vector = vector && Kernels.AVAILABLE;
    this.integer = Q8Activation.hasIntegerDot(type);
    this.nativeKind = allowNative && NativeKernels.available() && data.isDirect() ? NativeKernels.kind(type) : -1;
  }

  /** True when {@link #dotRows} runs the native kernel of this matrix's type. */
  public boolean nativeKernel() {
    return nativeKind >= 0;
  }

  /**
   * True when {@link #dotRowsBatch} runs a native batched kernel (Q8_0, Q4_K, Q6_K; Q4_0 has none, its batches take
   * the Java float kernel).
   */
  public boolean nativeBatchKernel() {
    return nativeKind >= 0 && nativeKind != NativeKernels.Q4_0;
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
    int off = r * rowBytes;
    if (vector) {
      switch (type) {
        case F32 -> {
          F32Kernels.decode(data, off, out, cols);
          return;
        }
        case F16 -> {
          F16Kernels.decode(data, off, out, cols);
          return;
        }
        case Q8_0 -> {
          Q8_0Kernels.decode(Kernels.copyRow(data, off, rowBytes), out, cols);
          return;
        }
        case Q4_0 -> {
          Q4_0Kernels.decode(Kernels.copyRow(data, off, rowBytes), out, cols);
          return;
        }
        case Q4_K -> {
          Q4_KKernels.decode(Kernels.copyRow(data, off, rowBytes), out, cols);
          return;
        }
        case Q6_K -> {
          Q6_KKernels.decode(Kernels.copyRow(data, off, rowBytes), out, cols);
          return;
        }
        default -> {
          // no vector decoder: the reference one below
        }
      }
    }
    type.dequantizeRow(data, off, cols, out, 0);
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
    return Q8Activation.usesQ8K(type);
  }

  /**
   * Row {@code r} times the activation {@code a}: llama.cpp's integer dot product for quantized types (the type's
   * Vector API kernel, or its scalar reference when not vectorized), the float dot with {@code a.floats()} otherwise.
   */
  public float dot(int r, Q8Activation a, float[] scratch) {
    if (!integer) {
      return dot(r, a.floats(), 0, scratch);
    }
    int off = r * rowBytes;
    if (!vector) {
      return dotScalar(off, a);
    }
    switch (type) {
      case Q8_0:
        return Q8_0Kernels.dot(data, off, cols, a.q8_0());
      case Q4_0:
        return Q4_0Kernels.dot(data, off, cols, a.q8_0());
      case Q5_0:
        return Q5_0Kernels.dot(data, off, cols, a.q8_0());
      case Q4_K:
        return Q4_KKernels.dot(data, off, cols, a.q8_K());
      case Q5_K:
        return Q5_KKernels.dot(data, off, cols, a.q8_K());
      case Q6_K:
        return Q6_KKernels.dot(data, off, cols, a.q8_K());
      default:
        return dotScalar(off, a);
    }
  }

  /**
   * Rows {@code [from, to)} times {@code a} into {@code out[outOff..outOff + to - from)}: one native call for the
   * whole range where {@link #nativeKernel()}, else {@link #dot(int, Q8Activation, float[])} row by row.
   */
  public void dotRows(int from, int to, Q8Activation a, float[] out, int outOff, float[] scratch) {
    if (nativeKind >= 0 && to > from) {
      int done;
      if (usesQ8K()) {
        a.q8_K();
        done = NativeKernels.rows(nativeKind, data, (long) from * rowBytes, rowBytes, to - from, cols, a.qkb, a.dk,
            a.bsum16s, out, outOff);
      } else {
        a.q8_0();
        done = NativeKernels.rows(nativeKind, data, (long) from * rowBytes, rowBytes, to - from, cols, a.q0b, a.d0,
            null, out, outOff);
      }
      if (done == 0) {
        return;
      }
    }
    for (int r = from; r < to; r++) {
      out[outOff + r - from] = dot(r, a, scratch);
    }
  }

  /**
   * Rows {@code [from, to)} times every activation of {@code x} by the native batched kernel, into
   * {@code out[outOff + t * outStride + r - from]}; false (nothing written) where this matrix has no native kernel.
   */
  public boolean dotRowsBatch(int from, int to, Q8Batch x, float[] out, int outOff, int outStride) {
    if (!nativeBatchKernel() || x.k != usesQ8K() || x.cols != cols) {
      return false;
    }
    return to <= from || NativeKernels.batch(nativeKind, data, (long) from * rowBytes, rowBytes, to - from, cols,
        x.size, x.q, x.d, x.bsum, out, outOff, outStride) == 0;
  }

  /** The scalar integer reference of each type (ggml's generic {@code ggml_vec_dot_*_q8_*}). */
  private float dotScalar(int off, Q8Activation a) {
    return switch (type) {
      case Q8_0 -> Q8_0Kernels.dotScalar(data, off, cols, a.q8_0());
      case Q4_0 -> Q4_0Kernels.dotScalar(data, off, cols, a.q8_0());
      case Q4_1 -> Q4_1Kernels.dotScalar(data, off, cols, a.q8_0());
      case Q5_0 -> Q5_0Kernels.dotScalar(data, off, cols, a.q8_0());
      case Q5_1 -> Q5_1Kernels.dotScalar(data, off, cols, a.q8_0());
      case Q4_K -> Q4_KKernels.dotScalar(data, off, cols, a.q8_K());
      case Q5_K -> Q5_KKernels.dotScalar(data, off, cols, a.q8_K());
      case Q6_K -> Q6_KKernels.dotScalar(data, off, cols, a.q8_K());
      default -> throw new IllegalArgumentException("no integer dot product for " + type);
    };
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
          return F32Kernels.dot(data, off, x, xo, cols);
        case F16:
          return F16Kernels.dot(data, off, x, xo, cols);
        case Q8_0:
          return Q8_0Kernels.dotFloat(Kernels.copyRow(data, off, rowBytes), x, xo, cols);
        case Q4_K:
          return Q4_KKernels.dotFloat(Kernels.copyRow(data, off, rowBytes), x, xo, cols);
        case Q6_K:
          return Q6_KKernels.dotFloat(Kernels.copyRow(data, off, rowBytes), x, xo, cols);
        default:
          // Types without a fused float kernel: decode (with vector instructions where the type has them), then dot.
          decodeRow(r, scratch);
          return FloatKernels.dot(scratch, 0, x, xo, cols);
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
