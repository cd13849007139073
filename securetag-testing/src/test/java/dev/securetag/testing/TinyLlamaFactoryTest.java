package dev.securetag.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.securetag.core.HfConfig;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.internal.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checkpoint files on their own (what any module's tests rely on); loading them into a model is checked where the
 * model lives (securetag-train's LlamaModelLoadTest, securetag-gguf's converter tests, examples' cross-module test).
 */
class TinyLlamaFactoryTest {
  @TempDir Path tmp;

  @Test
  void writesTheHuggingFaceLayoutDeterministicallyForASeed() throws Exception {
    TinyLlamaFactory f = TinyLlamaFactory.builder().seed(1).build();
    Path dir = f.writeTo(tmp.resolve("tiny"));
    for (String file : new String[] {"config.json", "model.safetensors", "generation_config.json", "tokenizer.json",
        "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"}) {
      assertThat(dir.resolve(file)).isNotEmptyFile();
    }
    HfConfig c = HfConfig.load(dir);
    assertThat(c).isEqualTo(f.config());
    assertThat(c.hiddenSize()).isEqualTo(64);
    assertThat(c.numHiddenLayers()).isEqualTo(2);
    assertThat(c.vocabSize()).isEqualTo(512);
    try (SafetensorsReader st = SafetensorsReader.open(dir)) {
      assertThat(st.metadata()).containsEntry("format", "pt");
      assertThat(st.names()).contains("model.embed_tokens.weight", "model.layers.1.mlp.down_proj.weight",
          "lm_head.weight", "model.norm.weight");
      assertThat(st.tensors().stream().mapToLong(SafetensorsReader.TensorInfo::numel).sum())
          .isEqualTo(c.parameterCount());
      float[] norm = st.readFloats("model.norm.weight");
      assertThat(norm).containsOnly(1f);
    }
    Path again = TinyLlamaFactory.builder().seed(1).build().writeTo(tmp.resolve("again"));
    assertThat(Files.readAllBytes(again.resolve("model.safetensors")))
        .isEqualTo(Files.readAllBytes(dir.resolve("model.safetensors")));
    Path other = TinyLlamaFactory.builder().seed(2).build().writeTo(tmp.resolve("other"));
    assertThat(Files.readAllBytes(other.resolve("model.safetensors")))
        .isNotEqualTo(Files.readAllBytes(dir.resolve("model.safetensors")));
  }

  @Test
  void tokenizerRoundTripsTextThroughHuggingFaceTokenizers() throws Exception {
    Path dir = TinyLlamaFactory.builder().build().writeTo(tmp.resolve("tiny"));
    try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.builder().optTokenizerPath(dir.resolve("tokenizer.json"))
        .optAddSpecialTokens(false).build()) {
      String text = "### Instruction:\nWhat is an ISMS?\n\n### Response:\n";
      Encoding e = tok.encode(text, false, false);
      assertThat(e.getIds().length).isLessThan(text.length());
      assertThat(Arrays.stream(e.getIds()).allMatch(id -> id >= 0 && id < 512)).isTrue();
      assertThat(tok.decode(e.getIds(), true)).isEqualTo(text);
      assertThat(tok.decode(tok.encode("café ∑ 日本", false, false).getIds(), true)).isEqualTo("café ∑ 日本");
    }
    var special = Json.readTree(Files.readString(dir.resolve("special_tokens_map.json")), "special");
    assertThat(special.path("eos_token").asText()).isEqualTo("</s>");
  }

  @Test
  void mixtralBf16AndTiedVariantsDescribeThemselves() throws Exception {
    TinyLlamaFactory moe = TinyLlamaFactory.builder().architecture(HfConfig.Architecture.MIXTRAL).experts(4, 2)
        .slidingWindow(8).dtype(SafetensorsReader.DType.BF16).tieWordEmbeddings(true).build();
    Path dir = moe.writeTo(tmp.resolve("moe"));
    HfConfig c = HfConfig.load(dir);
    assertThat(c.isMoe()).isTrue();
    assertThat(c.numLocalExperts()).isEqualTo(4);
    assertThat(c.slidingWindow()).hasValue(8);
    assertThat(c.torchDtype()).isEqualTo("bfloat16");
    try (SafetensorsReader st = SafetensorsReader.open(dir)) {
      assertThat(st.tensor("model.layers.0.block_sparse_moe.experts.3.w2.weight")).isPresent();
      assertThat(st.tensor("model.embed_tokens.weight").orElseThrow().dtype()).isEqualTo(SafetensorsReader.DType.BF16);
      assertThat(st.tensor("lm_head.weight")).isEmpty();
    }
  }

  @Test
  void buildRejectsInconsistentSettingsNamingTheSetting() {
    assertThatThrownBy(() -> TinyLlamaFactory.builder().slidingWindow(4).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sliding");
    assertThatThrownBy(() -> TinyLlamaFactory.builder().dtype(SafetensorsReader.DType.U8).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dtype");
    assertThatThrownBy(() -> TinyLlamaFactory.builder().heads(4).kvHeads(3).build())
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("num_key_value_heads");
    assertThat(TinyLlamaFactory.defaultCorpus()).contains("### Instruction:");
  }
}
