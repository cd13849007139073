package dev.securetag.train.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.SafetensorsWriter;
import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.core.internal.AtomicFiles;
import dev.securetag.core.internal.Json;
import dev.securetag.train.LoraConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * LoRA adapters of a loaded decoder in PEFT's layout: fresh PEFT-initialised adapters, reading and writing an adapter
 * directory ({@code adapter_config.json} + {@code adapter_model.safetensors} with keys
 * {@code base_model.model.<module>.lora_A.weight} [r, in] and {@code .lora_B.weight} [out, r]), and access to the
 * matrices of one module.
 */
public final class PeftAdapters {
  private final DecoderWeights weights;

  public PeftAdapters(DecoderWeights weights) {
    this.weights = weights;
  }

  /** Adds fresh PEFT-initialised adapters (A Kaiming-uniform, B zero) to every module {@code cfg} targets. */
  public void add(LoraConfig cfg, long seed) {
    if (weights.lora().isPresent()) {
      throw new IllegalStateException("model already has LoRA adapters");
    }
    SplittableRandom rng = new SplittableRandom(seed);
    int count = 0;
    for (Linear lin : weights.allLinears()) {
      if (!cfg.targets(lin.name())) {
        continue;
      }
      float bound = (float) (1.0 / Math.sqrt(lin.in()));
      float[] a = new float[cfg.r() * lin.in()];
      for (int i = 0; i < a.length; i++) {
        a[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
      }
      attach(lin, cfg, a, new float[lin.out() * cfg.r()]);
      count++;
    }
    if (count == 0) {
      throw new IllegalArgumentException("LoRA target_modules " + cfg.targetModules() + " match no module of this "
          + weights.config().architecture() + " model");
    }
    weights.lora(cfg);
  }

  private void attach(Linear lin, LoraConfig cfg, float[] a, float[] b) {
    NDArray na = param(a, new Shape(cfg.r(), lin.in()));
    NDArray nb = param(b, new Shape(lin.out(), cfg.r()));
    lin.attachLora(na, nb, cfg.scaling(), cfg.dropout());
  }

  private NDArray param(float[] data, Shape shape) {
    NDArray a = Tensors.of(weights.manager(), data, shape, weights.dtype());
    a.setRequiresGradient(true);
    return a;
  }

  /** Module paths that carry adapters, in model order. */
  public List<String> modules() {
    List<String> out = new ArrayList<>();
    for (Linear l : weights.allLinears()) {
      if (l.hasLora()) {
        out.add(l.name());
      }
    }
    return out;
  }

  /** Number of trainable adapter parameters. */
  public long parameterCount() {
    long n = 0;
    for (Linear l : weights.allLinears()) {
      if (l.hasLora()) {
        n += l.loraA().size() + l.loraB().size();
      }
    }
    return n;
  }

  /** A copy of the adapter A matrix ({@code [r, in]}, row-major) of {@code module}. */
  public float[] a(String module) {
    return adapterOf(module).loraA().toType(DataType.FLOAT32, false).toFloatArray();
  }

  /** A copy of the adapter B matrix ({@code [out, r]}, row-major) of {@code module}. */
  public float[] b(String module) {
    return adapterOf(module).loraB().toType(DataType.FLOAT32, false).toFloatArray();
  }

  /** Overwrites the adapter matrices of {@code module}. */
  public void set(String module, float[] a, float[] b) {
    Linear l = adapterOf(module);
    if (a.length != l.loraA().size() || b.length != l.loraB().size()) {
      throw new IllegalArgumentException("adapter of " + module + " needs A " + l.loraA().getShape() + " and B "
          + l.loraB().getShape());
    }
    l.loraA().set(toDtype(a));
    l.loraB().set(toDtype(b));
  }

  private java.nio.Buffer toDtype(float[] a) {
    if (weights.dtype() == DataType.FLOAT32) {
      return java.nio.FloatBuffer.wrap(a);
    }
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return java.nio.DoubleBuffer.wrap(d);
  }

  private Linear adapterOf(String module) {
    for (Linear l : weights.allLinears()) {
      if (l.name().equals(module) && l.hasLora()) {
        return l;
      }
    }
    throw new IllegalArgumentException("no LoRA adapter on module " + module);
  }

  /** Writes a PEFT adapter directory, F32 tensors. */
  public void save(Path dir) {
    LoraConfig lora = weights.lora().orElseThrow(() -> new IllegalStateException("model has no LoRA adapters to save"));
    SafetensorsWriter w = new SafetensorsWriter();
    List<String> modules = new ArrayList<>();
    for (Linear l : weights.allLinears()) {
      if (l.hasLora()) {
        String k = "base_model.model." + l.name();
        w.addF32(k + ".lora_A.weight", new long[] {lora.r(), l.in()}, a(l.name()));
        w.addF32(k + ".lora_B.weight", new long[] {l.out(), lora.r()}, b(l.name()));
        String leaf = l.name().substring(l.name().lastIndexOf('.') + 1);
        if (!modules.contains(leaf)) {
          modules.add(leaf);
        }
      }
    }
    w.write(dir.resolve("adapter_model.safetensors"));
    ObjectNode c = Json.object();
    c.put("peft_type", "LORA");
    c.put("task_type", "CAUSAL_LM");
    c.put("base_model_name_or_path", weights.source().toAbsolutePath().toString());
    c.putNull("revision");
    c.put("inference_mode", true);
    c.put("r", lora.r());
    c.put("lora_alpha", lora.alpha());
    c.put("lora_dropout", lora.dropout());
    var tm = c.putArray("target_modules");
    modules.forEach(tm::add);
    c.put("fan_in_fan_out", false);
    c.put("bias", "none");
    c.put("use_rslora", lora.useRslora());
    c.put("use_dora", false);
    c.putNull("modules_to_save");
    c.put("init_lora_weights", true);
    AtomicFiles.writeString(dir.resolve("adapter_config.json"), Json.write(c));
  }

  /**
   * Attaches the PEFT adapter in {@code dir} (the model must not have adapters yet).
   *
   * @throws InvalidInputException when the adapter does not fit this base model (unknown module, wrong shape)
   */
  public void load(Path dir) {
    if (weights.lora().isPresent()) {
      throw new IllegalStateException("model already has LoRA adapters");
    }
    Path cfgFile = dir.resolve("adapter_config.json");
    JsonNode c;
    try {
      c = Json.readTree(Files.readString(cfgFile, StandardCharsets.UTF_8), cfgFile.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + cfgFile, e);
    }
    if (!"LORA".equals(c.path("peft_type").asText("LORA"))) {
      throw new UnsupportedFormatException(cfgFile + ": peft_type", "only LORA adapters are supported");
    }
    if (c.path("use_dora").asBoolean(false)) {
      throw new UnsupportedFormatException(cfgFile + ": use_dora", "DoRA adapters are not supported");
    }
    if (!c.has("r")) {
      throw new InvalidInputException(cfgFile + ": r", "missing required field r");
    }
    LoraConfig.Builder b = LoraConfig.builder().r(c.get("r").asInt()).alpha(c.path("lora_alpha").asDouble(8))
        .dropout(c.path("lora_dropout").asDouble(0)).useRslora(c.path("use_rslora").asBoolean(false));
    JsonNode tm = c.get("target_modules");
    List<String> targets = new ArrayList<>();
    if (tm != null && tm.isArray()) {
      tm.forEach(t -> targets.add(t.asText()));
    } else if (tm != null && tm.isTextual()) {
      targets.add(tm.asText());
    }
    if (!targets.isEmpty()) {
      b.targetModules(targets);
    }
    LoraConfig cfg = b.build();
    try (SafetensorsReader st = SafetensorsReader.open(dir.resolve("adapter_model.safetensors"))) {
      Map<String, Linear> byName = new LinkedHashMap<>();
      for (Linear l : weights.allLinears()) {
        byName.put(l.name(), l);
      }
      Map<String, float[][]> found = new TreeMap<>();
      for (String key : st.names()) {
        String mod = key.replaceFirst("^base_model\\.model\\.", "");
        int which;
        if (mod.endsWith(".lora_A.weight")) {
          which = 0;
          mod = mod.substring(0, mod.length() - ".lora_A.weight".length());
        } else if (mod.endsWith(".lora_B.weight")) {
          which = 1;
          mod = mod.substring(0, mod.length() - ".lora_B.weight".length());
        } else {
          throw new UnsupportedFormatException(dir + ": " + key, "unexpected adapter tensor " + key);
        }
        Linear l = byName.get(mod);
        if (l == null) {
          throw new InvalidInputException(dir + ": " + key, "adapter module " + mod + " does not exist in the base model");
        }
        long[] shape = st.tensor(key).orElseThrow().shape();
        long[] expect = which == 0 ? new long[] {cfg.r(), l.in()} : new long[] {l.out(), cfg.r()};
        if (!Arrays.equals(shape, expect)) {
          throw new InvalidInputException(dir + ": " + key, "adapter tensor " + key + " has shape "
              + Arrays.toString(shape) + ", base model needs " + Arrays.toString(expect));
        }
        found.computeIfAbsent(mod, k -> new float[2][])[which] = st.readFloats(key);
      }
      for (Map.Entry<String, float[][]> e : found.entrySet()) {
        if (e.getValue()[0] == null || e.getValue()[1] == null) {
          throw new InvalidInputException(dir + ": " + e.getKey(), "adapter for " + e.getKey() + " lacks lora_A or lora_B");
        }
        attach(byName.get(e.getKey()), cfg, e.getValue()[0], e.getValue()[1]);
      }
      if (found.isEmpty()) {
        throw new InvalidInputException(dir.toString(), "adapter_model.safetensors holds no LoRA tensors");
      }
    }
    weights.lora(cfg);
  }
}
