package dev.securetag.train.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.securetag.train.Nf4Tensor;

/**
 * An NF4 weight resident on the model's device in its packed form — uint8 codes, and per-block absmax as float32 or,
 * double-quantized, as uint8 codes with the nested scales and offset. On CUDA ({@link Mode#TORCH}) it is dequantized by
 * libtorch operations on the device straight into the array the matmul reads, never through host memory: a 256-row pair
 * table maps each packed byte to its (high, low) nibble values, and every product is a single float32 multiply, as in
 * bitsandbytes, so the result equals {@link Nf4Tensor#dequantize()} bit for bit. On the CPU ({@link Mode#HOST}) the
 * device is host memory and libtorch's CPU gather is 5-30x slower than the Java kernel, so the packed form stays in Java
 * memory and the kernel backend expands it (same bits).
 */
public final class DeviceNf4 {
  /** Where the packed form lives and what expands it. */
  public enum Mode {
    /** Arrays on the model's device, libtorch operations. */
    TORCH,
    /** Java arrays, expanded by a {@link dev.securetag.train.KernelBackend} into a fresh libtorch CPU array. */
    HOST
  }

  private final Mode mode;
  private final Nf4Tensor host;
  private final dev.securetag.train.KernelBackend kernels;
  private final NDManager manager;
  private final long[] shape;
  private final int numel;
  private final int blocksize;
  private final int blocks;
  private final long bytes;
  private final NDArray packed;
  private final NDArray pairTable;
  private final NDArray absmax;
  private final NDArray absmaxCodes;
  private final NDArray dynamicMap;
  private final NDArray nestedAbsmax;
  private final NDArray offset;

  private DeviceNf4(Nf4Tensor t, NDManager m, dev.securetag.train.KernelBackend kernels) {
    this.mode = Mode.HOST;
    this.host = t;
    this.kernels = kernels;
    this.manager = m;
    this.shape = t.shape();
    this.numel = t.numel();
    this.blocksize = t.blocksize();
    this.blocks = (numel + blocksize - 1) / blocksize;
    this.bytes = t.bytes();
    this.pairTable = null;
    this.packed = null;
    this.absmax = null;
    this.absmaxCodes = null;
    this.dynamicMap = null;
    this.nestedAbsmax = null;
    this.offset = null;
  }

  private DeviceNf4(Nf4Tensor t, NDManager m, NDArray pairTable, NDArray dynamicMap) {
    this.mode = Mode.TORCH;
    this.host = null;
    this.kernels = null;
    this.manager = m;
    this.shape = t.shape();
    this.numel = t.numel();
    this.blocksize = t.blocksize();
    this.blocks = (numel + blocksize - 1) / blocksize;
    this.bytes = t.bytes();
    this.pairTable = pairTable;
    this.packed = bytesOf(m, t.packed());
    if (t.doubleQuant()) {
      this.absmax = null;
      this.absmaxCodes = bytesOf(m, t.absmaxCodes());
      this.dynamicMap = dynamicMap;
      float[] nested = t.nestedAbsmax();
      this.nestedAbsmax = Tensors.of(m, nested, new Shape(nested.length, 1), DataType.FLOAT32);
      this.offset = Tensors.of(m, new float[] {t.offset()}, new Shape(1), DataType.FLOAT32);
    } else {
      float[] am = t.absmax();
      this.absmax = Tensors.of(m, am, new Shape(am.length), DataType.FLOAT32);
      this.absmaxCodes = null;
      this.dynamicMap = null;
      this.nestedAbsmax = null;
      this.offset = null;
    }
  }

  /** The shared lookup tables of one device; create once per model. */
  public static final class Tables {
    final NDArray pairs;
    final NDArray dynamic;

    /** {@code pairs[b] = (NF4[b >> 4], NF4[b & 15])}; {@code dynamic} = bitsandbytes' signed dynamic map. */
    public Tables(NDManager m) {
      float[] p = new float[512];
      for (int b = 0; b < 256; b++) {
        p[2 * b] = BnbTables.NF4[b >>> 4];
        p[2 * b + 1] = BnbTables.NF4[b & 0x0F];
      }
      this.pairs = Tensors.of(m, p, new Shape(256, 2), DataType.FLOAT32);
      this.dynamic = Tensors.of(m, BnbTables.DYNAMIC, new Shape(256), DataType.FLOAT32);
    }
  }

  /** Copies {@code t}'s packed parts to {@code m}'s device ({@link Mode#TORCH}). */
  public static DeviceNf4 of(Nf4Tensor t, NDManager m, Tables tables) {
    return new DeviceNf4(t, m, tables.pairs, tables.dynamic);
  }

  /** Keeps {@code t} in Java memory, expanded by {@code kernels} into arrays of the CPU manager {@code m}. */
  public static DeviceNf4 onHost(Nf4Tensor t, NDManager m, dev.securetag.train.KernelBackend kernels) {
    if (m.getDevice().isGpu()) {
      throw new IllegalArgumentException("host-mode NF4 needs a CPU manager, not " + m.getDevice());
    }
    return new DeviceNf4(t, m, kernels);
  }

  /** Where the packed form lives. */
  public Mode mode() {
    return mode;
  }

  private static NDArray bytesOf(NDManager m, byte[] data) {
    NDArray blob = m.create(java.nio.ByteBuffer.wrap(data), new Shape(data.length), DataType.UINT8);
    NDArray owned = blob.duplicate();
    blob.close();
    return owned;
  }

  /** The original shape. */
  public long[] shape() {
    return shape.clone();
  }

  /** Bytes held on the device (packed codes and block scales, as {@link Nf4Tensor#bytes()}). */
  public long bytes() {
    return bytes;
  }

  /** The per-block float32 scales ({@code [blocks]}), reconstructed on the device when double-quantized. */
  public NDArray scales() {
    if (mode == Mode.HOST) {
      float[] sc = host.absmaxDequantized();
      return Tensors.of(manager, sc, new Shape(sc.length), DataType.FLOAT32);
    }
    if (absmax != null) {
      return absmax;
    }
    int nested = (int) nestedAbsmax.getShape().get(0);
    NDArray codes = dynamicMap.get(new NDIndex("{}", absmaxCodes.toType(DataType.INT32, false)));
    int padded = nested * Nf4Tensor.NESTED_BLOCKSIZE;
    if (padded != blocks) {
      codes = codes.concat(codes.getManager().zeros(new Shape(padded - blocks), DataType.FLOAT32));
    }
    // float(map[q] * nested[i / 256]) then + offset: two float32 roundings, as Nf4Tensor.absmaxDequantized.
    NDArray scaled = codes.reshape(nested, Nf4Tensor.NESTED_BLOCKSIZE).mul(nestedAbsmax).reshape(padded);
    if (padded != blocks) {
      scaled = scaled.get(new NDIndex("0:" + blocks));
    }
    return scaled.add(offset);
  }

  /** The dequantized weight, {@code [shape]}, in {@code dtype} (float32 values widened when float64). */
  public NDArray dequantize(DataType dtype) {
    if (mode == Mode.HOST) {
      float[] w = new float[numel];
      host.dequantize(kernels, w);
      return Tensors.of(manager, w, new Shape(shape), dtype);
    }
    NDArray values = pairTable.get(new NDIndex("{}", packed.toType(DataType.INT32, false))).reshape(-1);
    long len = values.getShape().get(0);
    long full = (long) blocks * blocksize;
    if (len < full) {
      values = values.concat(values.getManager().zeros(new Shape(full - len), DataType.FLOAT32));
    }
    NDArray w = values.reshape(blocks, blocksize).mul(scales().reshape(blocks, 1)).reshape(full);
    if (full != numel) {
      w = w.get(new NDIndex("0:" + numel));
    }
    w = w.reshape(new Shape(shape));
    return dtype == DataType.FLOAT32 ? w : w.toType(dtype, false);
  }

  /** A Java copy of the packed parts (copied back from the device). */
  public Nf4Tensor toHost() {
    if (mode == Mode.HOST) {
      return host;
    }
    byte[] p = packed.toByteArray();
    if (absmax != null) {
      return Nf4Tensor.of(shape, blocksize, p, absmax.toFloatArray());
    }
    return Nf4Tensor.ofDoubleQuant(shape, blocksize, p, absmaxCodes.toByteArray(), nestedAbsmax.toFloatArray(),
        offset.toFloatArray()[0]);
  }

  /** The dequantized weight copied to Java memory (row-major float32). */
  public float[] dequantizeToHost() {
    return dequantize(DataType.FLOAT32).toFloatArray();
  }
}
