package dev.securetag.train;

/**
 * The QLoRA paths outside libtorch's autograd behind one interface, so a CPU and a CUDA implementation can be swapped:
 * NF4 dequantization of the frozen base weights and merging an adapter into a weight ({@code B} has shape
 * {@code [out, rank]}, {@code A} {@code [rank, in]}, as PEFT stores them). The LoRA product of training is not here:
 * it needs gradients, so it runs as DJL operations. Arrays are row-major float32. Obtain one with
 * {@link KernelBackends#select}.
 */
public interface KernelBackend extends AutoCloseable {

  /** Short name, e.g. {@code cpu(2 threads)} or {@code cuda(NVIDIA H100)}. */
  String name();

  /**
   * Expands NF4 codes: {@code out[i] = NF4[code(i)] * scales[i / blocksize]} for {@code i < numel}, where code(2k) is
   * the high nibble of {@code packed[k]} and code(2k+1) the low nibble.
   */
  void dequantizeNf4(byte[] packed, float[] scales, int blocksize, int numel, float[] out);

  /** Merges an adapter into a base weight in place: {@code w[out, in] += scale * B[out, rank] · A[rank, in]}. */
  void mergeLora(float[] w, int out, int in, float[] a, float[] b, int rank, float scale);

  /** Releases native resources and threads; idempotent. */
  @Override
  void close();
}
