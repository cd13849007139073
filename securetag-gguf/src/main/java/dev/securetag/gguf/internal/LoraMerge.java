package dev.securetag.gguf.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.core.internal.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A PEFT LoRA adapter loaded for merging: for each adapted weight W (out x in) it yields W + s * B * A row by row,
 * with s = lora_alpha / r (or lora_alpha / sqrt(r) for rsLoRA). A and B are small and held in memory; the base
 * weights are never materialized.
 */
public final class LoraMerge implements AutoCloseable {
  /** Prefix PEFT puts in front of the base model's tensor names. */
  public static final String PEFT_PREFIX = "base_model.model.";

  private final SafetensorsReader st;
  private final float scale;
  private final int rank;
  private final Path dir;
  private final Map<String, float[][]> cache = new HashMap<>();

  private LoraMerge(Path dir, SafetensorsReader st, float scale, int rank) {
    this.dir = dir;
    this.st = st;
    this.scale = scale;
    this.rank = rank;
  }

  /** Opens a PEFT directory ({@code adapter_config.json} + {@code adapter_model.safetensors}). */
  public static LoraMerge open(Path dir, HfModel base) {
    JsonNode cfg = config(dir);
    int r = cfg.path("r").asInt(-1);
    double alpha = cfg.path("lora_alpha").asDouble(Double.NaN);
    if (r <= 0 || Double.isNaN(alpha)) {
      throw new InvalidInputException(dir.resolve("adapter_config.json") + ": r/lora_alpha", "missing or invalid");
    }
    if (cfg.path("use_dora").asBoolean(false)) {
      throw new UnsupportedFormatException(dir.resolve("adapter_config.json") + ": use_dora", "DoRA is not supported");
    }
    if (cfg.path("fan_in_fan_out").asBoolean(false)) {
      throw new UnsupportedFormatException(dir.resolve("adapter_config.json") + ": fan_in_fan_out",
          "transposed (Conv1D) LoRA weights are not supported");
    }
    double s = cfg.path("use_rslora").asBoolean(false) ? alpha / Math.sqrt(r) : alpha / r;
    Path file = dir.resolve("adapter_model.safetensors");
    if (!Files.exists(file)) {
      throw new InvalidInputException(dir.toString(),
          "no adapter_model.safetensors (adapter_model.bin is not supported)");
    }
    return new LoraMerge(dir, SafetensorsReader.open(file), (float) s, r);
  }

  /** Reads {@code adapter_config.json}. */
  public static JsonNode config(Path dir) {
    Path f = dir.resolve("adapter_config.json");
    try {
      return Json.readTree(Files.readString(f), f.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
    }
  }

  /** The merge scale alpha / r. */
  public float scale() {
    return scale;
  }

  /** A and B of an adapted checkpoint weight, or null when the adapter does not touch it. */
  public float[][] factors(String hfWeight) {
    if (!hfWeight.endsWith(".weight")) {
      return null;
    }
    return cache.computeIfAbsent(hfWeight, k -> {
      String stem = PEFT_PREFIX + hfWeight.substring(0, hfWeight.length() - ".weight".length());
      String a = stem + ".lora_A.weight";
      String b = stem + ".lora_B.weight";
      if (st.tensor(a).isEmpty() && st.tensor(b).isEmpty()) {
        return null;
      }
      if (st.tensor(a).isEmpty() || st.tensor(b).isEmpty()) {
        throw new InvalidInputException(dir + ": " + stem, "lora_A and lora_B must both be present");
      }
      long[] sa = st.tensor(a).get().shape();
      long[] sb = st.tensor(b).get().shape();
      if (sa.length != 2 || sb.length != 2 || sa[0] != sb[1]) {
        throw new InvalidInputException(dir + ": " + stem, "lora_A/lora_B shapes do not match");
      }
      return new float[][] {st.readFloats(a), st.readFloats(b), {sa[0], sa[1], sb[0]}};
    });
  }

  /** The per-row update for a planned tensor, or null. */
  public RowPipeline.RowDelta deltaFor(TensorPlan t) {
    if (t.parts().size() != 1) {
      return null;
    }
    float[][] f = factors(t.parts().get(0));
    if (f == null) {
      return null;
    }
    float[] a = f[0];
    float[] b = f[1];
    int r = (int) f[2][0];
    int in = (int) f[2][1];
    long out = (long) f[2][2];
    if (in != t.rowLen() || out != t.rows()) {
      throw new InvalidInputException(dir + ": " + t.parts().get(0), "adapter shape (" + out + ", " + in
          + ") does not match the base weight (" + t.rows() + ", " + t.rowLen() + ")");
    }
    return (row, dst) -> addRow(a, b, r, in, row, scale, dst);
  }

  /** dst[c] += scale * sum_k B[row, k] * A[k, c]. */
  public static void addRow(float[] a, float[] b, int r, int in, long row, float scale, float[] dst) {
    for (int k = 0; k < r; k++) {
      float bk = b[(int) (row * r + k)] * scale;
      int ao = k * in;
      for (int c = 0; c < in; c++) {
        dst[c] += bk * a[ao + c];
      }
    }
  }

  /** Adapter rank. */
  public int rank() {
    return rank;
  }

  @Override
  public void close() {
    st.close();
  }
}
