package dev.securetag.train;

import dev.securetag.train.internal.BnbTables;
import java.util.Arrays;

/**
 * A weight stored in bitsandbytes' 4-bit NormalFloat format: blocks of {@code blocksize} consecutive row-major elements,
 * one float32 absmax per block (or, with double quantization, one uint8 index into the signed dynamic map per block plus
 * a float32 scale per 256 blocks and one offset), and two 4-bit codes per byte with the even element in the high nibble.
 * Quantization follows bitsandbytes' reference op bit for bit, so tensors read from or written to {@code *-bnb-4bit}
 * checkpoints mean the same thing here.
 */
public final class Nf4Tensor {
  /** bitsandbytes' default block size. */
  public static final int DEFAULT_BLOCKSIZE = 64;
  /** Block size of the second-level (nested) quantization of the absmax values. */
  public static final int NESTED_BLOCKSIZE = 256;

  private final long[] shape;
  private final int numel;
  private final int blocksize;
  private final byte[] packed;
  private final float[] absmax;
  private final byte[] absmaxCodes;
  private final float[] nestedAbsmax;
  private final float offset;

  private Nf4Tensor(long[] shape, int numel, int blocksize, byte[] packed, float[] absmax, byte[] absmaxCodes,
      float[] nestedAbsmax, float offset) {
    this.shape = shape;
    this.numel = numel;
    this.blocksize = blocksize;
    this.packed = packed;
    this.absmax = absmax;
    this.absmaxCodes = absmaxCodes;
    this.nestedAbsmax = nestedAbsmax;
    this.offset = offset;
  }

  /** Quantizes {@code values} (row-major, {@code shape}) with block size 64. */
  public static Nf4Tensor quantize(float[] values, long[] shape, boolean doubleQuant) {
    return quantize(values, shape, DEFAULT_BLOCKSIZE, doubleQuant);
  }

  /**
   * Quantizes {@code values} exactly as bitsandbytes' {@code quantize_4bit(quant_type="nf4")} does.
   *
   * @param blocksize a power of two in [32, 4096]
   * @param doubleQuant also quantize the absmax values (bitsandbytes' {@code compress_statistics})
   */
  public static Nf4Tensor quantize(float[] values, long[] shape, int blocksize, boolean doubleQuant) {
    int n = checkShape(shape, values.length);
    if (blocksize < 32 || blocksize > 4096 || Integer.bitCount(blocksize) != 1) {
      throw new IllegalArgumentException("blocksize must be a power of two in [32, 4096], was " + blocksize);
    }
    int blocks = (n + blocksize - 1) / blocksize;
    float[] am = new float[blocks];
    byte[] codes = new byte[n];
    quantizeBlockwise(values, n, blocksize, BnbTables.NF4_BOUNDS, am, codes);
    byte[] packed = new byte[(n + 1) / 2];
    for (int k = 0; k < packed.length; k++) {
      int hi = codes[2 * k];
      int lo = 2 * k + 1 < n ? codes[2 * k + 1] : 7;
      packed[k] = (byte) ((hi << 4) | lo);
    }
    if (!doubleQuant) {
      return new Nf4Tensor(shape.clone(), n, blocksize, packed, am, null, null, 0f);
    }
    float sum = 0f;
    for (float a : am) {
      sum += a;
    }
    float off = sum / blocks;
    float[] centred = new float[blocks];
    for (int i = 0; i < blocks; i++) {
      centred[i] = am[i] - off;
    }
    int nestedBlocks = (blocks + NESTED_BLOCKSIZE - 1) / NESTED_BLOCKSIZE;
    float[] nested = new float[nestedBlocks];
    byte[] qabs = new byte[blocks];
    quantizeBlockwise(centred, blocks, NESTED_BLOCKSIZE, BnbTables.DYNAMIC_BOUNDS, nested, qabs);
    return new Nf4Tensor(shape.clone(), n, blocksize, packed, null, qabs, nested, off);
  }

  /** Wraps plain (not double-quantized) NF4 data as found in a bitsandbytes checkpoint. */
  public static Nf4Tensor of(long[] shape, int blocksize, byte[] packed, float[] absmax) {
    int n = checkShape(shape, -1);
    checkParts(n, blocksize, packed, absmax.length);
    return new Nf4Tensor(shape.clone(), n, blocksize, packed.clone(), absmax.clone(), null, null, 0f);
  }

  /** Wraps double-quantized NF4 data (U8 absmax, nested absmax and {@code nested_offset}) from a checkpoint. */
  public static Nf4Tensor ofDoubleQuant(long[] shape, int blocksize, byte[] packed, byte[] absmaxCodes,
      float[] nestedAbsmax, float offset) {
    int n = checkShape(shape, -1);
    checkParts(n, blocksize, packed, absmaxCodes.length);
    int nestedBlocks = (absmaxCodes.length + NESTED_BLOCKSIZE - 1) / NESTED_BLOCKSIZE;
    if (nestedAbsmax.length != nestedBlocks) {
      throw new IllegalArgumentException("nested_absmax needs " + nestedBlocks + " values, has " + nestedAbsmax.length);
    }
    return new Nf4Tensor(shape.clone(), n, blocksize, packed.clone(), null, absmaxCodes.clone(),
        nestedAbsmax.clone(), offset);
  }

  private static void checkParts(int n, int blocksize, byte[] packed, int absmaxLen) {
    if (packed.length != (n + 1) / 2) {
      throw new IllegalArgumentException("packed codes need " + (n + 1) / 2 + " bytes, have " + packed.length);
    }
    int blocks = (n + blocksize - 1) / blocksize;
    if (absmaxLen != blocks) {
      throw new IllegalArgumentException("absmax needs " + blocks + " values, has " + absmaxLen);
    }
  }

  private static int checkShape(long[] shape, int expected) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      n *= d;
    }
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("tensor too large for one Nf4Tensor: " + Arrays.toString(shape));
    }
    if (expected >= 0 && n != expected) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " elements, data has "
          + expected);
    }
    return (int) n;
  }

  /**
   * bitsandbytes' blockwise rule: full blocks multiply by the float32 reciprocal of absmax, the partial last block
   * divides by the absmax clamped to 1e-38 and stores that clamped value; the code is the number of bounds strictly
   * below the scaled value (torch.bucketize, right=False).
   */
  private static void quantizeBlockwise(float[] x, int n, int bs, float[] bounds, float[] absmaxOut, byte[] codesOut) {
    int blocks = absmaxOut.length;
    for (int b = 0; b < blocks; b++) {
      int from = b * bs;
      int to = Math.min(n, from + bs);
      float m = 0f;
      for (int i = from; i < to; i++) {
        m = Math.max(m, Math.abs(x[i]));
      }
      boolean full = to - from == bs;
      float clamped = Math.max(m, 1e-38f);
      float r = 1.0f / clamped;
      absmaxOut[b] = full ? m : clamped;
      for (int i = from; i < to; i++) {
        float s = full ? x[i] * r : x[i] / clamped;
        s = Math.max(-1f, Math.min(1f, s));
        codesOut[i] = (byte) countBelow(bounds, s);
      }
    }
  }

  private static int countBelow(float[] bounds, float s) {
    int lo = 0;
    int hi = bounds.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (bounds[mid] < s) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** The original shape. */
  public long[] shape() {
    return shape.clone();
  }

  /** Number of elements. */
  public int numel() {
    return numel;
  }

  /** Elements per absmax block. */
  public int blocksize() {
    return blocksize;
  }

  /** Whether the absmax values are themselves quantized. */
  public boolean doubleQuant() {
    return absmaxCodes != null;
  }

  /** A copy of the packed codes ({@code (numel+1)/2} bytes, even element in the high nibble). */
  public byte[] packed() {
    return packed.clone();
  }

  /** A copy of the float32 absmax per block; only without double quantization. */
  public float[] absmax() {
    if (absmax == null) {
      throw new IllegalStateException("double-quantized tensor: use absmaxCodes/nestedAbsmax/offset or absmaxDequantized");
    }
    return absmax.clone();
  }

  /** A copy of the uint8 absmax codes (indices into the dynamic map); only with double quantization. */
  public byte[] absmaxCodes() {
    requireDoubleQuant();
    return absmaxCodes.clone();
  }

  /** A copy of the float32 scale per 256 absmax values; only with double quantization. */
  public float[] nestedAbsmax() {
    requireDoubleQuant();
    return nestedAbsmax.clone();
  }

  /** The mean absmax subtracted before nested quantization ({@code nested_offset}); only with double quantization. */
  public float offset() {
    requireDoubleQuant();
    return offset;
  }

  private void requireDoubleQuant() {
    if (absmaxCodes == null) {
      throw new IllegalStateException("tensor is not double-quantized");
    }
  }

  /**
   * The per-block scales the dequantize kernel uses: the absmax itself, or with double quantization
   * {@code float(float(map[q] * nested[i/256]) + offset)} (two roundings, no fused multiply-add, as bitsandbytes).
   */
  public float[] absmaxDequantized() {
    if (absmaxCodes == null) {
      return absmax.clone();
    }
    float[] out = new float[absmaxCodes.length];
    for (int i = 0; i < out.length; i++) {
      float scaled = BnbTables.DYNAMIC[absmaxCodes[i] & 0xFF] * nestedAbsmax[i / NESTED_BLOCKSIZE];
      out[i] = scaled + offset;
    }
    return out;
  }

  /** Dequantizes to float32 with the scalar reference path. */
  public float[] dequantize() {
    float[] out = new float[numel];
    float[] scales = absmaxDequantized();
    for (int i = 0; i < numel; i++) {
      int b = packed[i >> 1] & 0xFF;
      int q = (i & 1) == 0 ? b >>> 4 : b & 0x0F;
      out[i] = BnbTables.NF4[q] * scales[i / blocksize];
    }
    return out;
  }

  /** Dequantizes into {@code out} with the given kernel backend. */
  public void dequantize(KernelBackend backend, float[] out) {
    if (out.length < numel) {
      throw new IllegalArgumentException("output holds " + out.length + " floats, tensor has " + numel);
    }
    backend.dequantizeNf4(packed, absmaxDequantized(), blocksize, numel, out);
  }

  /** Bytes held: packed codes plus the block scales (and nested scales and offset with double quantization). */
  public long bytes() {
    if (absmaxCodes == null) {
      return packed.length + 4L * absmax.length;
    }
    return packed.length + (long) absmaxCodes.length + 4L * nestedAbsmax.length + 4L;
  }

  /** Storage bits per parameter ({@link #bytes()} * 8 / numel): about 4.5 plain, 4.127 with double quantization. */
  public double bitsPerParameter() {
    return numel == 0 ? 0 : bytes() * 8.0 / numel;
  }

  @Override
  public String toString() {
    return "Nf4Tensor" + Arrays.toString(shape) + (doubleQuant() ? " nf4+dq " : " nf4 ") + bytes() + " bytes";
  }
}
