package dev.securetag.train;

import dev.securetag.core.SecuretagStyle;
import org.immutables.value.Value;

/** How {@link LlamaModel#load} holds a checkpoint: base-weight quantization, compute precision and kernels. */
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

  /** Which kernel backend dequantizes and merges. */
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
