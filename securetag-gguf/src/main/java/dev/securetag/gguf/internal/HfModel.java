package dev.securetag.gguf.internal;

import dev.securetag.core.HfConfig;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.UnsupportedFormatException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face Llama / Mistral / Mixtral checkpoint directory seen through llama.cpp's converter: the
 * hyper-parameters from {@code config.json}, read by securetag-core's {@link HfConfig} exactly as the trainer reads
 * them (transformers v5 {@code rope_parameters}, the family's default {@code rms_norm_eps} when absent), and the list
 * of GGUF tensors (names, shapes, Q/K permutation, expert stacking) in the order the converter writes them.
 */
public final class HfModel {
  private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");
  private static final Pattern EXPERT =
      Pattern.compile("block_sparse_moe\\.experts\\.(\\d+)\\.(w[123])\\.weight");
  private static final Map<String, String> LAYER_NAMES = Map.ofEntries(
      Map.entry("input_layernorm.weight", "attn_norm.weight"),
      Map.entry("self_attn.q_proj.weight", "attn_q.weight"),
      Map.entry("self_attn.k_proj.weight", "attn_k.weight"),
      Map.entry("self_attn.v_proj.weight", "attn_v.weight"),
      Map.entry("self_attn.o_proj.weight", "attn_output.weight"),
      Map.entry("self_attn.q_proj.bias", "attn_q.bias"),
      Map.entry("self_attn.k_proj.bias", "attn_k.bias"),
      Map.entry("self_attn.v_proj.bias", "attn_v.bias"),
      Map.entry("self_attn.o_proj.bias", "attn_output.bias"),
      Map.entry("post_attention_layernorm.weight", "ffn_norm.weight"),
      Map.entry("mlp.gate_proj.weight", "ffn_gate.weight"),
      Map.entry("mlp.up_proj.weight", "ffn_up.weight"),
      Map.entry("mlp.down_proj.weight", "ffn_down.weight"),
      Map.entry("block_sparse_moe.gate.weight", "ffn_gate_inp.weight"));
  private static final Map<String, String> EXPERT_NAMES =
      Map.of("w1", "ffn_gate_exps.weight", "w2", "ffn_down_exps.weight", "w3", "ffn_up_exps.weight");

  public final Path dir;
  public final HfConfig config;
  public final int nLayer;
  public final int nEmbd;
  public final int nHead;
  public final int nHeadKv;
  public final int nFf;
  public final int contextLength;
  public final int vocabSize;
  public final int nExpert;
  public final int nExpertUsed;
  /** {@code head_dim} when config.json states it (llama.cpp writes key/value lengths only then); else null. */
  public final Integer headDim;
  /** {@code rope_theta} or {@code rope_parameters.rope_theta}, else the family's default. */
  public final float ropeTheta;
  /** {@code rms_norm_eps}, else the family's transformers default (the GGUF always carries one: runtimes need it). */
  public final float rmsEps;

  private HfModel(Path dir, HfConfig config) {
    this.dir = dir;
    this.config = config;
    this.nLayer = config.numHiddenLayers();
    this.nEmbd = config.hiddenSize();
    this.nHead = config.numAttentionHeads();
    this.nHeadKv = config.numKeyValueHeads();
    this.nFf = config.intermediateSize();
    this.contextLength = config.maxPositionEmbeddings();
    this.vocabSize = config.vocabSize();
    this.nExpert = config.numLocalExperts();
    this.nExpertUsed = config.numExpertsPerTok();
    this.headDim = config.explicitHeadDim().isPresent() ? config.explicitHeadDim().getAsInt() : null;
    this.ropeTheta = (float) config.ropeTheta();
    this.rmsEps = (float) config.rmsNormEps();
  }

  /**
   * Reads {@code dir/config.json}.
   *
   * @throws InvalidInputException naming the file and field when one is missing, mistyped or inconsistent
   * @throws UnsupportedFormatException for architectures other than Llama, Mistral and Mixtral
   */
  public static HfModel read(Path dir) {
    return new HfModel(dir, HfConfig.load(dir.resolve("config.json")));
  }

  /** Rotary dimension: head_dim if given, else hidden_size / heads. */
  public int ropeDim() {
    return config.headDim();
  }

  /** The GGUF name of a checkpoint tensor, null when the converter drops it. */
  public static String ggufName(String hf, String location) {
    switch (hf) {
      case "model.embed_tokens.weight":
        return "token_embd.weight";
      case "model.norm.weight":
        return "output_norm.weight";
      case "lm_head.weight":
        return "output.weight";
      default:
        break;
    }
    Matcher m = LAYER.matcher(hf);
    if (m.matches()) {
      String rest = m.group(2);
      if (rest.endsWith("rotary_emb.inv_freq")) {
        return null;
      }
      String g = LAYER_NAMES.get(rest);
      if (g != null) {
        return "blk." + m.group(1) + "." + g;
      }
    }
    throw new UnsupportedFormatException(location + ": " + hf, "cannot map tensor to a llama.cpp name");
  }

  /** Head count for the row permutation of a checkpoint tensor (0 when it is not permuted). */
  public int permuteHeadsFor(String hf) {
    if (hf.endsWith("self_attn.q_proj.weight") || hf.endsWith("self_attn.q_proj.bias")) {
      return nHead;
    }
    if (hf.endsWith("self_attn.k_proj.weight") || hf.endsWith("self_attn.k_proj.bias")) {
      return nHeadKv;
    }
    return 0;
  }

  /** Tensors in the converter's output order (checkpoint names sorted, experts stacked per layer). */
  public List<TensorPlan> plan(SafetensorsReader st) {
    List<TensorPlan> out = new ArrayList<>();
    float[] ropeFreqs = llama3RopeFreqs();
    if (ropeFreqs != null) {
      out.add(new TensorPlan("rope_freqs.weight", new long[] {ropeFreqs.length}, List.of(), 0, true, ropeFreqs));
    }
    List<String> names = new ArrayList<>(st.names());
    names.sort(null);
    Map<Integer, TreeMap<Integer, Map<String, String>>> experts = new HashMap<>();
    String loc = dir.toString();
    for (String hf : names) {
      SafetensorsReader.TensorInfo info = st.tensor(hf).orElseThrow();
      checkDtype(info);
      Matcher lm = LAYER.matcher(hf);
      if (lm.matches()) {
        Matcher em = EXPERT.matcher(lm.group(2));
        if (em.matches()) {
          int layer = Integer.parseInt(lm.group(1));
          experts.computeIfAbsent(layer, k -> new TreeMap<>())
              .computeIfAbsent(Integer.parseInt(em.group(1)), k -> new HashMap<>())
              .put(em.group(2), hf);
          int count = experts.get(layer).values().stream().mapToInt(Map::size).sum();
          if (nExpert > 0 && count == 3 * nExpert) {
            out.addAll(stack(st, layer, experts.get(layer)));
          }
          continue;
        }
      }
      String g = ggufName(hf, loc);
      if (g == null) {
        continue;
      }
      long[] shape = info.shape();
      long[] ne = new long[shape.length];
      for (int i = 0; i < shape.length; i++) {
        ne[i] = shape[shape.length - 1 - i];
      }
      int heads = permuteHeadsFor(hf);
      if (heads > 0 && ne.length >= 1 && (ne[ne.length - 1] % heads != 0 || (ne[ne.length - 1] / heads) % 2 != 0)) {
        throw new InvalidInputException(loc + ": " + hf, "rows " + ne[ne.length - 1]
            + " cannot be split into " + heads + " heads of even size");
      }
      boolean keepF32 = ne.length <= 1 || g.endsWith("_norm.weight") || g.endsWith("ffn_gate_inp.weight");
      out.add(new TensorPlan(g, ne, List.of(hf), heads, keepF32, null));
    }
    for (Map.Entry<Integer, TreeMap<Integer, Map<String, String>>> e : experts.entrySet()) {
      int count = e.getValue().values().stream().mapToInt(Map::size).sum();
      if (count != 3 * nExpert) {
        throw new InvalidInputException(loc + ": model.layers." + e.getKey() + ".block_sparse_moe.experts",
            "expected " + nExpert + " experts with w1, w2, w3, found " + count + " tensors");
      }
    }
    return out;
  }

  private List<TensorPlan> stack(SafetensorsReader st, int layer, TreeMap<Integer, Map<String, String>> byExpert) {
    List<TensorPlan> out = new ArrayList<>();
    for (String w : List.of("w1", "w2", "w3")) {
      List<String> parts = new ArrayList<>();
      long[] shape = null;
      for (int e = 0; e < nExpert; e++) {
        Map<String, String> m = byExpert.get(e);
        String hf = m == null ? null : m.get(w);
        if (hf == null) {
          throw new InvalidInputException(dir + ": model.layers." + layer + ".block_sparse_moe.experts." + e,
              "missing " + w);
        }
        long[] s = st.tensor(hf).orElseThrow().shape();
        if (shape != null && !Arrays.equals(shape, s)) {
          throw new InvalidInputException(dir + ": " + hf, "expert shapes differ");
        }
        shape = s;
        parts.add(hf);
      }
      out.add(new TensorPlan("blk." + layer + "." + EXPERT_NAMES.get(w),
          new long[] {shape[1], shape[0], nExpert}, parts, 0, false, null));
    }
    return out;
  }

  private void checkDtype(SafetensorsReader.TensorInfo info) {
    switch (info.dtype()) {
      case F32, F16, BF16 -> { }
      default -> throw new UnsupportedFormatException(info.file() + ": " + info.name(),
          "dtype " + info.dtype() + " is not supported (F32, F16 and BF16 are)");
    }
  }

  /** Llama 3.x rope scaling factors, or null when the config does not use {@code rope_type: llama3}. */
  private float[] llama3RopeFreqs() {
    HfConfig.RopeScaling rs = config.ropeScaling().orElse(null);
    if (rs == null || !rs.type().equals("llama3")) {
      return null;
    }
    float base = ropeTheta;
    int dim = ropeDim();
    double factor = rs.factor();
    double lowFreqFactor = rs.lowFreqFactor();
    double highFreqFactor = rs.highFreqFactor();
    double old = rs.originalMaxPositionEmbeddings();
    double lowWavelen = old / lowFreqFactor;
    double highWavelen = old / highFreqFactor;
    float[] f = new float[dim / 2];
    for (int k = 0; k < dim / 2; k++) {
      float freq = (float) (1.0 / (float) Math.pow(base, (float) (2 * k) / dim));
      float wavelen = (float) (2 * Math.PI / freq);
      if (wavelen < highWavelen) {
        f[k] = 1f;
      } else if (wavelen > lowWavelen) {
        f[k] = (float) factor;
      } else {
        double smooth = (old / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        f[k] = (float) (1 / ((1 - smooth) / factor + smooth));
      }
    }
    return f;
  }
}
