package dev.securetag.gguf;

/**
 * Output types of {@link GgufQuantizer}, named like llama-quantize's types. Float types convert every matrix to that
 * type; the others apply llama-quantize's per-tensor rules (Q4_K_M and Q5_K_M are mixtures) and shape fallbacks.
 */
public enum GgufOutType {
  F32(0, GgmlType.F32),
  F16(1, GgmlType.F16),
  BF16(32, GgmlType.BF16),
  Q8_0(7, GgmlType.Q8_0),
  Q4_0(2, GgmlType.Q4_0),
  Q4_K_M(15, GgmlType.Q4_K),
  Q5_K_M(17, GgmlType.Q5_K),
  Q6_K(18, GgmlType.Q6_K);

  private final int fileType;
  private final GgmlType defaultType;

  GgufOutType(int fileType, GgmlType defaultType) {
    this.fileType = fileType;
    this.defaultType = defaultType;
  }

  /** The {@code general.file_type} value ({@code llama_ftype}). */
  public int fileType() {
    return fileType;
  }

  /** The type most tensors get. */
  public GgmlType defaultType() {
    return defaultType;
  }

  /** True for block-quantized outputs (the llama-quantize path). */
  public boolean isQuantized() {
    return defaultType.isQuantized();
  }
}
