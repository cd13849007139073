package dev.securetag.train;

/**
 * Where {@link LlamaModel} holds its weights and runs its math (DJL PyTorch engine): the first CUDA device when the
 * engine sees one, or the CPU. CUDA needs a CUDA build of libtorch; see the module README for how to point DJL at one.
 */
public enum ComputeDevice {
  /** CUDA when DJL's PyTorch engine reports a GPU, otherwise CPU. */
  AUTO,
  /** Always the CPU. */
  CPU,
  /** The first CUDA device; loading fails with the reason when the engine sees none. */
  CUDA
}
