package dev.securetag.train;

/** How {@link LlamaModel} computes attention. */
public enum AttentionKernel {
  /**
   * libtorch's {@code scaled_dot_product_attention} (flash / memory-efficient kernels where libtorch has them: on CUDA
   * and for CPU float32/bf16), which does not keep the {@code seq x seq} probabilities for backward.
   */
  SDPA,
  /** Explicit {@code softmax(q kᵀ / sqrt(d) + mask) v}, keeping the probabilities for backward. */
  EXPLICIT
}
