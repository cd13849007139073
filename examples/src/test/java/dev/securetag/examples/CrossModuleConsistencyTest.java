package dev.securetag.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.gguf.runtime.GgufModel;
import dev.securetag.gguf.GgufOutType;
import dev.securetag.gguf.GgufQuantizer;
import dev.securetag.gguf.runtime.GgufSession;
import dev.securetag.core.HfConfig.Architecture;
import dev.securetag.train.LlamaModel;
import dev.securetag.train.LoraConfig;
import dev.securetag.train.ModelOptions;
import dev.securetag.testing.TinyLlamaFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks the modules against each other on the embedded tiny model: the tokenizer the trainer uses (DJL over
 * tokenizer.json) and the one the GGUF runtime rebuilds from tokenizer.model give the same ids, and the DJL forward of a
 * checkpoint equals the GGUF runtime's forward of its F16 conversion within F16's rounding error, for the base model
 * and for a checkpoint with a LoRA adapter merged in. Together this checks the factory, the converter, the F16
 * quantizer, the merge and both forward implementations.
 */
class CrossModuleConsistencyTest {
  @TempDir static Path dir;
  static Path base;

  static final List<String> TEXTS = List.of(
      "### Instruction:\nWhat does control A.5.1 require?\n\n### Response:\n",
      "Access rights shall be reviewed at planned intervals.",
      "El requisito 8.3.1 exige autenticación multifactor para todo acceso administrativo.",
      "  leading spaces, tabs\tand\nnewlines; symbols #!€ and digits 2024-11-30",
      "AC-2 ACCOUNT MANAGEMENT: The organization manages system accounts.");

  @BeforeAll
  static void writeTinyModel() {
    base = TinyLlamaFactory.builder().seed(11).build().writeTo(dir.resolve("base"));
  }

  @Test
  void runtimeTokenizerMatchesTrainingTokenizer() throws Exception {
    Path gguf = GgufQuantizer.builder().baseModel(base).outType(GgufOutType.F16).build().write(dir.resolve("tok-f16.gguf")).file();
    try (LlamaModel djl = LlamaModel.load(base, ModelOptions.fullPrecision()); GgufModel rt = GgufModel.load(gguf)) {
      for (String text : TEXTS) {
        // LlamaModel.encode leaves BOS to the caller; the runtime's two-argument form does the same.
        assertThat(rt.tokenize(text, false, false)).as(text).containsExactly(djl.encode(text));
      }
    }
  }

  @Test
  void ggufF16LogitsEqualDjlForwardOfBaseModel() throws Exception {
    Path gguf = GgufQuantizer.builder().baseModel(base).outType(GgufOutType.F16).build().write(dir.resolve("base-f16.gguf")).file();
    try (LlamaModel djl = LlamaModel.load(base, ModelOptions.fullPrecision()); GgufModel rt = GgufModel.load(gguf)) {
      assertLogitsClose(djl, rt, TEXTS.get(0));
    }
  }

  @Test
  void ggufF16LogitsEqualDjlForwardOfMergedAdapter() throws Exception {
    Path merged = dir.resolve("merged");
    try (LlamaModel djl = LlamaModel.load(base, ModelOptions.fullPrecision())) {
      djl.addLora(LoraConfig.builder().r(4).alpha(8).build(), 3);
      // PEFT initialises B to zero; give every adapter weights so the merge changes the model.
      SplittableRandom rng = new SplittableRandom(5);
      for (String module : djl.loraModules()) {
        float[] a = djl.loraA(module);
        float[] b = djl.loraB(module);
        for (int i = 0; i < b.length; i++) {
          b[i] = (float) (rng.nextGaussian() * 0.05);
        }
        djl.setLora(module, a, b);
      }
      djl.mergeAndSave(merged, dev.securetag.core.SafetensorsReader.DType.F32, Long.MAX_VALUE);
      int[] ids = djl.encode(TEXTS.get(1));
      float[] adapted = djl.logits(ids)[ids.length - 1];
      Path gguf = GgufQuantizer.builder().baseModel(merged).outType(GgufOutType.F16).build().write(dir.resolve("merged-f16.gguf")).file();
      try (GgufModel rt = GgufModel.load(gguf)) {
        GgufSession s = rt.newSession();
        float[] got = s.eval(ids);
        assertThat(relativeError(adapted, got)).isLessThan(1e-3);
      }
    }
  }

  /**
   * Mixtral in the GGUF runtime (issue: every model the converter writes also runs locally): a tiny Mixtral from the
   * factory (4 experts, top-2, random router), converted to F32 and F16, against the trainer's DJL forward, whose MoE
   * block (softmax router, top-k renormalised, every expert evaluated and masked) shares no code with the runtime's
   * (stacked llama.cpp expert tensors, only the chosen experts evaluated). F32 agrees to float rounding (observed
   * about 1e-6 of the largest logit); F16 within its rounding error, the dense model's 1e-3. Every prompt position is
   * compared token by token, so each routing decision of the prompt is exercised, and the batched prompt path too.
   */
  @Test
  void ggufMixtralLogitsEqualDjlForward() throws Exception {
    Path mixtral = TinyLlamaFactory.builder().architecture(Architecture.MIXTRAL).experts(4, 2).intermediateSize(128)
        .seed(23).build().writeTo(dir.resolve("mixtral"));
    Path f32 = GgufQuantizer.builder().baseModel(mixtral).outType(GgufOutType.F32).build().write(dir.resolve("mixtral-f32.gguf")).file();
    Path f16 = GgufQuantizer.builder().baseModel(mixtral).outType(GgufOutType.F16).build().write(dir.resolve("mixtral-f16.gguf")).file();
    try (LlamaModel djl = LlamaModel.load(mixtral, ModelOptions.fullPrecision());
        GgufModel rt32 = GgufModel.load(f32);
        GgufModel rt16 = GgufModel.load(f16)) {
      assertThat(rt32.metadata().get("llama.expert_count").asLong()).isEqualTo(4);
      for (String text : TEXTS.subList(0, 3)) {
        int[] ids = djl.encode(text);
        float[][] ref = djl.logits(ids);
        try (GgufSession one = rt32.newSession(); GgufSession batch = rt32.newSession(); GgufSession h = rt16.newSession()) {
          for (int i = 0; i < ids.length; i++) {
            assertThat(relativeError(ref[i], one.eval(ids[i]))).as("F32 position " + i + " of " + text).isLessThan(1e-5);
          }
          assertThat(relativeError(ref[ids.length - 1], batch.eval(ids))).as("F32 batched " + text).isLessThan(1e-5);
          assertThat(relativeError(ref[ids.length - 1], h.eval(ids))).as("F16 " + text).isLessThan(1e-3);
        }
      }
    }
  }

  private static void assertLogitsClose(LlamaModel djl, GgufModel rt, String text) {
    int[] ids = djl.encode(text);
    float[][] ref = djl.logits(ids);
    GgufSession s = rt.newSession();
    float[] got = s.eval(ids);
    assertThat(relativeError(ref[ids.length - 1], got)).isLessThan(1e-3);
  }

  /** max |a - b| / max |a|: F16 weights give about 1e-4..1e-3 of the logit scale. */
  static double relativeError(float[] ref, float[] got) {
    assertThat(got).hasSameSizeAs(ref);
    double maxDiff = 0;
    double maxRef = 0;
    for (int i = 0; i < ref.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(ref[i] - got[i]));
      maxRef = Math.max(maxRef, Math.abs(ref[i]));
    }
    return maxDiff / maxRef;
  }
}
