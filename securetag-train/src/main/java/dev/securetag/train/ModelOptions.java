package dev.securetag.train;

import dev.securetag.core.SecuretagStyle;
import org.immutables.value.Value;

/**
 * How {@link LlamaModel#load} holds a checkpoint: base-weight quantization, device, compute precision, attention kernel
 * and the kernel backend used for merging.
 */
@Value.Immutable
@SecuretagStyle
public interface ModelOptions {

  @Value.Default
  default Quantization quantization() {
    return Quantization.NF4_DOUBLE_QUANT;
  }

  /** Compute in float64 instead of float32 (for numerical checks such as finite differences). */
  @Value.Default
  default boolean float64() {
    return false;
  }

  /** Where weights live and math runs (AUTO: CUDA when DJL's PyTorch engine sees a GPU). */
  @Value.Default
  default ComputeDevice device() {
    return ComputeDevice.AUTO;
  }

  /** Precision of the matmuls (AUTO: BF16 on CUDA, FP32 on the CPU); ignored with {@link #float64()}. */
  @Value.Default
  default Precision precision() {
    return Precision.AUTO;
  }

  /** Attention implementation (default SDPA). */
  @Value.Default
  default AttentionKernel attention() {
    return AttentionKernel.SDPA;
  }

  /** Which kernel backend merges adapters on export ({@link Nf4Tensor#dequantize(KernelBackend, float[])} too). */
  @Value.Default
  default KernelBackends.Preference kernels() {
    return KernelBackends.Preference.AUTO;
  }

  /** CPU kernel threads; 0 = all processors. */
  @Value.Default
  default int kernelThreads() {
    return 0;
  }

  /** Full precision, float32: what reference comparisons use. */
  static ModelOptions fullPrecision() {
    return builder().quantization(Quantization.NONE).build();
  }

  static Builder builder() {
    return new Builder();
  }

  /** Builds {@link ModelOptions}. */
  final class Builder extends ImmutableModelOptions.Builder {}
}
