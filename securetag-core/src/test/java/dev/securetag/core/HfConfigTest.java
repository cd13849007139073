package dev.securetag.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfConfigTest {
  private static final String MIXTRAL = """
      {"architectures":["MixtralForCausalLM"],"model_type":"mixtral","vocab_size":32000,"hidden_size":4096,
       "intermediate_size":14336,"num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,
       "rms_norm_eps":1e-5,"rope_theta":1e6,"sliding_window":null,"num_local_experts":8,"num_experts_per_tok":2,
       "max_position_embeddings":32768,"tie_word_embeddings":false,"bos_token_id":1,"eos_token_id":2,
       "torch_dtype":"bfloat16"}""";
  private static final String LLAMA = """
      {"architectures":["LlamaForCausalLM"],"vocab_size":512,"hidden_size":64,"intermediate_size":256,
       "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"rms_norm_eps":1e-5,"rope_theta":10000.0,
       "max_position_embeddings":256,"eos_token_id":2}""";

  @TempDir Path tmp;

  @Test
  void readsMixtralFieldsAndMistralSlidingWindowAndRoundTrips() {
    HfConfig c = HfConfig.parse(MIXTRAL, "config.json");
    assertThat(c.architecture()).isEqualTo(HfConfig.Architecture.MIXTRAL);
    assertThat(c.isMoe()).isTrue();
    assertThat(c.numLocalExperts()).isEqualTo(8);
    assertThat(c.numExpertsPerTok()).isEqualTo(2);
    assertThat(c.ropeTheta()).isEqualTo(1e6);
    assertThat(c.headDim()).isEqualTo(128);
    assertThat(c.explicitHeadDim()).isEmpty();
    assertThat(c.slidingWindow()).isEmpty();
    assertThat(c.torchDtype()).isEqualTo("bfloat16");
    HfConfig m = HfConfig.parse(MIXTRAL.replace("MixtralForCausalLM", "MistralForCausalLM")
        .replace("\"sliding_window\":null", "\"sliding_window\":4096"), "config.json");
    assertThat(m.architecture()).isEqualTo(HfConfig.Architecture.MISTRAL);
    assertThat(m.slidingWindow()).hasValue(4096);
    assertThat(HfConfig.parse(c.toJson(), "round trip")).isEqualTo(c);
    assertThat(HfConfig.parse(m.toJson(), "round trip")).isEqualTo(m);
  }

  @Test
  void acceptsTransformersV5RopeParametersAndEosLists() {
    String v5 = MIXTRAL.replace("\"rope_theta\":1e6,", "\"rope_parameters\":{\"rope_theta\":500000.0,\"rope_type\":\"default\"},")
        .replace("\"eos_token_id\":2", "\"eos_token_id\":[2, 7]").replace("\"torch_dtype\"", "\"dtype\"");
    HfConfig c = HfConfig.parse(v5, "config.json");
    assertThat(c.ropeTheta()).isEqualTo(500000.0);
    assertThat(c.ropeScaling()).isEmpty();
    assertThat(c.eosTokenIds()).containsExactly(2, 7);
    assertThat(c.torchDtype()).isEqualTo("bfloat16");
  }

  @Test
  void optionalFieldsTakeTheFamilysTransformersDefaults() {
    HfConfig llama = HfConfig.parse(LLAMA.replace("\"rms_norm_eps\":1e-5,", "").replace("\"rope_theta\":10000.0,", "")
        .replace("\"max_position_embeddings\":256,", ""), "config.json");
    assertThat(llama.rmsNormEps()).isEqualTo(1e-6);
    assertThat(llama.ropeTheta()).isEqualTo(10000.0);
    assertThat(llama.maxPositionEmbeddings()).isEqualTo(2048);
    HfConfig mixtral = HfConfig.parse(MIXTRAL.replace("\"rms_norm_eps\":1e-5,", "").replace("\"rope_theta\":1e6,", ""),
        "config.json");
    assertThat(mixtral.rmsNormEps()).isEqualTo(1e-5);
    assertThat(mixtral.ropeTheta()).isEqualTo(1e6);
  }

  @Test
  void keepsRopeScalingBiasAndActivationForConsumersToJudge() {
    HfConfig yarn = HfConfig.parse(LLAMA.replace("\"rope_theta\":10000.0,",
        "\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4,\"original_max_position_embeddings\":4096},"
            + "\"attention_bias\":true,\"hidden_act\":\"gelu\","), "config.json");
    assertThat(yarn.ropeScaling()).hasValueSatisfying(r -> {
      assertThat(r.type()).isEqualTo("yarn");
      assertThat(r.factor()).isEqualTo(4.0);
      assertThat(r.originalMaxPositionEmbeddings()).isEqualTo(4096);
    });
    assertThat(yarn.attentionBias()).isTrue();
    assertThat(yarn.hiddenAct()).isEqualTo("gelu");
    HfConfig llama3 = HfConfig.parse(LLAMA.replace("\"rope_theta\":10000.0,", "\"rope_theta\":500000.0,"
        + "\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8.0,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,"
        + "\"original_max_position_embeddings\":8192},\"head_dim\":16,"), "config.json");
    assertThat(llama3.ropeScaling().orElseThrow().type()).isEqualTo("llama3");
    assertThat(llama3.explicitHeadDim()).hasValue(16);
    assertThat(HfConfig.parse(llama3.toJson(), "round trip")).isEqualTo(llama3);
  }

  @Test
  void unknownArchitectureIsUnsupportedFormatNamingTheField() {
    assertThatThrownBy(() -> HfConfig.parse(MIXTRAL.replace("MixtralForCausalLM", "GPT2LMHeadModel"), "x/config.json"))
        .isInstanceOf(UnsupportedFormatException.class).hasMessageContaining("x/config.json: architectures")
        .hasMessageContaining("GPT2LMHeadModel");
    assertThatThrownBy(() -> HfConfig.parse(LLAMA.replace("\"rope_theta\":10000.0,",
        "\"rope_scaling\":{\"rope_type\":\"su\",\"factor\":4},"), "config.json"))
        .isInstanceOf(UnsupportedFormatException.class).hasMessageContaining("rope_scaling");
  }

  @Test
  void missingOrMistypedFieldIsInvalidInputNamingFileAndField() {
    assertThatThrownBy(() -> HfConfig.parse(MIXTRAL.replace("\"hidden_size\":4096,", ""), "x/config.json"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("x/config.json: hidden_size");
    assertThatThrownBy(() -> HfConfig.parse(MIXTRAL.replace("\"num_local_experts\":8,", ""), "x/config.json"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("num_local_experts");
    assertThatThrownBy(() -> HfConfig.parse(MIXTRAL.replace("\"hidden_size\":4096", "\"hidden_size\":\"big\""),
        "config.json")).isInstanceOf(InvalidInputException.class).hasMessageContaining("hidden_size");
    assertThatThrownBy(() -> HfConfig.parse(LLAMA.replace("\"rms_norm_eps\":1e-5", "\"rms_norm_eps\":\"small\""),
        "config.json")).isInstanceOf(InvalidInputException.class).hasMessageContaining("rms_norm_eps");
    assertThatThrownBy(() -> HfConfig.parse("[1]", "config.json")).isInstanceOf(InvalidInputException.class);
  }

  @Test
  void inconsistentFieldsAreInvalidInputNamingTheFileAndField() {
    assertThatThrownBy(() -> HfConfig.parse(MIXTRAL.replace("\"num_key_value_heads\":8", "\"num_key_value_heads\":5"),
        "m/config.json")).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("m/config.json: num_key_value_heads");
    assertThatThrownBy(() -> HfConfig.parse(MIXTRAL.replace("\"num_experts_per_tok\":2", "\"num_experts_per_tok\":9"),
        "config.json")).isInstanceOf(InvalidInputException.class).hasMessageContaining("num_experts_per_tok");
    assertThatThrownBy(() -> HfConfig.parse(LLAMA.replace("\"hidden_size\":64", "\"hidden_size\":66"), "config.json"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("num_attention_heads");
    assertThatThrownBy(() -> HfConfig.builder().architecture(HfConfig.Architecture.LLAMA).vocabSize(8).hiddenSize(8)
        .intermediateSize(8).numHiddenLayers(1).numAttentionHeads(2).numKeyValueHeads(3).addEosTokenId(2).build())
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("num_key_value_heads");
  }

  @Test
  void loadsFromADirectoryAndNamesAMissingFile() throws Exception {
    Files.writeString(tmp.resolve("config.json"), LLAMA);
    assertThat(HfConfig.load(tmp).hiddenSize()).isEqualTo(64);
    assertThat(HfConfig.load(tmp.resolve("config.json")).parameterCount()).isPositive();
    assertThatThrownBy(() -> HfConfig.load(tmp.resolve("absent"))).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("absent");
  }
}
