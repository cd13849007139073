package dev.securetag.gguf;

import dev.securetag.core.ProgressListener;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.gguf.internal.HfModel;
import dev.securetag.gguf.internal.LoraMerge;
import dev.securetag.gguf.internal.QuantRules;
import dev.securetag.gguf.internal.RowPipeline;
import dev.securetag.gguf.internal.TensorPlan;
import dev.securetag.gguf.internal.TokenizerMetadata;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Converts a Hugging Face Llama, Mistral or Mixtral checkpoint directory to a GGUF file that llama.cpp and Ollama
 * load, producing the bytes llama.cpp's own tools would: {@code convert_hf_to_gguf.py} for F32/F16/BF16, and
 * "convert to F16, then {@code llama-quantize}" for the quantized types (per-tensor mixture rules, shape fallbacks,
 * tensor and key order included). Tensors are streamed one at a time and quantized over rows in parallel.
 *
 * <pre>{@code
 * GgufQuantizer.builder()
 *     .baseModel(Path.of("merged-model"))
 *     .outType(GgufOutType.Q4_K_M)
 *     .threads(4)
 *     .listener(ConsoleProgressBar.create())
 *     .build()
 *     .write(Path.of("model-q4_k_m.gguf"));
 * }</pre>
 */
public final class GgufQuantizer {
  private static final Logger LOG = LoggerFactory.getLogger(GgufQuantizer.class);

  /** What a conversion wrote. */
  public record Result(Path file, List<GgufTensorInfo> tensors, Map<String, GgufValue> metadata, int fallbacks) {}

  private final Path model;
  private final GgufOutType outType;
  private final int threads;
  private final ProgressListener listener;
  private final String name;
  private final GgmlType intermediate;
  private final Path adapter;

  private GgufQuantizer(Builder b) {
    this.model = b.model;
    this.outType = b.outType;
    this.threads = b.threads;
    this.listener = b.listener == null ? ProgressListener.NONE : b.listener;
    this.name = b.name;
    this.intermediate = b.intermediate;
    this.adapter = b.adapter;
  }

  /** A new builder; {@link Builder#baseModel} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Fluent configuration of a {@link GgufQuantizer}: setters record values, {@link #build()} checks them.
   */
  public static final class Builder {
    private Path model;
    private GgufOutType outType = GgufOutType.F16;
    private int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    private ProgressListener listener = ProgressListener.NONE;
    private String name;
    private GgmlType intermediate = GgmlType.F16;
    private Path adapter;

    private Builder() {}

    /** The Hugging Face checkpoint directory to convert (config.json, safetensors, tokenizer files); required. */
    public Builder baseModel(Path dir) {
      this.model = dir;
      return this;
    }

    /**
     * Old name of {@link #baseModel(Path)}.
     *
     * @deprecated the checkpoint directory is {@code baseModel} on every securetag builder
     */
    @Deprecated
    public Builder model(Path dir) {
      return baseModel(dir);
    }

    /** Output type; default F16. */
    public Builder outType(GgufOutType type) {
      this.outType = type;
      return this;
    }

    /** Worker threads for quantizing rows (at least 1); default: available processors. */
    public Builder threads(int n) {
      this.threads = n;
      return this;
    }

    /** Progress receiver (phase {@code "convert"}, unit weights). */
    public Builder listener(ProgressListener listener) {
      this.listener = listener;
      return this;
    }

    /** {@code general.name}; default derived from the directory name as llama.cpp's converter does. */
    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /**
     * For quantized outputs: the type of the intermediate file llama-quantize would read (F16 by default, BF16, or
     * F32 to quantize the checkpoint values directly).
     */
    public Builder intermediate(GgmlType type) {
      this.intermediate = type;
      return this;
    }

    /** A PEFT LoRA adapter directory to merge into the weights while converting (one output file). */
    public Builder adapter(Path peftDir) {
      this.adapter = peftDir;
      return this;
    }

    /**
     * Old name of {@link #adapter(Path)}.
     *
     * @deprecated the PEFT adapter directory is {@code adapter} on every securetag builder
     */
    @Deprecated
    public Builder mergeAdapter(Path peftDir) {
      return adapter(peftDir);
    }

    /**
     * Checks the settings and builds the converter.
     *
     * @throws IllegalArgumentException naming a setting out of range, or a base model that is not a directory
     * @throws IllegalStateException when the base model or the output type is missing
     */
    public GgufQuantizer build() {
      if (threads < 1) {
        throw new IllegalArgumentException("GgufQuantizer.threads must be >= 1, got " + threads);
      }
      if (intermediate != GgmlType.F16 && intermediate != GgmlType.BF16 && intermediate != GgmlType.F32) {
        throw new IllegalArgumentException("GgufQuantizer.intermediate must be F16, BF16 or F32, got " + intermediate);
      }
      if (model == null) {
        throw new IllegalStateException("GgufQuantizer.baseModel(dir) is required");
      }
      if (outType == null) {
        throw new IllegalStateException("GgufQuantizer.outType must not be null");
      }
      if (!Files.isDirectory(model)) {
        throw new IllegalArgumentException("GgufQuantizer.baseModel must be a checkpoint directory: " + model);
      }
      return new GgufQuantizer(this);
    }
  }

  /**
   * Converts and writes {@code out} atomically.
   *
   * @throws dev.securetag.core.InvalidInputException for malformed checkpoints or non-finite weights (naming the
   *     tensor)
   */
  public Result write(Path out) {
    HfModel hf = HfModel.read(model);
    TokenizerMetadata tok = TokenizerMetadata.read(model, hf.vocabSize);
    try (SafetensorsReader st = SafetensorsReader.open(model);
        RowPipeline pipeline = new RowPipeline(threads);
        LoraMerge merge = adapter == null ? null : LoraMerge.open(adapter, hf)) {
      List<TensorPlan> plan = hf.plan(st);
      boolean tied = plan.stream().noneMatch(t -> t.name().equals("output.weight"));
      int nAttnV = (int) plan.stream().filter(t -> t.name().contains("attn_v.weight")).count();
      QuantRules rules = new QuantRules(outType, hf.nLayer, hf.nExpert, nAttnV, tied,
          hf.nLayer == 80 && hf.nHeadKv < hf.nHead);
      if (outType.isQuantized()) {
        plan.sort((a, b) -> TensorPlan.compareLlamaCpp(a.name(), b.name()));
      }
      Map<String, GgufValue> kv = metadata(hf, tok, plan);
      GgufWriter w = GgufWriter.create();
      kv.forEach(w::put);
      long total = plan.stream().mapToLong(TensorPlan::numel).sum();
      AtomicLong done = new AtomicLong();
      Map<String, GgmlType> types = new HashMap<>();
      for (TensorPlan t : plan) {
        GgmlType type;
        GgmlType through;
        if (t.keepF32()) {
          type = GgmlType.F32;
          through = GgmlType.F32;
        } else if (!outType.isQuantized()) {
          type = outType.defaultType();
          through = GgmlType.F32;
        } else if (QuantRules.quantizable(t.name(), t.ne().length)) {
          type = rules.typeFor(t.name(), t.ne()[0]);
          through = intermediate;
        } else {
          type = intermediate;
          through = GgmlType.F32;
        }
        types.put(t.name(), type);
        RowPipeline.RowDelta delta = merge == null ? null : merge.deltaFor(t);
        w.tensor(t.name(), type, t.ne(), os -> {
          long before = done.get();
          pipeline.write(st, t, type, through, delta, os, rows -> {
            long now = before + rows * t.rowLen();
            done.set(now);
            listener.onProgress(new ProgressListener.Progress("convert", now, total, "weights", t.name()));
          });
        });
      }
      if (rules.fallbacks() > 0) {
        LOG.warn("{} of {} tensors needed a fallback type because their rows are not a multiple of 256",
            rules.fallbacks(), plan.size());
      }
      try {
        w.write(out);
      } finally {
        listener.onPhaseEnd("convert");
      }
      LOG.info("wrote {} ({} tensors, {}) from {}", out, plan.size(), outType, model);
      return new Result(out, w.tensorInfos(), w.metadata(), rules.fallbacks());
    }
  }

  private Map<String, GgufValue> metadata(HfModel hf, TokenizerMetadata tok, List<TensorPlan> plan) {
    Map<String, GgufValue> kv = new LinkedHashMap<>();
    kv.put("general.architecture", GgufValue.string("llama"));
    kv.put("general.type", GgufValue.string("model"));
    kv.put("general.name", GgufValue.string(name != null ? name : titleFromId(model)));
    kv.put("general.size_label", GgufValue.string(sizeLabel(plan, hf.nExpert)));
    kv.put("llama.block_count", GgufValue.uint32(hf.nLayer));
    kv.put("llama.context_length", GgufValue.uint32(hf.contextLength));
    kv.put("llama.embedding_length", GgufValue.uint32(hf.nEmbd));
    kv.put("llama.feed_forward_length", GgufValue.uint32(hf.nFf));
    kv.put("llama.attention.head_count", GgufValue.uint32(hf.nHead));
    kv.put("llama.attention.head_count_kv", GgufValue.uint32(hf.nHeadKv));
    kv.put("llama.rope.freq_base", GgufValue.float32(hf.ropeTheta));
    kv.put("llama.attention.layer_norm_rms_epsilon", GgufValue.float32(hf.rmsEps));
    if (hf.nExpert > 0) {
      kv.put("llama.expert_count", GgufValue.uint32(hf.nExpert));
    }
    if (hf.nExpertUsed > 0) {
      kv.put("llama.expert_used_count", GgufValue.uint32(hf.nExpertUsed));
    }
    if (hf.headDim != null) {
      kv.put("llama.attention.key_length", GgufValue.uint32(hf.headDim));
      kv.put("llama.attention.value_length", GgufValue.uint32(hf.headDim));
    }
    kv.put("general.file_type", GgufValue.uint32(outType.isQuantized() ? 1 : outType.fileType()));
    kv.put("llama.vocab_size", GgufValue.uint32(hf.vocabSize));
    kv.put("llama.rope.dimension_count", GgufValue.uint32(hf.ropeDim()));
    hf.config.ropeScaling().ifPresent(rs -> {
      if (rs.type().equals("linear") || rs.type().equals("yarn")) {
        kv.put("llama.rope.scaling.type", GgufValue.string(rs.type()));
        kv.put("llama.rope.scaling.factor", GgufValue.float32((float) rs.factor()));
        if (rs.type().equals("yarn")) {
          kv.put("llama.rope.scaling.original_context_length", GgufValue.uint32(rs.originalMaxPositionEmbeddings()));
        }
      }
    });
    kv.put("general.quantization_version", GgufValue.uint32(2));
    kv.putAll(tok.kvs());
    if (outType.isQuantized()) {
      // llama-quantize re-appends these two keys at the end of the copied metadata.
      kv.remove("general.quantization_version");
      kv.remove("general.file_type");
      kv.put("general.quantization_version", GgufValue.uint32(2));
      kv.put("general.file_type", GgufValue.uint32(outType.fileType()));
    }
    return kv;
  }

  /** gguf-py's size label: parameter count with K/M/B/T suffix, "NxSIZE" for mixtures of experts. */
  static String sizeLabel(List<TensorPlan> plan, int nExpert) {
    long total = 0;
    long shared = 0;
    long expert = 0;
    for (TensorPlan t : plan) {
      total += t.numel();
      if (t.name().contains("_exps.")) {
        expert += t.numel() / nExpert;
      } else {
        shared += t.numel();
      }
    }
    if (nExpert > 0) {
      return nExpert + "x" + roundedNotation(shared + expert);
    }
    return roundedNotation(total);
  }

  static String roundedNotation(long count) {
    double scaled;
    String suffix;
    if (count > 1e12) {
      scaled = count * 1e-12;
      suffix = "T";
    } else if (count > 1e9) {
      scaled = count * 1e-9;
      suffix = "B";
    } else if (count > 1e6) {
      scaled = count * 1e-6;
      suffix = "M";
    } else {
      scaled = count * 1e-3;
      suffix = "K";
    }
    String whole = new BigDecimal(scaled).setScale(0, RoundingMode.HALF_EVEN).toPlainString();
    whole = whole.replaceFirst("^0+", "");
    int fix = Math.max(2 - whole.length(), 0);
    return new BigDecimal(scaled).setScale(fix, RoundingMode.HALF_EVEN).toPlainString() + suffix;
  }

  /** gguf-py's {@code Metadata.id_to_title} applied to the directory name ("hf-lora" becomes "Hf Lora"). */
  static String titleFromId(Path dir) {
    Path abs = dir.toAbsolutePath().normalize();
    String id = abs.getFileName() == null ? "model" : abs.getFileName().toString();
    List<String> words = new ArrayList<>();
    for (String w : id.strip().replace('-', ' ').split("\\s+")) {
      if (w.isEmpty()) {
        continue;
      }
      boolean lower = !w.equals(w.toUpperCase(Locale.ROOT)) && w.equals(w.toLowerCase(Locale.ROOT));
      if (lower && !w.matches("^(v\\d+(?:\\.\\d+)*|\\d.*)$")) {
        StringBuilder sb = new StringBuilder();
        boolean prevLetter = false;
        for (int i = 0; i < w.length(); i++) {
          char c = w.charAt(i);
          boolean letter = Character.isLetter(c);
          sb.append(letter ? (prevLetter ? Character.toLowerCase(c) : Character.toUpperCase(c)) : c);
          prevLetter = letter;
        }
        words.add(sb.toString());
      } else {
        words.add(w);
      }
    }
    return String.join(" ", words);
  }
}
