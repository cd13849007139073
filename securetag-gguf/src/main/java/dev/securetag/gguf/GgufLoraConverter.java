package dev.securetag.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.ProgressListener;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.gguf.internal.HfModel;
import dev.securetag.gguf.internal.LoraMerge;
import dev.securetag.gguf.internal.RowPipeline;
import dev.securetag.gguf.internal.TensorPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Converts a PEFT LoRA adapter directory to a GGUF LoRA adapter the way llama.cpp's
 * {@code convert_lora_to_gguf.py} does, so Ollama can attach it with {@code ADAPTER} (no merge needed):
 * {@code general.type=adapter}, {@code adapter.lora.alpha}, tensors {@code <base name>.lora_a} ({@code ne=[in,r]})
 * and {@code .lora_b} ({@code ne=[r,out]}) with the rows of lora_b permuted for q/k like the base weights.
 *
 * <pre>{@code
 * GgufLoraConverter.builder()
 *     .adapter(Path.of("lora-out"))        // adapter_config.json + adapter_model.safetensors
 *     .baseModel(Path.of("base-model"))    // its config.json (default: base_model_name_or_path)
 *     .build()
 *     .write(Path.of("adapter.gguf"));
 * }</pre>
 */
public final class GgufLoraConverter {
  private static final Pattern PEFT =
      Pattern.compile(Pattern.quote(LoraMerge.PEFT_PREFIX) + "(.+)\\.lora_([AB])\\.weight");

  private final Path adapter;
  private final Path baseModel;
  private final GgmlType outType;
  private final String name;
  private final ProgressListener listener;

  private GgufLoraConverter(Builder b) {
    this.adapter = b.adapter;
    this.baseModel = b.baseModel;
    this.outType = b.outType;
    this.name = b.name;
    this.listener = b.listener;
  }

  /** A new builder; {@link Builder#adapter} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /** Fluent configuration of a {@link GgufLoraConverter}. */
  public static final class Builder {
    private Path adapter;
    private Path baseModel;
    private GgmlType outType = GgmlType.F16;
    private String name;
    private ProgressListener listener = ProgressListener.NONE;

    private Builder() {}

    /** The PEFT adapter directory. */
    public Builder adapter(Path dir) {
      this.adapter = dir;
      return this;
    }

    /** The base model directory (for head counts); default: {@code base_model_name_or_path} of the adapter. */
    public Builder baseModel(Path dir) {
      this.baseModel = dir;
      return this;
    }

    /** Tensor type: F32, F16 (default), BF16 or Q8_0 (Q8_0 falls back to F16 for rows not a multiple of 32). */
    public Builder outType(GgmlType type) {
      this.outType = type;
      return this;
    }

    /** {@code general.name}; default derived from the adapter directory name. */
    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /** Progress receiver. */
    public Builder listener(ProgressListener listener) {
      this.listener = listener == null ? ProgressListener.NONE : listener;
      return this;
    }

    /**
     * Checks the settings and builds the converter.
     *
     * @throws IllegalArgumentException for an output type adapters cannot have
     * @throws IllegalStateException when the adapter directory is missing
     */
    public GgufLoraConverter build() {
      if (outType != GgmlType.F32 && outType != GgmlType.F16 && outType != GgmlType.BF16 && outType != GgmlType.Q8_0) {
        throw new IllegalArgumentException("GgufLoraConverter.outType must be F32, F16, BF16 or Q8_0, got " + outType);
      }
      if (adapter == null) {
        throw new IllegalStateException("GgufLoraConverter.adapter(dir) is required");
      }
      return new GgufLoraConverter(this);
    }
  }

  private Path resolveBase(JsonNode cfg) {
    if (baseModel != null) {
      return baseModel;
    }
    String p = cfg.path("base_model_name_or_path").asText("");
    Path candidate = p.isEmpty() ? null : adapter.resolve(p).normalize();
    if (candidate == null || !Files.isDirectory(candidate)) {
      throw new InvalidInputException(adapter.resolve("adapter_config.json") + ": base_model_name_or_path",
          "'" + p + "' is not a local directory; pass baseModel(dir)");
    }
    return candidate;
  }

  /** Converts and writes {@code out} atomically. */
  public GgufQuantizer.Result write(Path out) {
    JsonNode cfg = LoraMerge.config(adapter);
    if (!cfg.path("lora_alpha").isNumber()) {
      throw new InvalidInputException(adapter.resolve("adapter_config.json") + ": lora_alpha", "missing");
    }
    HfModel base = HfModel.read(resolveBase(cfg));
    Path file = adapter.resolve("adapter_model.safetensors");
    if (!Files.exists(file)) {
      throw new InvalidInputException(adapter.toString(), "no adapter_model.safetensors");
    }
    try (SafetensorsReader st = SafetensorsReader.open(file); RowPipeline pipeline = new RowPipeline(1)) {
      List<TensorPlan> plan = new ArrayList<>();
      List<String> names = new ArrayList<>(st.names());
      names.sort(null);
      for (String n : names) {
        Matcher m = PEFT.matcher(n);
        if (!m.matches()) {
          throw new UnsupportedFormatException(file + ": " + n,
              "only lora_A/lora_B weights of linear layers are supported");
        }
        String hf = m.group(1) + ".weight";
        String g = HfModel.ggufName(hf, file.toString());
        if (g == null) {
          continue;
        }
        long[] shape = st.tensor(n).orElseThrow().shape();
        if (shape.length != 2) {
          throw new InvalidInputException(file + ": " + n, "expected a 2-D tensor");
        }
        boolean isB = m.group(2).equals("B");
        int heads = isB ? base.permuteHeadsFor(hf) : 0;
        plan.add(new TensorPlan(g + (isB ? ".lora_b" : ".lora_a"), new long[] {shape[1], shape[0]},
            List.of(n), heads, false, null));
      }
      GgufWriter w = GgufWriter.create()
          .put("general.architecture", GgufValue.string("llama"))
          .put("general.type", GgufValue.string("adapter"))
          .put("adapter.type", GgufValue.string("lora"))
          .put("general.name", GgufValue.string(name != null ? name : GgufQuantizer.titleFromId(adapter)))
          .put("adapter.lora.alpha", GgufValue.float32((float) cfg.get("lora_alpha").asDouble()))
          .put("general.quantization_version", GgufValue.uint32(2));
      long total = plan.stream().mapToLong(TensorPlan::numel).sum();
      long[] done = {0};
      for (TensorPlan t : plan) {
        GgmlType type = t.ne()[0] % outType.blockSize() == 0 ? outType : GgmlType.F16;
        w.tensor(t.name(), type, t.ne(), os -> {
          pipeline.write(st, t, type, GgmlType.F32, null, os, rows -> { });
          done[0] += t.numel();
          listener.onProgress(new ProgressListener.Progress("convert-lora", done[0], total, "weights", t.name()));
        });
      }
      try {
        w.write(out);
      } finally {
        listener.onPhaseEnd("convert-lora");
      }
      return new GgufQuantizer.Result(out, w.tensorInfos(), w.metadata(), 0);
    }
  }
}
