package dev.securetag.gguf;

import dev.securetag.gguf.internal.Quants;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * ggml tensor element types as stored in GGUF files: type id, values per block and bytes per block. Ids and sizes
 * follow {@code ggml.h} and {@code ggml-common.h} of the reference llama.cpp. Types this module can encode report
 * {@link #canQuantize()}; {@link #quantizeRow} and {@link #dequantizeRow} are bit-exact with llama.cpp's reference
 * (no importance matrix) quantizers and its dequantizers.
 */
public enum GgmlType {
  F32(0, 1, 4),
  F16(1, 1, 2),
  Q4_0(2, 32, 18),
  Q4_1(3, 32, 20),
  Q5_0(6, 32, 22),
  Q5_1(7, 32, 24),
  Q8_0(8, 32, 34),
  Q8_1(9, 32, 36),
  Q2_K(10, 256, 84),
  Q3_K(11, 256, 110),
  Q4_K(12, 256, 144),
  Q5_K(13, 256, 176),
  Q6_K(14, 256, 210),
  Q8_K(15, 256, 292),
  IQ2_XXS(16, 256, 66),
  IQ2_XS(17, 256, 74),
  IQ3_XXS(18, 256, 98),
  IQ1_S(19, 256, 50),
  IQ4_NL(20, 32, 18),
  IQ3_S(21, 256, 110),
  IQ2_S(22, 256, 82),
  IQ4_XS(23, 256, 136),
  I8(24, 1, 1),
  I16(25, 1, 2),
  I32(26, 1, 4),
  I64(27, 1, 8),
  F64(28, 1, 8),
  IQ1_M(29, 256, 56),
  BF16(30, 1, 2),
  TQ1_0(34, 256, 54),
  TQ2_0(35, 256, 66),
  MXFP4(39, 32, 17),
  NVFP4(40, 64, 36),
  Q1_0(41, 128, 18),
  Q2_0(42, 64, 18);

  /** {@code GGML_TYPE_COUNT} at the reference llama.cpp commit: ids at or above it are invalid. */
  public static final int TYPE_COUNT = 43;

  private static final GgmlType[] BY_ID = new GgmlType[TYPE_COUNT];

  static {
    for (GgmlType t : values()) {
      BY_ID[t.id] = t;
    }
  }

  private final int id;
  private final int blockSize;
  private final int typeSize;

  GgmlType(int id, int blockSize, int typeSize) {
    this.id = id;
    this.blockSize = blockSize;
    this.typeSize = typeSize;
  }

  /** The ggml type id stored in tensor infos. */
  public int id() {
    return id;
  }

  /** Values per block (1 for plain float/int types). */
  public int blockSize() {
    return blockSize;
  }

  /** Bytes per block. */
  public int typeSize() {
    return typeSize;
  }

  /** The type with this id, empty for removed or out-of-range ids. */
  public static Optional<GgmlType> fromId(int id) {
    return id >= 0 && id < TYPE_COUNT ? Optional.ofNullable(BY_ID[id]) : Optional.empty();
  }

  /** Bytes of one row of {@code n} values; {@code n} must be a multiple of the block size. */
  public long rowBytes(long n) {
    if (n % blockSize != 0) {
      throw new IllegalArgumentException(this + " needs rows that are a multiple of " + blockSize + ", got " + n);
    }
    return n / blockSize * typeSize;
  }

  /** Bytes of a tensor with dimensions {@code ne} (innermost first), rows packed without padding. */
  public long byteSize(long[] ne) {
    long rows = 1;
    for (int i = 1; i < ne.length; i++) {
      rows = Math.multiplyExact(rows, ne[i]);
    }
    return Math.multiplyExact(rowBytes(ne.length == 0 ? 1 : ne[0]), rows);
  }

  /** True for block-quantized types (block size above 1). */
  public boolean isQuantized() {
    return blockSize > 1;
  }

  /** True when {@link #quantizeRow} and {@link #dequantizeRow} support this type. */
  public boolean canQuantize() {
    return Quants.supports(this);
  }

  /**
   * Encodes {@code n} floats from {@code src[srcOff..]} into {@code dst[dstOff..]} exactly as llama.cpp's reference
   * quantizer does; {@code n} must be a multiple of the block size. Values must be finite.
   */
  public void quantizeRow(float[] src, int srcOff, int n, byte[] dst, int dstOff) {
    Quants.quantize(this, src, srcOff, n, dst, dstOff);
  }

  /**
   * Decodes {@code n} values stored at absolute byte position {@code srcPos} of {@code src} (little-endian) into
   * {@code dst[dstOff..]}; {@code n} must be a multiple of the block size, so any block range can be decoded.
   */
  public void dequantizeRow(ByteBuffer src, int srcPos, int n, float[] dst, int dstOff) {
    Quants.dequantize(this, src, srcPos, n, dst, dstOff);
  }
}
