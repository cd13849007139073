package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.HfConfig;
import dev.securetag.testing.TinyLlamaFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class LlamaModelTest {
  private static final Path HF = Fixtures.path("tiny-llama/hf");

  private static int[] ids(JsonNode arr) {
    int[] out = new int[arr.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = arr.get(i).asInt();
    }
    return out;
  }

  @Test
  void forwardReproducesFloat64ReferenceAndLlamaCppLogitsOfTinyLlama() {
    JsonNode fx = Fixtures.json("tiny-llama/expected/logits.json");
    JsonNode ref = fx.get("runs").get("model-f32.gguf").get("reference_fp64");
    JsonNode cpp = fx.get("runs").get("model-f32.gguf").get("llama_cpp_f32_kv_no_flash_attn");
    try (LlamaModel m = LlamaModel.load(HF, ModelOptions.fullPrecision())) {
      assertThat(fx.get("prompts")).isNotEmpty();
      for (JsonNode prompt : fx.get("prompts")) {
        String id = prompt.get("id").asText();
        int[] tokens = ids(prompt.get("token_ids"));
        float[][] logits = m.logits(tokens);
        float[] last = logits[tokens.length - 1];
        assertThat(maxAbsDiff(last, run(ref, id).get("logits"))).as(id).isLessThan(1e-4);
        assertThat(maxAbsDiff(last, run(cpp, id).get("logits"))).as(id).isLessThan(1e-4);
        JsonNode want = run(ref, id).get("greedy_tokens");
        int[] greedy = m.generate(tokens, GenerationConfig.builder().maxNewTokens(want.size()).stopAtEos(false).build());
        assertThat(greedy).as(id).containsExactly(ids(want));
      }
    }
  }

  /** The run of a prompt in one setting of logits.json, looked up by the prompt's id. */
  static JsonNode run(JsonNode setting, String promptId) {
    for (JsonNode r : setting) {
      if (r.get("prompt").asText().equals(promptId)) {
        return r;
      }
    }
    throw new IllegalArgumentException("no run for prompt " + promptId);
  }

  @Test
  void tokenizerOfCheckpointGivesLlamaCppTokenIds() {
    JsonNode fx = Fixtures.json("tiny-llama/expected/logits.json");
    try (LlamaModel m = LlamaModel.load(HF, ModelOptions.fullPrecision())) {
      for (JsonNode p : fx.get("prompts")) {
        int[] expected = ids(p.get("token_ids"));
        int[] got = m.encode(p.get("text").asText());
        assertThat(got).containsExactly(java.util.Arrays.copyOfRange(expected, 1, expected.length));
      }
    }
  }

  @org.junit.jupiter.api.io.TempDir Path tmp;

  private static final int[] PROMPT = {1, 40, 300, 301, 77, 12, 399, 5, 9, 200, 3, 88};

  @Test
  void djlForwardMatchesScalarReferenceForLlamaWithAndWithoutKvCache() {
    Path dir = TinyLlamaFactory.builder().hiddenSize(32).layers(2).heads(4).kvHeads(2).intermediateSize(48)
        .vocabSize(400).seed(3).build().writeTo(tmp.resolve("llama"));
    checkAgainstReference(dir);
  }

  @Test
  void djlForwardMatchesScalarReferenceForMixtralTop2RouterWithAndWithoutKvCache() {
    Path dir = TinyLlamaFactory.builder().architecture(HfConfig.Architecture.MIXTRAL).experts(4, 2).hiddenSize(32).layers(2)
        .heads(4).kvHeads(1).intermediateSize(40).vocabSize(400).seed(5).build().writeTo(tmp.resolve("mixtral"));
    checkAgainstReference(dir);
  }

  @Test
  void slidingWindowMasksKeysOutsideTheWindowLikeTheReference() {
    Path dir = TinyLlamaFactory.builder().architecture(HfConfig.Architecture.MISTRAL).slidingWindow(4).hiddenSize(32).layers(2)
        .heads(4).kvHeads(2).intermediateSize(48).vocabSize(400).tieWordEmbeddings(true).seed(9).build()
        .writeTo(tmp.resolve("mistral"));
    checkAgainstReference(dir);
  }

  private static void checkAgainstReference(Path dir) {
    double[][] ref = new ReferenceForward(dir).logits(PROMPT);
    try (LlamaModel m = LlamaModel.load(dir, ModelOptions.fullPrecision())) {
      float[][] full = m.logits(PROMPT);
      assertThat(maxAbsDiff(full, ref)).isLessThan(1e-4);
      try (LlamaModel.Session s = m.newSession()) {
        float[][] chunked = new float[PROMPT.length][];
        float[][] first = s.append(java.util.Arrays.copyOfRange(PROMPT, 0, 5));
        System.arraycopy(first, 0, chunked, 0, 5);
        for (int i = 5; i < PROMPT.length; i++) {
          chunked[i] = s.append(PROMPT[i])[0];
        }
        assertThat(s.length()).isEqualTo(PROMPT.length);
        assertThat(maxAbsDiff(chunked, ref)).isLessThan(1e-4);
      }
    }
  }

  @Test
  void paddedBatchRowsEqualUnpaddedSequences() {
    Path dir = TinyLlamaFactory.builder().hiddenSize(32).layers(1).heads(4).kvHeads(2).intermediateSize(48)
        .vocabSize(400).seed(4).build().writeTo(tmp.resolve("pad"));
    int[] shortSeq = {1, 50, 60, 70};
    try (LlamaModel m = LlamaModel.load(dir, ModelOptions.fullPrecision());
        ai.djl.ndarray.NDScope scope = new ai.djl.ndarray.NDScope()) {
      scope.suppressNotUsedWarning();
      float[] batch = m.decoder().forward(new int[][] {PROMPT, {1, 50, 60, 70, 0, 0, 0, 0, 0, 0, 0, 0}},
          new int[] {PROMPT.length, 4}, null, null).toFloatArray();
      float[][] alone = m.logits(shortSeq);
      int v = m.config().vocabSize();
      for (int t = 0; t < 4; t++) {
        for (int j = 0; j < v; j++) {
          assertThat(batch[(PROMPT.length + t) * v + j]).isCloseTo(alone[t][j], org.assertj.core.data.Offset.offset(1e-5f));
        }
      }
    }
  }

  @Test
  void packedRowRestartsPositionsAndIsolatesDocuments() {
    Path dir = TinyLlamaFactory.builder().architecture(HfConfig.Architecture.MISTRAL).slidingWindow(6).hiddenSize(32).layers(2)
        .heads(4).kvHeads(2).intermediateSize(48).vocabSize(400).seed(6).build().writeTo(tmp.resolve("packed"));
    int[] a = {1, 50, 60, 70, 80, 90, 100, 110};
    int[] b = {1, 7, 8, 9, 10};
    int[] row = new int[a.length + b.length];
    int[] seg = new int[row.length];
    System.arraycopy(a, 0, row, 0, a.length);
    System.arraycopy(b, 0, row, a.length, b.length);
    java.util.Arrays.fill(seg, a.length, row.length, 1);
    try (LlamaModel m = LlamaModel.load(dir, ModelOptions.fullPrecision());
        ai.djl.ndarray.NDScope scope = new ai.djl.ndarray.NDScope()) {
      scope.suppressNotUsedWarning();
      float[] packed = m.decoder().forward(new int[][] {row}, new int[] {row.length}, new int[][] {seg}, null, null).toFloatArray();
      int v = m.config().vocabSize();
      float[][] la = m.logits(a);
      float[][] lb = m.logits(b);
      for (int t = 0; t < row.length; t++) {
        float[] expect = t < a.length ? la[t] : lb[t - a.length];
        for (int j = 0; j < v; j++) {
          assertThat(packed[t * v + j]).isCloseTo(expect[j], org.assertj.core.data.Offset.offset(1e-4f));
        }
      }
    }
  }

  static double maxAbsDiff(float[][] got, double[][] ref) {
    double max = 0;
    for (int i = 0; i < got.length; i++) {
      for (int j = 0; j < got[i].length; j++) {
        max = Math.max(max, Math.abs(got[i][j] - ref[i][j]));
      }
    }
    return max;
  }

  static double maxAbsDiff(float[] got, JsonNode expected) {
    double max = 0;
    for (int i = 0; i < got.length; i++) {
      max = Math.max(max, Math.abs(got[i] - expected.get(i).asDouble()));
    }
    return max;
  }
}
