package dev.securetag.gguf.runtime.internal;

import dev.securetag.gguf.GgufFormatException;
import dev.securetag.gguf.GgufReader;
import dev.securetag.gguf.GgufTensorInfo;
import dev.securetag.gguf.GgufValue;
import java.util.HashMap;
import java.util.Map;

/**
 * A GGUF LoRA adapter applied at run time: for each adapted weight W, {@code y = W x + s * B (A x)} with
 * {@code s = userScale * alpha / rank} (rank = rows of A), exactly what llama.cpp computes for an adapter set with
 * {@code llama_set_adapters_lora}. The base weights stay untouched, so one mapped base can serve with or without it.
 */
public final class LoraAdapter {
  /** A and B of one adapted weight and the scale applied to their product. */
  public record Pair(QMatrix a, QMatrix b, float scale) {
    public int rank() {
      return a.rows();
    }
  }

  private final Map<String, Pair> pairs;

  private LoraAdapter(Map<String, Pair> pairs) {
    this.pairs = pairs;
  }

  public Pair get(String baseName) {
    return pairs.get(baseName);
  }

  public int size() {
    return pairs.size();
  }

  /** Validates the adapter against the base (the checks of llama.cpp's adapter loader) and maps its tensors. */
  public static LoraAdapter load(GgufReader r, LlamaWeights base, String baseArch, float userScale, boolean vector) {
    String where = r.file().toString();
    String type = r.get("general.type").map(GgufValue::asString).orElse("");
    if (!type.equals("adapter")) {
      throw new GgufFormatException(where + ": general.type", "expected 'adapter', got '" + type + "'");
    }
    String atype = r.get("adapter.type").map(GgufValue::asString).orElse("");
    if (!atype.equals("lora")) {
      throw new GgufFormatException(where + ": adapter.type", "expected 'lora', got '" + atype + "'");
    }
    String arch = r.get("general.architecture").map(GgufValue::asString).orElse("");
    if (!arch.equals(baseArch)) {
      throw new GgufFormatException(where + ": general.architecture", "adapter is for '" + arch
          + "' but the model is '" + baseArch + "'");
    }
    float alpha = r.get("adapter.lora.alpha").map(GgufValue::asFloat).orElse(0f);
    Map<String, QMatrix> byName = new HashMap<>();
    for (LlamaWeights.Layer l : base.layers) {
      for (QMatrix m : l.matrices()) {
        byName.put(m.name(), m);
      }
    }
    byName.put(base.output.name(), base.output);
    Map<String, Pair> pairs = new HashMap<>();
    for (GgufTensorInfo t : r.tensors()) {
      if (!t.name().endsWith(".lora_a")) {
        if (!t.name().endsWith(".lora_b")) {
          throw new GgufFormatException(where + ": tensor '" + t.name() + "'", "unexpected tensor in a LoRA adapter");
        }
        continue;
      }
      String baseName = t.name().substring(0, t.name().length() - ".lora_a".length());
      GgufTensorInfo bt = r.tensor(baseName + ".lora_b").orElseThrow(() -> new GgufFormatException(
          where + ": tensor '" + baseName + ".lora_b'", "lora_a without its lora_b"));
      QMatrix w = byName.get(baseName);
      if (w == null) {
        throw new GgufFormatException(where + ": tensor '" + t.name() + "'", "the model has no weight '"
            + baseName + "' (embedding adapters are not supported)");
      }
      long[] a = t.ne();
      long[] b = bt.ne();
      if (a.length != 2 || b.length != 2 || a[0] != w.cols() || b[1] != w.rows() || a[1] != b[0]) {
        throw new GgufFormatException(where + ": tensor '" + t.name() + "'", "shapes a=" + java.util.Arrays.toString(a)
            + " b=" + java.util.Arrays.toString(b) + " do not fit weight " + w
            + " (lora_a must be [in, r], lora_b [r, out])");
      }
      int rank = (int) a[1];
      float scale = alpha == 0f ? userScale : userScale * alpha / rank;
      QMatrix qa = new QMatrix(t.name(), t.type(), r.tensorData(t.name()), rank, w.cols(), vector);
      QMatrix qb = new QMatrix(bt.name(), bt.type(), r.tensorData(bt.name()), w.rows(), rank, vector);
      pairs.put(baseName, new Pair(qa, qb, scale));
    }
    if (pairs.isEmpty()) {
      throw new GgufFormatException(where, "adapter has no lora_a/lora_b tensors");
    }
    return new LoraAdapter(Map.copyOf(pairs));
  }
}
