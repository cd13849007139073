package dev.securetag.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.internal.Json;
import dev.securetag.testfixtures.SharedFixtures;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeftMergerTest {
  @TempDir Path tmp;

  /** alpha / r (or alpha / sqrt(r) for rsLoRA) from the fixture adapter's PEFT config. */
  private static double peftScale() {
    JsonNode cfg = Json.readTree(SharedFixtures.readString("tiny-llama/hf-lora/adapter_config.json"),
        "adapter_config.json");
    double r = cfg.get("r").asDouble();
    return cfg.get("lora_alpha").asDouble() / (cfg.path("use_rslora").asBoolean() ? Math.sqrt(r) : r);
  }

  @Test
  void mergesAlphaOverRTimesBaIntoTheBaseWeights() {
    Path merged = tmp.resolve("merged");
    PeftMerger.builder().baseModel(TestResources.path("tiny-llama/hf"))
        .adapter(TestResources.path("tiny-llama/hf-lora")).build().write(merged);
    double scale = peftScale();
    try (SafetensorsReader base = SafetensorsReader.open(TestResources.path("tiny-llama/hf"));
        SafetensorsReader lora = SafetensorsReader.open(TestResources.path("tiny-llama/hf-lora"));
        SafetensorsReader m = SafetensorsReader.open(merged)) {
      assertThat(m.names()).isEqualTo(base.names());
      Set<String> adapted = new TreeSet<>();
      for (String aName : lora.names()) {
        if (!aName.endsWith(".lora_A.weight")) {
          continue;
        }
        String w = aName.replace("base_model.model.", "").replace(".lora_A.weight", ".weight");
        long[] aShape = lora.tensor(aName).orElseThrow().shape();
        long[] wShape = base.tensor(w).orElseThrow().shape();
        int rank = (int) aShape[0];
        int in = (int) wShape[1];
        int out = (int) wShape[0];
        float[] w0 = base.readFloats(w);
        float[] a = lora.readFloats(aName);
        float[] b = lora.readFloats(aName.replace(".lora_A.", ".lora_B."));
        float[] w1 = m.readFloats(w);
        for (int row = 0; row < out; row++) {
          for (int col = 0; col < in; col++) {
            double d = 0;
            for (int k = 0; k < rank; k++) {
              d += (double) b[row * rank + k] * a[k * in + col];
            }
            double expect = w0[row * in + col] + scale * d;
            assertThat((double) w1[row * in + col]).as("%s[%d,%d]", w, row, col)
                .isCloseTo(expect, Offset.offset(1e-6 + Math.abs(expect) * 1e-6));
          }
        }
        adapted.add(w);
      }
      assertThat(adapted).isNotEmpty();
      for (String name : base.names()) {
        if (!adapted.contains(name)) {
          assertThat(m.readFloats(name)).as(name).isEqualTo(base.readFloats(name));
        }
      }
    }
    assertThat(merged.resolve("config.json")).exists();
    assertThat(merged.resolve("tokenizer.model")).exists();
  }

  @Test
  void mergingWhileConvertingMatchesLlamaCppsAdapterMath() {
    Path out = tmp.resolve("merged-f32.gguf");
    GgufQuantizer.builder().baseModel(TestResources.path("tiny-llama/hf")).outType(GgufOutType.F32)
        .adapter(TestResources.path("tiny-llama/hf-lora")).build().write(out);
    Path viaMerger = tmp.resolve("m");
    PeftMerger.builder().baseModel(TestResources.path("tiny-llama/hf"))
        .adapter(TestResources.path("tiny-llama/hf-lora")).build().write(viaMerger);
    Path out2 = tmp.resolve("m-f32.gguf");
    GgufQuantizer.builder().baseModel(viaMerger).outType(GgufOutType.F32).name("Hf").build().write(out2);
    try (GgufReader r = GgufReader.open(out);
        GgufReader r2 = GgufReader.open(out2);
        GgufReader base = GgufReader.open(TestResources.path("tiny-llama/expected/model-f16.gguf"));
        GgufReader ad = GgufReader.open(TestResources.path("tiny-llama/expected/lora-f16.gguf"))) {
      for (GgufTensorInfo t : r.tensors()) {
        assertThat(r.readFloats(t.name())).as(t.name()).isEqualTo(r2.readFloats(t.name()));
      }
      // llama.cpp applies W + (alpha/r) * lora_b * lora_a on the permuted GGUF tensors, for every adapted weight.
      float alpha = ad.get("adapter.lora.alpha").orElseThrow().asFloat();
      int checked = 0;
      for (GgufTensorInfo ta : ad.tensors()) {
        if (!ta.name().endsWith(".lora_a")) {
          continue;
        }
        String wName = ta.name().substring(0, ta.name().length() - ".lora_a".length());
        GgufTensorInfo tw = base.tensor(wName).orElseThrow();
        int in = (int) tw.ne()[0];
        int rows = (int) tw.ne()[1];
        int rank = (int) ta.ne()[1];
        double scale = alpha / rank;
        float[] w = base.readFloats(wName);
        float[] a = ad.readFloats(ta.name());
        float[] b = ad.readFloats(wName + ".lora_b");
        float[] mine = r.readFloats(wName);
        for (int row = 0; row < rows; row++) {
          for (int col = 0; col < in; col++) {
            double d = 0;
            for (int k = 0; k < rank; k++) {
              d += (double) b[row * rank + k] * a[k * in + col];
            }
            double expect = w[row * in + col] + scale * d;
            assertThat((double) mine[row * in + col]).as("%s[%d,%d]", wName, row, col).isCloseTo(expect,
                Offset.offset(2e-3 + Math.abs(expect) * 1e-3));
          }
        }
        checked++;
      }
      assertThat(checked).isPositive();
    }
  }

  @Test
  void rejectsMisuse() {
    assertThatThrownBy(() -> PeftMerger.builder().build()).isInstanceOf(IllegalStateException.class);
    // A writable copy: should the check ever fail, the merger must not write over the shared fixtures.
    Path hf = TestResources.copyDir("tiny-llama/hf", tmp.resolve("hf"));
    assertThatThrownBy(() -> PeftMerger.builder().baseModel(hf).adapter(hf).build().write(hf))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
