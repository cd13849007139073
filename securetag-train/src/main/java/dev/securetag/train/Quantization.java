package dev.securetag.train;

/** How the frozen base weights of the decoder's linear layers are held in memory. */
public enum Quantization {
  /** Full precision (the load precision). */
  NONE,
  /** NF4 with float32 absmax per 64 weights (4.5 bits/parameter). */
  NF4,
  /** NF4 with double-quantized absmax (about 4.127 bits/parameter), QLoRA's setting. */
  NF4_DOUBLE_QUANT
}
