package dev.securetag.train.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.HfConfig;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.core.internal.Json;
import dev.securetag.testfixtures.SharedFixtures;
import dev.securetag.testing.TinyLlamaFactory;
import dev.securetag.train.LlamaModel;
import dev.securetag.train.ModelOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DecoderLoaderTest {
  @TempDir Path tmp;

  @Test
  void fixtureConfigReadsThroughTheSharedParserAndCountsTheStoredParameters() {
    // Expected values come from the fixture itself (config.json read as plain JSON, tensor shapes from the
    // safetensors header), so a fixture of another shape is checked rather than refused.
    Path dir = SharedFixtures.path("tiny-llama/hf");
    JsonNode json = Json.readTree(SharedFixtures.readString("tiny-llama/hf/config.json"), "config.json");
    HfConfig c = HfConfig.load(dir);
    assertThat(c.architecture()).isEqualTo(HfConfig.Architecture.LLAMA);
    assertThat(c.vocabSize()).isEqualTo(json.get("vocab_size").asInt());
    assertThat(c.hiddenSize()).isEqualTo(json.get("hidden_size").asInt());
    assertThat(c.numKeyValueHeads()).isEqualTo(json.get("num_key_value_heads").asInt());
    assertThat(c.headDim()).isEqualTo(json.get("hidden_size").asInt() / json.get("num_attention_heads").asInt());
    assertThat(c.rmsNormEps()).isEqualTo(json.get("rms_norm_eps").asDouble());
    assertThat(c.ropeTheta()).isEqualTo(json.get("rope_theta").asDouble());
    assertThat(c.eosTokenIds()).containsExactly(json.get("eos_token_id").asInt());
    long stored;
    try (SafetensorsReader st = SafetensorsReader.open(dir)) {
      stored = st.tensors().stream().mapToLong(SafetensorsReader.TensorInfo::numel).sum();
    }
    assertThat(c.parameterCount()).isEqualTo(stored);
    assertThatCode(() -> DecoderLoader.requireTrainable(c, "config.json")).doesNotThrowAnyException();
  }

  @Test
  void refusesWhatTheParserAcceptsButTrainingCannotComputeNamingTheField() {
    HfConfig base = TinyLlamaFactory.builder().build().config();
    assertThatThrownBy(() -> DecoderLoader.requireTrainable(HfConfig.builder().from(base)
        .ropeScaling(new HfConfig.RopeScaling("yarn", 4, 1, 4, 4096)).build(), "x/config.json"))
        .isInstanceOf(UnsupportedFormatException.class).hasMessageContaining("x/config.json: rope_scaling");
    assertThatThrownBy(() -> DecoderLoader.requireTrainable(HfConfig.builder().from(base).attentionBias(true).build(),
        "config.json")).isInstanceOf(UnsupportedFormatException.class).hasMessageContaining("attention_bias");
    assertThatThrownBy(() -> DecoderLoader.requireTrainable(HfConfig.builder().from(base).mlpBias(true).build(),
        "config.json")).isInstanceOf(UnsupportedFormatException.class).hasMessageContaining("mlp_bias");
    assertThatThrownBy(() -> DecoderLoader.requireTrainable(HfConfig.builder().from(base).hiddenAct("gelu").build(),
        "config.json")).isInstanceOf(UnsupportedFormatException.class).hasMessageContaining("hidden_act");
    assertThatCode(() -> DecoderLoader.requireTrainable(HfConfig.builder().from(base)
        .ropeScaling(new HfConfig.RopeScaling("llama3", 8, 1, 4, 8192)).build(), "config.json"))
        .doesNotThrowAnyException();
  }

  @Test
  void loadingACheckpointWithYarnScalingFailsBeforeReadingTensors() throws Exception {
    Path dir = TinyLlamaFactory.builder().seed(2).build().writeTo(tmp.resolve("tiny"));
    String cfg = Files.readString(dir.resolve("config.json"))
        .replace("\"rope_scaling\":null", "\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4}");
    Files.writeString(dir.resolve("config.json"), cfg);
    assertThatThrownBy(() -> LlamaModel.load(dir, ModelOptions.fullPrecision()))
        .isInstanceOf(UnsupportedFormatException.class).hasMessageContaining("rope_scaling")
        .hasMessageContaining(dir.resolve("config.json").toString());
  }
}
