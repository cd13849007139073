package dev.securetag.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.SafetensorsReader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeftMergerTest {
  @TempDir Path tmp;

  @Test
  void mergesAlphaOverRTimesBaIntoTheBaseWeights() {
    Path merged = tmp.resolve("merged");
    PeftMerger.builder().baseModel(TestResources.path("tiny-llama/hf"))
        .adapter(TestResources.path("tiny-llama/hf-lora")).build().write(merged);
    try (SafetensorsReader base = SafetensorsReader.open(TestResources.path("tiny-llama/hf"));
        SafetensorsReader lora = SafetensorsReader.open(TestResources.path("tiny-llama/hf-lora"));
        SafetensorsReader m = SafetensorsReader.open(merged)) {
      assertThat(m.names()).isEqualTo(base.names());
      String w = "model.layers.1.self_attn.q_proj.weight";
      float[] w0 = base.readFloats(w);
      float[] a = lora.readFloats("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight");
      float[] b = lora.readFloats("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight");
      float[] w1 = m.readFloats(w);
      for (int row = 0; row < 64; row++) {
        for (int col = 0; col < 64; col++) {
          double d = 0;
          for (int k = 0; k < 4; k++) {
            d += (double) b[row * 4 + k] * a[k * 64 + col];
          }
          assertThat((double) w1[row * 64 + col]).isCloseTo(w0[row * 64 + col] + 2 * d,
              org.assertj.core.data.Offset.offset(1e-6));
        }
      }
      assertThat(m.readFloats("model.layers.0.mlp.up_proj.weight"))
          .isEqualTo(base.readFloats("model.layers.0.mlp.up_proj.weight"));
    }
    assertThat(merged.resolve("config.json")).exists();
    assertThat(merged.resolve("tokenizer.model")).exists();
  }

  @Test
  void mergingWhileConvertingMatchesLlamaCppsAdapterMath() {
    Path out = tmp.resolve("merged-f32.gguf");
    GgufQuantizer.builder().model(TestResources.path("tiny-llama/hf")).outType(GgufOutType.F32)
        .mergeAdapter(TestResources.path("tiny-llama/hf-lora")).build().write(out);
    Path viaMerger = tmp.resolve("m");
    PeftMerger.builder().baseModel(TestResources.path("tiny-llama/hf"))
        .adapter(TestResources.path("tiny-llama/hf-lora")).build().write(viaMerger);
    Path out2 = tmp.resolve("m-f32.gguf");
    GgufQuantizer.builder().model(viaMerger).outType(GgufOutType.F32).name("Hf").build().write(out2);
    try (GgufReader r = GgufReader.open(out);
        GgufReader r2 = GgufReader.open(out2);
        GgufReader base = GgufReader.open(TestResources.path("tiny-llama/expected/model-f16.gguf"));
        GgufReader ad = GgufReader.open(TestResources.path("tiny-llama/expected/lora-f16.gguf"))) {
      for (GgufTensorInfo t : r.tensors()) {
        assertThat(r.readFloats(t.name())).as(t.name()).isEqualTo(r2.readFloats(t.name()));
      }
      // llama.cpp applies W + (alpha/r) * lora_b * lora_a on the permuted GGUF tensors.
      float[] w = base.readFloats("blk.0.attn_q.weight");
      float[] a = ad.readFloats("blk.0.attn_q.weight.lora_a");
      float[] b = ad.readFloats("blk.0.attn_q.weight.lora_b");
      float[] mine = r.readFloats("blk.0.attn_q.weight");
      for (int row = 0; row < 64; row++) {
        for (int col = 0; col < 64; col++) {
          double d = 0;
          for (int k = 0; k < 4; k++) {
            d += (double) b[row * 4 + k] * a[k * 64 + col];
          }
          double expect = w[row * 64 + col] + 2 * d;
          assertThat((double) mine[row * 64 + col]).isCloseTo(expect,
              org.assertj.core.data.Offset.offset(2e-3 + Math.abs(expect) * 1e-3));
        }
      }
    }
  }

  @Test
  void rejectsMisuse() {
    assertThatThrownBy(() -> PeftMerger.builder().build()).isInstanceOf(IllegalStateException.class);
    Path hf = TestResources.path("tiny-llama/hf");
    assertThatThrownBy(() -> PeftMerger.builder().baseModel(hf).adapter(hf).build().write(hf))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
