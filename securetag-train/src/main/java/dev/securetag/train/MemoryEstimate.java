package dev.securetag.train;

import dev.securetag.core.HfConfig;
import java.util.List;
import java.util.Locale;

/**
 * Peak memory of one QLoRA training step as this module computes it, by component: the formula behind the README's
 * table, and checked against measured peak RSS at small scale by {@code MemoryEstimateTest}. It counts what stays alive
 * in this implementation — the tensors autograd saves for backward in each decoder layer (the rest is freed as each
 * operation ends), the dequantized base weights the matmul backward keeps, the layer inputs kept by gradient
 * checkpointing, the chunked loss head, and the transient working sets of dequantization and of one layer's backward.
 * Dense Llama/Mistral layers only (a Mixtral layer evaluates every expert and needs more).
 */
public final class MemoryEstimate {
  private MemoryEstimate() {}

  /** The settings of a run that matter for memory. */
  public record Run(int batch, int seq, Quantization quantization, Precision precision, boolean gradientCheckpointing,
      AttentionKernel attention) {
    public Run {
      if (precision == Precision.AUTO) {
        throw new IllegalArgumentException("resolve the precision first (FP32, BF16 or FP16)");
      }
    }
  }

  /**
   * Bytes by component. Device memory: everything but {@code hostOptimizer}, which the trainer keeps in Java memory.
   *
   * @param baseWeights decoder linear weights as held (NF4 packed codes and scales, or float32)
   * @param otherWeights embeddings, lm_head and norms (float32)
   * @param adapters LoRA parameters and their gradients (float32)
   * @param layerInputs the saved input of every decoder layer and the final hidden states (checkpointing only)
   * @param activations tensors autograd saves for backward: one layer's with checkpointing, all layers' without
   * @param savedWeights dequantized base weights kept for the matmul backward (one layer's, or all layers')
   * @param transients dequantization buffers of the largest matrix plus one layer's backward working set
   * @param lossHead logits, log-probabilities and their gradients of the loss head (a chunk of rows with checkpointing)
   * @param hostOptimizer fp32 master weights, Adam moments, a gradient copy and the upload buffer (Java memory)
   * @param gradientCheckpointing whether the phases below are per layer
   */
  public record Breakdown(long baseWeights, long otherWeights, long adapters, long layerInputs, long activations,
      long savedWeights, long transients, long lossHead, long hostOptimizer, boolean gradientCheckpointing) {
    /** Peak device memory of a training step. */
    public long devicePeak() {
      return baseWeights + otherWeights + adapters + activationPeak();
    }

    /**
     * The part of the peak a training step adds on top of the resident model and adapters. With checkpointing the
     * loss head (run first in backward) and the recompute + backward of one layer are separate phases on top of the
     * kept layer inputs; without, every layer's saved tensors are alive when the loss head's gradients are made.
     */
    public long activationPeak() {
      if (gradientCheckpointing) {
        return layerInputs + Math.max(lossHead, activations + savedWeights + transients);
      }
      return layerInputs + activations + savedWeights + Math.max(lossHead, transients);
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "device peak %.2f GB (weights %.2f, other %.2f, adapters %.2f, layer inputs %.2f,"
          + " activations %.2f, saved weights %.2f, transients %.2f, loss head %.2f), host optimizer %.2f GB",
          devicePeak() / 1e9, baseWeights / 1e9, otherWeights / 1e9, adapters / 1e9, layerInputs / 1e9,
          activations / 1e9, savedWeights / 1e9, transients / 1e9, lossHead / 1e9, hostOptimizer / 1e9);
    }
  }

  /** Mistral-7B-v0.1's architecture (hidden 4096, 32 layers, 32 heads / 8 KV heads, intermediate 14336, vocab 32000). */
  public static HfConfig mistral7b() {
    return HfConfig.builder().architecture(HfConfig.Architecture.MISTRAL).vocabSize(32000).hiddenSize(4096)
        .intermediateSize(14336).numHiddenLayers(32).numAttentionHeads(32).numKeyValueHeads(8).rmsNormEps(1e-5)
        .ropeTheta(10000.0).maxPositionEmbeddings(32768).eosTokenIds(List.of(2)).build();
  }

  /** The estimate for {@code c} with adapters {@code lora} under {@code run}. */
  public static Breakdown estimate(HfConfig c, LoraConfig lora, Run run) {
    if (c.isMoe()) {
      throw new IllegalArgumentException("the estimate covers dense Llama/Mistral layers, not Mixtral");
    }
    long h = c.hiddenSize();
    long qd = (long) c.numAttentionHeads() * c.headDim();
    long kvd = (long) c.numKeyValueHeads() * c.headDim();
    long inter = c.intermediateSize();
    long v = c.vocabSize();
    int layers = c.numHiddenLayers();
    long n = (long) run.batch() * run.seq();
    String[] names = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj",
        "mlp.up_proj", "mlp.down_proj"};
    long[][] shapes = {{qd, h}, {kvd, h}, {kvd, h}, {h, qd}, {inter, h}, {inter, h}, {h, inter}};
    long layerParams = 0;
    long largest = 0;
    long baseBytes = 0;
    long loraParams = 0;
    int loraModules = 0;
    for (int i = 0; i < names.length; i++) {
      long out = shapes[i][0];
      long in = shapes[i][1];
      long params = out * in;
      layerParams += params;
      largest = Math.max(largest, params);
      baseBytes += heldBytes(params, run.quantization());
      if (lora.targets("model.layers.0." + names[i])) {
        loraParams += (long) lora.r() * (in + out);
        loraModules++;
      }
    }
    baseBytes *= layers;
    loraParams *= layers;
    long other = 4L * (v * h * (c.tieWordEmbeddings() ? 1 : 2) + (2L * layers + 1) * h);
    long adapters = 2 * 4L * loraParams;
    long r = lora.r();
    boolean low = run.precision() != Precision.FP32;
    boolean sdpa = run.attention() == AttentionKernel.SDPA;
    long heads = c.numAttentionHeads();
    // Bytes autograd saves per token of one layer (see the class comment of the README's memory section).
    long perToken;
    if (!low) {
      perToken = 4 * (3 * h + (sdpa ? 5 : 4) * qd + 5 * inter + r * loraModules);
    } else {
      // fp32 residual x1; bf16 copies of the inputs of q, k, v (one each), o, gate, up, down; fp32 g, sigmoid(g), up,
      // silu; bf16 low-rank products; SDPA's bf16 q, k, v and output (explicit attention runs in fp32).
      perToken = 4 * h + 2 * (3 * h + qd + 2 * h + inter) + 4 * 4 * inter + 2 * r * loraModules
          + (sdpa ? 2 * 4 * qd : 4 * 4 * qd);
    }
    perToken += 16 + (sdpa ? 4 * heads : 4 * heads * run.seq());
    long layerActivations = perToken * n;
    long savedWeightsPerLayer = (low ? 2 : 4) * layerParams;
    // Backward frees saved tensors as it goes; at its start the gradients of the MLP's input and output are added.
    long backwardWorkingSet = 4 * n * (inter + 2 * h);
    long dequant = 10 * largest;
    long transients = dequant + backwardWorkingSet;
    long layerInputs;
    long activations;
    long savedWeights;
    long head;
    if (run.gradientCheckpointing()) {
      layerInputs = 4 * n * h * (layers + 1) + 2 * 4 * n * h;
      activations = layerActivations;
      savedWeights = savedWeightsPerLayer;
      long rows = Math.max(1, Math.min(n, (1L << 24) / v));
      head = 3 * 4 * rows * v;
    } else {
      layerInputs = 4 * n * h * (layers + 1);
      activations = layerActivations * layers;
      savedWeights = savedWeightsPerLayer * layers;
      head = 3 * 4 * n * v;
    }
    long host = 5 * 4L * loraParams;
    return new Breakdown(baseBytes, other, adapters, layerInputs, activations, savedWeights, transients, head, host,
        run.gradientCheckpointing());
  }

  /** Bytes of one linear weight of {@code params} elements as held (as {@link Nf4Tensor#bytes()}). */
  static long heldBytes(long params, Quantization q) {
    long blocks = (params + Nf4Tensor.DEFAULT_BLOCKSIZE - 1) / Nf4Tensor.DEFAULT_BLOCKSIZE;
    return switch (q) {
      case NONE -> 4 * params;
      case NF4 -> (params + 1) / 2 + 4 * blocks;
      case NF4_DOUBLE_QUANT -> (params + 1) / 2 + blocks
          + 4 * ((blocks + Nf4Tensor.NESTED_BLOCKSIZE - 1) / Nf4Tensor.NESTED_BLOCKSIZE) + 4;
    };
  }
}
