package dev.securetag.gguf.internal;

import dev.securetag.gguf.GgmlType;
import dev.securetag.gguf.internal.quant.Floats;
import dev.securetag.gguf.internal.quant.Q4_0;
import dev.securetag.gguf.internal.quant.Q4_1;
import dev.securetag.gguf.internal.quant.Q4_K;
import dev.securetag.gguf.internal.quant.Q5_0;
import dev.securetag.gguf.internal.quant.Q5_1;
import dev.securetag.gguf.internal.quant.Q5_K;
import dev.securetag.gguf.internal.quant.Q6_K;
import dev.securetag.gguf.internal.quant.Q8_0;
import java.nio.ByteBuffer;

/**
 * Routes {@link GgmlType#quantizeRow} and {@link GgmlType#dequantizeRow} to the class of each block format in
 * {@code internal.quant} (one class per format: its quantizer and dequantizer, following llama.cpp's reference, no
 * importance matrix). All arithmetic is IEEE float32 in the reference's order of evaluation, because llama.cpp
 * compiles these routines without FMA contraction or reassociation; changing the order changes last bits and thus
 * output bytes.
 */
public final class Quants {
  private Quants() {}

  /** True for the types this class encodes and decodes. */
  public static boolean supports(GgmlType t) {
    return switch (t) {
      case F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K -> true;
      default -> false;
    };
  }

  /** Quantizes {@code n} values (a multiple of the block size) of {@code x} from {@code xo} into {@code y[yo..]}. */
  public static void quantize(GgmlType t, float[] x, int xo, int n, byte[] y, int yo) {
    if (n % t.blockSize() != 0) {
      throw new IllegalArgumentException(t + " rows must be a multiple of " + t.blockSize() + ", got " + n);
    }
    switch (t) {
      case F32 -> Floats.quantizeF32(x, xo, n, y, yo);
      case F16 -> Floats.quantizeF16(x, xo, n, y, yo);
      case BF16 -> Floats.quantizeBF16(x, xo, n, y, yo);
      case Q8_0 -> Q8_0.quantize(x, xo, n, y, yo);
      case Q4_0 -> Q4_0.quantize(x, xo, n, y, yo);
      case Q4_1 -> Q4_1.quantize(x, xo, n, y, yo);
      case Q5_0 -> Q5_0.quantize(x, xo, n, y, yo);
      case Q5_1 -> Q5_1.quantize(x, xo, n, y, yo);
      case Q4_K -> Q4_K.quantize(x, xo, n, y, yo);
      case Q5_K -> Q5_K.quantize(x, xo, n, y, yo);
      case Q6_K -> Q6_K.quantize(x, xo, n, y, yo);
      default -> throw new UnsupportedOperationException("quantization to " + t + " is not supported");
    }
  }

  /** Dequantizes {@code n} values at absolute byte position {@code p} of {@code src}. */
  public static void dequantize(GgmlType t, ByteBuffer src, int p, int n, float[] y, int yo) {
    if (n % t.blockSize() != 0) {
      throw new IllegalArgumentException(t + " rows must be a multiple of " + t.blockSize() + ", got " + n);
    }
    switch (t) {
      case F32 -> Floats.dequantizeF32(src, p, n, y, yo);
      case F16 -> Floats.dequantizeF16(src, p, n, y, yo);
      case BF16 -> Floats.dequantizeBF16(src, p, n, y, yo);
      case Q8_0 -> Q8_0.dequantize(src, p, n, y, yo);
      case Q4_0 -> Q4_0.dequantize(src, p, n, y, yo);
      case Q4_1 -> Q4_1.dequantize(src, p, n, y, yo);
      case Q5_0 -> Q5_0.dequantize(src, p, n, y, yo);
      case Q5_1 -> Q5_1.dequantize(src, p, n, y, yo);
      case Q4_K -> Q4_K.dequantize(src, p, n, y, yo);
      case Q5_K -> Q5_K.dequantize(src, p, n, y, yo);
      case Q6_K -> Q6_K.dequantize(src, p, n, y, yo);
      default -> throw new UnsupportedOperationException("dequantization of " + t + " is not supported");
    }
  }
}
