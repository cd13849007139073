package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.UnsupportedFormatException;
import org.junit.jupiter.api.Test;

class LlamaConfigTest {
  private static final String MIXTRAL = """
      {"architectures":["MixtralForCausalLM"],"model_type":"mixtral","vocab_size":32000,"hidden_size":4096,
       "intermediate_size":14336,"num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,
       "rms_norm_eps":1e-5,"rope_theta":1e6,"sliding_window":null,"num_local_experts":8,"num_experts_per_tok":2,
       "max_position_embeddings":32768,"tie_word_embeddings":false,"bos_token_id":1,"eos_token_id":2,
       "torch_dtype":"bfloat16"}""";

  @Test
  void readsFixtureLlamaConfig() {
    // Expected values come from the fixture itself (config.json read as plain JSON, tensor shapes from the
    // safetensors header), so a fixture of another shape is checked rather than refused.
    JsonNode json = Fixtures.json("tiny-llama/hf/config.json");
    LlamaConfig c = LlamaConfig.load(Fixtures.path("tiny-llama/hf"));
    assertThat(c.architecture()).isEqualTo(Architecture.LLAMA);
    assertThat(c.vocabSize()).isEqualTo(json.get("vocab_size").asInt());
    assertThat(c.hiddenSize()).isEqualTo(json.get("hidden_size").asInt());
    assertThat(c.intermediateSize()).isEqualTo(json.get("intermediate_size").asInt());
    assertThat(c.numHiddenLayers()).isEqualTo(json.get("num_hidden_layers").asInt());
    assertThat(c.numAttentionHeads()).isEqualTo(json.get("num_attention_heads").asInt());
    assertThat(c.numKeyValueHeads()).isEqualTo(json.get("num_key_value_heads").asInt());
    assertThat(c.headDim()).isEqualTo(json.get("hidden_size").asInt() / json.get("num_attention_heads").asInt());
    assertThat(c.rmsNormEps()).isEqualTo(json.get("rms_norm_eps").asDouble());
    assertThat(c.ropeTheta()).isEqualTo(json.get("rope_theta").asDouble());
    assertThat(c.tieWordEmbeddings()).isEqualTo(json.get("tie_word_embeddings").asBoolean());
    assertThat(c.bosTokenId()).isEqualTo(json.get("bos_token_id").asInt());
    assertThat(c.eosTokenIds()).containsExactly(json.get("eos_token_id").asInt());
    long stored;
    try (SafetensorsReader st = SafetensorsReader.open(Fixtures.path("tiny-llama/hf"))) {
      stored = st.tensors().stream().mapToLong(SafetensorsReader.TensorInfo::numel).sum();
    }
    assertThat(stored).isPositive();
    assertThat(c.parameterCount()).isEqualTo(stored);
  }

  @Test
  void readsMixtralFieldsAndMistralSlidingWindow() {
    LlamaConfig c = LlamaConfig.parse(MIXTRAL, "config.json");
    assertThat(c.isMoe()).isTrue();
    assertThat(c.numLocalExperts()).isEqualTo(8);
    assertThat(c.numExpertsPerTok()).isEqualTo(2);
    assertThat(c.ropeTheta()).isEqualTo(1e6);
    assertThat(c.slidingWindow()).isEmpty();
    assertThat(c.torchDtype()).isEqualTo("bfloat16");
    LlamaConfig m = LlamaConfig.parse(MIXTRAL.replace("MixtralForCausalLM", "MistralForCausalLM")
        .replace("\"sliding_window\":null", "\"sliding_window\":4096"), "config.json");
    assertThat(m.architecture()).isEqualTo(Architecture.MISTRAL);
    assertThat(m.slidingWindow()).hasValue(4096);
    assertThat(LlamaConfig.parse(c.toJson(), "round trip")).isEqualTo(c);
  }

  @Test
  void acceptsTransformersV5RopeParametersAndEosLists() {
    String v5 = MIXTRAL.replace("\"rope_theta\":1e6,", "\"rope_parameters\":{\"rope_theta\":500000.0,\"rope_type\":\"default\"},")
        .replace("\"eos_token_id\":2", "\"eos_token_id\":[2, 7]");
    LlamaConfig c = LlamaConfig.parse(v5, "config.json");
    assertThat(c.ropeTheta()).isEqualTo(500000.0);
    assertThat(c.eosTokenIds()).containsExactly(2, 7);
  }

  @Test
  void unknownArchitectureIsUnsupportedFormatNamingTheField() {
    assertThatThrownBy(() -> LlamaConfig.parse(MIXTRAL.replace("MixtralForCausalLM", "GPT2LMHeadModel"), "x/config.json"))
        .isInstanceOf(UnsupportedFormatException.class).hasMessageContaining("architectures")
        .hasMessageContaining("GPT2LMHeadModel");
  }

  @Test
  void missingFieldIsInvalidInputNamingTheField() {
    assertThatThrownBy(() -> LlamaConfig.parse(MIXTRAL.replace("\"hidden_size\":4096,", ""), "x/config.json"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("hidden_size");
    assertThatThrownBy(() -> LlamaConfig.parse(MIXTRAL.replace("\"num_local_experts\":8,", ""), "x/config.json"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("num_local_experts");
  }

  @Test
  void inconsistentFieldsAreInvalidInputNamingTheField() {
    assertThatThrownBy(() -> LlamaConfig.parse(MIXTRAL.replace("\"num_key_value_heads\":8", "\"num_key_value_heads\":5"),
        "config.json")).isInstanceOf(InvalidInputException.class).hasMessageContaining("num_key_value_heads");
    assertThatThrownBy(() -> LlamaConfig.parse(MIXTRAL.replace("\"hidden_size\":4096", "\"hidden_size\":\"big\""),
        "config.json")).isInstanceOf(InvalidInputException.class).hasMessageContaining("hidden_size");
    assertThatThrownBy(() -> LlamaConfig.parse(MIXTRAL.replace("\"num_experts_per_tok\":2", "\"num_experts_per_tok\":9"),
        "config.json")).isInstanceOf(InvalidInputException.class).hasMessageContaining("num_experts_per_tok");
    assertThatThrownBy(() -> LlamaConfig.parse(MIXTRAL.replace("\"rope_theta\":1e6,",
        "\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4},"), "config.json"))
        .isInstanceOf(UnsupportedFormatException.class).hasMessageContaining("rope_scaling");
  }
}
