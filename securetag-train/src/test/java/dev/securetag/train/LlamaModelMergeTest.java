package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.InvalidInputException;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.SafetensorsWriter;
import dev.securetag.testing.TinyLlamaFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * mergeAndSave of an NF4-trained model merges into the checkpoint's original (here BF16) weights by default, so the
 * export is {@code W_original + scale·B·A} without the NF4 rounding error; the NF4 merge stays available on request and
 * is the fallback when the source has no float weights.
 */
class LlamaModelMergeTest {
  @TempDir Path tmp;

  private static final String Q = "model.layers.1.self_attn.q_proj";

  private static LlamaModel trainedLikeModel(Path dir) {
    LlamaModel m = LlamaModel.load(dir, ModelOptions.builder().quantization(Quantization.NF4_DOUBLE_QUANT).build());
    m.addLora(LoraConfig.builder().r(4).alpha(8).targetModules(List.of(LoraConfig.ALL_LINEAR)).build(), 7);
    SplittableRandom rng = new SplittableRandom(8);
    for (String mod : m.loraModules()) {
      float[] b = m.loraB(mod);
      for (int i = 0; i < b.length; i++) {
        b[i] = (float) ((rng.nextDouble() - 0.5) * 0.2);
      }
      m.setLora(mod, m.loraA(mod), b);
    }
    return m;
  }

  /** {@code w + scale · B · A} in double, rounded once. */
  private static float[] expectedMerge(float[] w, float[] a, float[] b, int out, int in, int r, double scale) {
    float[] e = new float[w.length];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        double acc = 0;
        for (int k = 0; k < r; k++) {
          acc += (double) b[o * r + k] * a[k * in + i];
        }
        e[o * in + i] = (float) (w[o * in + i] + scale * acc);
      }
    }
    return e;
  }

  private static double maxAbsDiff(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }

  @Test
  void mergesIntoTheOriginalBf16WeightsByDefaultAndNotIntoTheNf4Ones() {
    Path dir = TinyLlamaFactory.builder().hiddenSize(64).layers(2).heads(4).kvHeads(2).intermediateSize(128)
        .vocabSize(512).dtype(SafetensorsReader.DType.BF16).seed(12).build().writeTo(tmp.resolve("bf16"));
    try (LlamaModel m = trainedLikeModel(dir)) {
      m.mergeAndSave(tmp.resolve("default"));
      m.mergeAndSave(tmp.resolve("held"), SafetensorsReader.DType.F32, 2L << 30, LlamaModel.MergeBase.HELD);
      float[] original;
      try (SafetensorsReader src = SafetensorsReader.open(dir)) {
        original = src.readFloats(Q + ".weight");
      }
      float[] nf4 = m.weights().allLinears().stream().filter(l -> l.name().equals(Q)).findFirst().orElseThrow().baseWeight();
      int in = 64;
      int out = 64;
      float[] wantOriginal = expectedMerge(original, m.loraA(Q), m.loraB(Q), out, in, 4, 2.0);
      float[] wantHeld = expectedMerge(nf4, m.loraA(Q), m.loraB(Q), out, in, 4, 2.0);
      try (SafetensorsReader merged = SafetensorsReader.open(tmp.resolve("default"));
          SafetensorsReader held = SafetensorsReader.open(tmp.resolve("held"))) {
        float[] got = merged.readFloats(Q + ".weight");
        assertThat(maxAbsDiff(got, wantOriginal)).isLessThan(1e-6);
        assertThat(maxAbsDiff(held.readFloats(Q + ".weight"), wantHeld)).isLessThan(1e-6);
        // The NF4 rounding error (blocks of 64, ~0.1 of the block's absmax) is what the default keeps out.
        assertThat(maxAbsDiff(got, held.readFloats(Q + ".weight"))).isGreaterThan(1e-3);
        // Untouched tensors are the original values either way.
        try (SafetensorsReader src = SafetensorsReader.open(dir)) {
          assertThat(merged.readFloats("model.embed_tokens.weight"))
              .containsExactly(src.readFloats("model.embed_tokens.weight"));
        }
      }
    }
  }

  @Test
  void fallsBackToTheHeldWeightsWhenTheSourceHasNoFloatWeightsAndOriginalThenFails() throws IOException {
    Path dir = TinyLlamaFactory.builder().hiddenSize(32).layers(1).heads(4).kvHeads(2).intermediateSize(48)
        .vocabSize(400).seed(13).build().writeTo(tmp.resolve("f32"));
    try (LlamaModel m = trainedLikeModel(dir)) {
      // The source checkpoint loses its weights after loading (as a pre-quantized bnb checkpoint never had float ones).
      Files.delete(dir.resolve("model.safetensors"));
      new SafetensorsWriter().addF32("unrelated", new long[] {1}, new float[] {0f}).write(dir.resolve("model.safetensors"));
      m.mergeAndSave(tmp.resolve("fallback"));
      m.mergeAndSave(tmp.resolve("held"), SafetensorsReader.DType.F32, 2L << 30, LlamaModel.MergeBase.HELD);
      try (SafetensorsReader a = SafetensorsReader.open(tmp.resolve("fallback"));
          SafetensorsReader b = SafetensorsReader.open(tmp.resolve("held"))) {
        assertThat(a.readFloats("model.layers.0.mlp.down_proj.weight"))
            .containsExactly(b.readFloats("model.layers.0.mlp.down_proj.weight"));
      }
      assertThatThrownBy(() -> m.mergeAndSave(tmp.resolve("orig"), SafetensorsReader.DType.F32, 2L << 30,
          LlamaModel.MergeBase.ORIGINAL)).isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("model.layers.0.self_attn.q_proj.weight");
    }
  }
}
