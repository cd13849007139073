package dev.securetag.gguf.runtime.internal;

import dev.securetag.gguf.runtime.GgufModel;
import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.gguf.GgufFormatException;
import dev.securetag.gguf.GgufReader;
import dev.securetag.gguf.GgufValue;
import java.util.Optional;

/** Hyper-parameters of a llama-architecture GGUF, read with the key names and defaults llama.cpp uses. */
public record LlamaConfig(
    String architecture,
    int dim,
    int layers,
    int heads,
    int kvHeads,
    int headDim,
    int ffnDim,
    int vocabSize,
    int contextLength,
    float rmsEps,
    float ropeBase,
    int ropeDim,
    int experts,
    int expertsUsed) {

  public int qDim() {
    return heads * headDim;
  }

  public int kvDim() {
    return kvHeads * headDim;
  }

  /** True for a mixture-of-experts model (Mixtral): {@code experts} FFNs per layer, {@code expertsUsed} per token. */
  public boolean moe() {
    return experts > 0;
  }

  /** Reads the config; {@code vocabFallback} is the token-list length used when {@code llama.vocab_size} is absent. */
  public static LlamaConfig read(GgufReader r, int vocabFallback) {
    String where = r.file().toString();
    String arch = r.get("general.architecture").map(GgufValue::asString)
        .orElseThrow(() -> new GgufFormatException(where + ": general.architecture", "missing key"));
    if (!arch.equals("llama") && !arch.equals("mistral")) {
      throw new UnsupportedFormatException(where + ": general.architecture",
          "architecture '" + arch + "' is not supported by the CPU runtime (only llama)");
    }
    requireModel(r);
    int experts = optionalInt(r, arch + ".expert_count", true).orElse(0);
    int used = optionalInt(r, arch + ".expert_used_count", true).orElse(0);
    if (experts > 0 && (used < 1 || used > experts)) {
      throw new GgufFormatException(where + ": " + arch + ".expert_used_count", "must be in [1, " + experts
          + "] for a model with " + experts + " experts, got " + used);
    }
    int dim = required(r, arch + ".embedding_length");
    int layers = required(r, arch + ".block_count");
    int heads = required(r, arch + ".attention.head_count");
    int kvHeads = optionalInt(r, arch + ".attention.head_count_kv").orElse(heads);
    int ffn = required(r, arch + ".feed_forward_length");
    int headDim = optionalInt(r, arch + ".attention.key_length").orElse(dim / heads);
    int valueDim = optionalInt(r, arch + ".attention.value_length").orElse(headDim);
    if (valueDim != headDim) {
      throw new UnsupportedFormatException(where + ": " + arch + ".attention.value_length",
          "key and value head sizes differ (" + headDim + " vs " + valueDim + ")");
    }
    if (heads % kvHeads != 0) {
      throw new GgufFormatException(where + ": " + arch + ".attention.head_count_kv",
          heads + " heads are not a multiple of " + kvHeads + " KV heads");
    }
    int ctx = required(r, arch + ".context_length");
    float eps = r.get(arch + ".attention.layer_norm_rms_epsilon").map(GgufValue::asFloat)
        .orElseThrow(() -> new GgufFormatException(where + ": " + arch + ".attention.layer_norm_rms_epsilon",
            "missing key"));
    float base = r.get(arch + ".rope.freq_base").map(GgufValue::asFloat).orElse(10000f);
    int ropeDim = optionalInt(r, arch + ".rope.dimension_count").orElse(headDim);
    int vocab = optionalInt(r, arch + ".vocab_size").orElse(vocabFallback);
    return new LlamaConfig(arch, dim, layers, heads, kvHeads, headDim, ffn, vocab, ctx, eps, base, ropeDim,
        experts, experts > 0 ? used : 0);
  }

  /** Rejects adapter files early, before their missing tokenizer or hyper-parameters cause a vaguer error. */
  public static void requireModel(GgufReader r) {
    if (r.get("general.type").map(GgufValue::asString).orElse("model").equals("adapter")) {
      throw new GgufFormatException(r.file() + ": general.type", "this is a LoRA adapter, not a model; load the base "
          + "model and pass the adapter to GgufModel.builder().adapter(...)");
    }
  }

  private static int required(GgufReader r, String key) {
    return optionalInt(r, key).orElseThrow(() -> new GgufFormatException(r.file() + ": " + key, "missing key"));
  }

  private static Optional<Integer> optionalInt(GgufReader r, String key) {
    return optionalInt(r, key, false);
  }

  private static Optional<Integer> optionalInt(GgufReader r, String key, boolean zeroAllowed) {
    Optional<GgufValue> v = r.get(key);
    if (v.isEmpty()) {
      return Optional.empty();
    }
    GgufValue g = v.get();
    if (g.type() == dev.securetag.gguf.GgufValueType.ARRAY) {
      throw new UnsupportedFormatException(r.file() + ": " + key, "per-layer values are not supported");
    }
    long x = g.asLong();
    if (x < (zeroAllowed ? 0 : 1) || x > Integer.MAX_VALUE) {
      throw new GgufFormatException(r.file() + ": " + key, "value " + x + " is out of range");
    }
    return Optional.of((int) x);
  }
}
