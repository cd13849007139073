package dev.securetag.gguf.internal;

import dev.securetag.gguf.GgmlType;
import dev.securetag.gguf.GgufOutType;

/**
 * llama-quantize's per-tensor type choice ({@code llama_tensor_get_type} without imatrix, not pure) and its shape
 * fallbacks. Kept separate from the quantizer so the rules can be tested on shapes alone.
 */
public final class QuantRules {
  private final GgufOutType out;
  private final int nLayer;
  private final int nExpert;
  private final int nAttnV;
  private final boolean tiedEmbeddings;
  private final boolean is70b;
  private int fallbacks;

  /**
   * @param nAttnV number of attn_v tensors in the model
   * @param tiedEmbeddings true when there is no output.weight
   * @param is70b llama.cpp's 70B model type (80 layers with grouped-query attention)
   */
  public QuantRules(GgufOutType out, int nLayer, int nExpert, int nAttnV, boolean tiedEmbeddings, boolean is70b) {
    this.out = out;
    this.nLayer = nLayer;
    this.nExpert = nExpert;
    this.nAttnV = nAttnV;
    this.tiedEmbeddings = tiedEmbeddings;
    this.is70b = is70b;
  }

  /** True for tensors llama-quantize quantizes at all. */
  public static boolean quantizable(String name, int nDims) {
    return nDims >= 2
        && name.endsWith("weight")
        && !name.endsWith("_norm.weight")
        && !name.contains("ffn_gate_inp.weight")
        && !name.contains("position_embd")
        && !name.contains("token_types")
        && !name.startsWith("rope_freqs");
  }

  static boolean useMoreBits(int i, int n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
  }

  /** Number of tensors that needed a shape fallback so far. */
  public int fallbacks() {
    return fallbacks;
  }

  /** The type of a quantizable tensor with row length {@code ne0}. */
  public GgmlType typeFor(String name, long ne0) {
    GgmlType def = out.defaultType();
    GgmlType t = def;
    boolean kMix = out == GgufOutType.Q4_K_M || out == GgufOutType.Q5_K_M;
    int layer = TensorPlan.layerOf(name);
    if (name.equals("output.weight") || (tiedEmbeddings && name.equals("token_embd.weight"))) {
      if (ne0 % def.blockSize() != 0) {
        t = GgmlType.Q8_0;
      } else if (def != GgmlType.Q8_0) {
        t = GgmlType.Q6_K;
      }
    } else if (name.equals("token_embd.weight")) {
      t = def;
    } else if (name.contains("attn_v.weight")) {
      if (kMix && useMoreBits(layer, nAttnV)) {
        t = GgmlType.Q6_K;
      }
      if (is70b && (t == GgmlType.Q3_K || t == GgmlType.Q4_K)) {
        t = GgmlType.Q5_K;
      }
      if (nExpert == 8) {
        t = GgmlType.Q8_0;
      }
    } else if (name.contains("attn_k.weight")) {
      if (nExpert == 8) {
        t = GgmlType.Q8_0;
      }
    } else if (name.contains("ffn_down")) {
      if (kMix && useMoreBits(layer, nLayer)) {
        t = GgmlType.Q6_K;
      }
    } else if (name.contains("attn_output.weight")) {
      if (nExpert == 8 && out == GgufOutType.Q4_K_M) {
        t = GgmlType.Q5_K;
      }
    }
    if (ne0 % t.blockSize() != 0) {
      fallbacks++;
      t = switch (t) {
        case Q4_K -> GgmlType.Q5_0;
        case Q5_K -> GgmlType.Q5_1;
        case Q6_K -> GgmlType.Q8_0;
        default -> GgmlType.F16;
      };
      if (ne0 % t.blockSize() != 0) {
        t = GgmlType.F16;
      }
    }
    return t;
  }
}
