package dev.securetag.train;

/**
 * Precision of the matrix multiplications (linear layers incl. LoRA, attention, lm_head) — the rest of the model
 * (residual stream, norms, softmax of the loss, LoRA master weights, optimizer) stays float32 ("autocast" semantics).
 * BF16 and FP16 run inside small TorchScript ops because DJL 0.36 cannot represent bf16 arrays and its dtype casts
 * are not differentiable.
 */
public enum Precision {
  /** BF16 on CUDA, FP32 on the CPU. */
  AUTO,
  /** float32 everywhere (float64 with {@link ModelOptions#float64()}). */
  FP32,
  /** bfloat16 matmuls with float32 accumulation and float32 everything else. */
  BF16,
  /** float16 matmuls; the trainer applies dynamic loss scaling against gradient underflow. */
  FP16
}
