package dev.securetag.train.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.securetag.train.KernelBackend;
import dev.securetag.train.Nf4Tensor;
import java.util.SplittableRandom;

/**
 * One bias-free linear layer {@code y = x Wᵀ} of the decoder: a frozen base weight held either as a DJL array or as
 * NF4 (dequantized per forward pass, as QLoRA does), plus an optional trainable LoRA pair.
 */
public final class Linear {
  private final String name;
  private final int in;
  private final int out;
  private NDArray dense;
  private Nf4Tensor nf4;
  private NDArray loraA;
  private NDArray loraB;
  private double scaling;
  private double dropout;
  private java.util.concurrent.atomic.LongAdder dequantNanos = new java.util.concurrent.atomic.LongAdder();

  public Linear(String name, int in, int out) {
    this.name = name;
    this.in = in;
    this.out = out;
  }

  public String name() {
    return name;
  }

  public int in() {
    return in;
  }

  public int out() {
    return out;
  }

  /** Where time spent dequantizing this layer's base weight is added. */
  public void timeDequantInto(java.util.concurrent.atomic.LongAdder nanos) {
    this.dequantNanos = nanos;
  }

  public void setDense(NDArray w) {
    this.dense = w;
    this.nf4 = null;
  }

  public void setNf4(Nf4Tensor t) {
    this.nf4 = t;
    this.dense = null;
  }

  public Nf4Tensor nf4() {
    return nf4;
  }

  public boolean quantized() {
    return nf4 != null;
  }

  /** Bytes held by the base weight. */
  public long baseBytes() {
    return nf4 != null ? nf4.bytes() : (long) in * out * dense.getDataType().getNumOfBytes();
  }

  /** The base weight as float32 row-major [out, in] (dequantized when NF4). */
  public float[] baseWeight(KernelBackend kernels) {
    if (nf4 != null) {
      float[] w = new float[in * out];
      nf4.dequantize(kernels, w);
      return w;
    }
    return dense.toType(DataType.FLOAT32, false).toFloatArray();
  }

  /** The base weight as an array for this forward pass. */
  public NDArray weight(NDManager m, KernelBackend kernels, DataType dt) {
    if (nf4 != null) {
      long t0 = System.nanoTime();
      float[] data = baseWeight(kernels);
      dequantNanos.add(System.nanoTime() - t0);
      return Tensors.of(m, data, new Shape(out, in), dt);
    }
    return dense;
  }

  public void attachLora(NDArray a, NDArray b, double scaling, double dropout) {
    this.loraA = a;
    this.loraB = b;
    this.scaling = scaling;
    this.dropout = dropout;
  }

  public boolean hasLora() {
    return loraA != null;
  }

  public NDArray loraA() {
    return loraA;
  }

  public NDArray loraB() {
    return loraB;
  }

  public double scaling() {
    return scaling;
  }

  /**
   * Applies the layer. {@code dropoutRng} is null at inference; when training, the dropout mask comes from it so a
   * resumed run draws the same masks.
   */
  public NDArray forward(NDArray x, NDManager m, KernelBackend kernels, SplittableRandom dropoutRng) {
    NDArray w = weight(m, kernels, x.getDataType());
    NDArray y = x.matMul(w.transpose());
    if (loraA != null) {
      NDArray xd = x;
      if (dropoutRng != null && dropout > 0) {
        xd = x.mul(dropoutMask(m, x.getShape(), x.getDataType(), dropoutRng));
      }
      y = y.add(xd.matMul(loraA.transpose()).matMul(loraB.transpose()).mul(Tensors.scalar(m, scaling, x.getDataType())));
    }
    return y;
  }

  private NDArray dropoutMask(NDManager m, Shape shape, DataType dt, SplittableRandom rng) {
    int n = (int) shape.size();
    float keep = (float) (1.0 / (1.0 - dropout));
    float[] mask = new float[n];
    for (int i = 0; i < n; i++) {
      mask[i] = rng.nextDouble() >= dropout ? keep : 0f;
    }
    return Tensors.of(m, mask, shape, dt);
  }
}
