package dev.securetag.train.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.securetag.train.KernelBackend;
import dev.securetag.train.Nf4Tensor;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * One bias-free linear layer {@code y = x Wᵀ} of the decoder: a frozen base weight held either as a DJL array or as
 * device-resident NF4 (dequantized on the device for each forward pass, and again when a checkpointed layer is
 * recomputed for backward, as QLoRA does), plus an optional trainable LoRA pair.
 */
public final class Linear {
  private final String name;
  private final int in;
  private final int out;
  private NDArray dense;
  private DeviceNf4 nf4;
  private NDArray loraA;
  private NDArray loraB;
  private double scaling;
  private double dropout;
  private LongAdder dequantNanos = new LongAdder();

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
  public void timeDequantInto(LongAdder nanos) {
    this.dequantNanos = nanos;
  }

  public void setDense(NDArray w) {
    this.dense = w;
    this.nf4 = null;
  }

  public void setNf4(DeviceNf4 t) {
    this.nf4 = t;
    this.dense = null;
  }

  /** A Java copy of the NF4 weight (read back from the device); null when not quantized. */
  public Nf4Tensor nf4() {
    return nf4 == null ? null : nf4.toHost();
  }

  public boolean quantized() {
    return nf4 != null;
  }

  /** Bytes held by the base weight. */
  public long baseBytes() {
    return nf4 != null ? nf4.bytes() : (long) in * out * dense.getDataType().getNumOfBytes();
  }

  /** The base weight as float32 row-major [out, in] (dequantized on the device when NF4). */
  public float[] baseWeight() {
    if (nf4 != null) {
      // The intermediate arrays of this one-off dequantize are freed with the scope, not kept by the model's manager.
      try (ai.djl.ndarray.NDScope scope = new ai.djl.ndarray.NDScope()) {
        scope.suppressNotUsedWarning();
        return nf4.dequantize(DataType.FLOAT32).toFloatArray();
      }
    }
    return dense.toType(DataType.FLOAT32, false).toFloatArray();
  }

  /** {@link #baseWeight()}; the kernel backend is no longer involved (kept for callers that pass one). */
  public float[] baseWeight(KernelBackend kernels) {
    return baseWeight();
  }

  /** The base weight as an array for this forward pass, in {@code dt}. */
  public NDArray weight(DataType dt) {
    if (nf4 != null) {
      long t0 = System.nanoTime();
      NDArray w = Tensors.scoped(() -> nf4.dequantize(dt));
      dequantNanos.add(System.nanoTime() - t0);
      return w;
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
   * Applies the layer. With {@code ops} computing in bf16/fp16 the matmuls run there (inputs and output in the
   * parameter dtype); otherwise as DJL operations in {@code x}'s dtype. {@code dropoutRng} is null at inference; when
   * training, the dropout mask comes from it so a resumed run, and a recomputed checkpointed layer, draw the same masks.
   */
  public NDArray forward(NDArray x, NDManager m, TorchOps ops, SplittableRandom dropoutRng) {
    return Tensors.scoped(() -> apply(x, m, ops, dropoutRng));
  }

  private NDArray apply(NDArray x, NDManager m, TorchOps ops, SplittableRandom dropoutRng) {
    NDArray w = weight(x.getDataType());
    boolean lowPrecision = ops != null && !ops.computeName().equals("fp32");
    if (loraA == null) {
      return lowPrecision ? ops.linear(x, w) : x.matMul(w.transpose());
    }
    NDArray xd = x;
    if (dropoutRng != null && dropout > 0) {
      xd = x.mul(dropoutMask(m, x.getShape(), x.getDataType(), dropoutRng));
    }
    NDArray s = Tensors.scalar(m, scaling, x.getDataType());
    if (lowPrecision) {
      return xd == x ? ops.loraLinear(x, w, loraA, loraB, s) : ops.loraLinear(x, xd, w, loraA, loraB, s);
    }
    NDArray y = x.matMul(w.transpose());
    return y.add(xd.matMul(loraA.transpose()).matMul(loraB.transpose()).mul(s));
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
