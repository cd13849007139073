package dev.securetag.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.HfConfig;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.ProgressListener;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.internal.Hashing;
import dev.securetag.core.internal.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufQuantizerTest {
  @TempDir Path tmp;

  private static JsonNode expected(String file) throws IOException {
    JsonNode m = Json.readTree(Files.readString(TestResources.path("tiny-llama/expected/metadata.json")), "metadata");
    return m.get("files").get(file);
  }

  private Path convert(GgufOutType type, int threads) {
    Path out = tmp.resolve(type + ".gguf");
    GgufQuantizer.builder().baseModel(TestResources.path("tiny-llama/hf")).outType(type).threads(threads).build()
        .write(out);
    return out;
  }

  static String itemsSha(GgufValue v) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    for (Object o : v.asList()) {
      b.clear();
      switch (v.itemType()) {
        case STRING -> out.writeBytes(((String) o).getBytes(StandardCharsets.UTF_8));
        case FLOAT32 -> out.write(b.putFloat((Float) o).array(), 0, 4);
        case INT32, UINT32 -> out.write(b.putInt((int) (long) (Long) o).array(), 0, 4);
        default -> throw new IllegalArgumentException(v.itemType().toString());
      }
    }
    return Hashing.sha256Hex(out.toByteArray());
  }

  /** Compares every KV (order, type, value) and every tensor (order, type, ne, offset, sha256). */
  static void assertMatches(Path file, JsonNode exp) {
    try (GgufReader r = GgufReader.open(file)) {
      List<String> keys = new ArrayList<>(r.metadata().keySet());
      List<String> expKeys = new ArrayList<>();
      exp.get("kvs").forEach(kv -> expKeys.add(kv.get("key").asText()));
      assertThat(keys).containsExactlyElementsOf(expKeys);
      for (JsonNode kv : exp.get("kvs")) {
        String key = kv.get("key").asText();
        GgufValue v = r.metadata().get(key);
        assertThat(v.type().name()).as(key).isEqualTo(kv.get("type").asText());
        switch (v.type()) {
          case STRING -> assertThat(v.asString()).as(key).isEqualTo(kv.get("value").asText());
          case UINT32 -> assertThat(v.asLong()).as(key).isEqualTo(kv.get("value").asLong());
          case FLOAT32 -> assertThat(Float.floatToRawIntBits(v.asFloat())).as(key)
              .isEqualTo(Float.floatToRawIntBits(Float.parseFloat(kv.get("value").asText())));
          case BOOL -> assertThat(v.asBoolean()).as(key).isEqualTo(kv.get("value").asBoolean());
          case ARRAY -> {
            assertThat(v.itemType().name()).as(key).isEqualTo(kv.get("item_type").asText());
            assertThat(v.asList()).as(key).hasSize(kv.get("count").asInt());
            assertThat(itemsSha(v)).as(key).isEqualTo(kv.get("items_sha256").asText());
            if (kv.has("value")) {
              JsonNode ev = kv.get("value");
              for (int i = 0; i < ev.size(); i++) {
                Object o = v.asList().get(i);
                if (o instanceof Float f) {
                  assertThat(Float.floatToRawIntBits(f)).as(key + "[" + i + "]")
                      .isEqualTo(Float.floatToRawIntBits(Float.parseFloat(ev.get(i).asText())));
                } else if (o instanceof Long l) {
                  assertThat(l).as(key + "[" + i + "]").isEqualTo(ev.get(i).asLong());
                } else {
                  assertThat(o).as(key + "[" + i + "]").isEqualTo(ev.get(i).asText());
                }
              }
            }
          }
          default -> throw new AssertionError("unexpected type " + v.type() + " for " + key);
        }
      }
      JsonNode tensors = exp.get("tensors");
      assertThat(r.tensors()).hasSize(tensors.size());
      for (int i = 0; i < tensors.size(); i++) {
        JsonNode et = tensors.get(i);
        GgufTensorInfo t = r.tensors().get(i);
        assertThat(t.name()).isEqualTo(et.get("name").asText());
        assertThat(t.type().name()).as(t.name()).isEqualTo(et.get("type").asText());
        List<Long> ne = new ArrayList<>();
        et.get("ne").forEach(n -> ne.add(n.asLong()));
        assertThat(t.ne()).as(t.name()).containsExactly(ne.stream().mapToLong(Long::longValue).toArray());
        assertThat(t.offset()).as(t.name()).isEqualTo(et.get("offset").asLong());
        ByteBuffer b = r.tensorData(t.name());
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        assertThat(Hashing.sha256Hex(bytes)).as(t.name()).isEqualTo(et.get("sha256").asText());
      }
    }
  }

  @Test
  void convertsTinyLlamaToF32ExactlyAsLlamaCppsConverter() throws IOException {
    Path out = convert(GgufOutType.F32, 2);
    assertMatches(out, expected("model-f32.gguf"));
    assertThat(Hashing.sha256Hex(out)).isEqualTo(expected("model-f32.gguf").get("file_sha256").asText());
    assertThat(Files.readAllBytes(out))
        .isEqualTo(Files.readAllBytes(TestResources.path("tiny-llama/expected/model-f32.gguf")));
  }

  @Test
  void convertsTinyLlamaToF16ExactlyAsLlamaCppsConverter() throws IOException {
    Path out = convert(GgufOutType.F16, 2);
    assertMatches(out, expected("model-f16.gguf"));
    assertThat(Hashing.sha256Hex(out)).isEqualTo(expected("model-f16.gguf").get("file_sha256").asText());
    assertThat(Files.readAllBytes(out))
        .isEqualTo(Files.readAllBytes(TestResources.path("tiny-llama/expected/model-f16.gguf")));
  }

  @Test
  void quantizesTinyLlamaToQ8_0ExactlyAsLlamaQuantize() throws IOException {
    Path out = convert(GgufOutType.Q8_0, 2);
    assertMatches(out, expected("model-q8_0.gguf"));
    assertThat(Files.readAllBytes(out))
        .isEqualTo(Files.readAllBytes(TestResources.path("tiny-llama/expected/model-q8_0.gguf")));
  }

  @Test
  void quantizesTinyLlamaToQ4_K_MExactlyAsLlamaQuantize() throws IOException {
    Path out = convert(GgufOutType.Q4_K_M, 1);
    assertMatches(out, expected("model-q4_k_m.gguf"));
    assertThat(Files.readAllBytes(out))
        .isEqualTo(Files.readAllBytes(TestResources.path("tiny-llama/expected/model-q4_k_m.gguf")));
  }

  @Test
  void reportsProgressUpToTheTotalWeightCount() {
    long weights;
    try (SafetensorsReader st = SafetensorsReader.open(TestResources.path("tiny-llama/hf"))) {
      weights = st.tensors().stream().mapToLong(SafetensorsReader.TensorInfo::numel).sum();
    }
    List<ProgressListener.Progress> seen = new CopyOnWriteArrayList<>();
    GgufQuantizer.builder().baseModel(TestResources.path("tiny-llama/hf")).outType(GgufOutType.Q6_K).threads(2)
        .listener(seen::add).build().write(tmp.resolve("q6.gguf"));
    assertThat(seen).isNotEmpty();
    ProgressListener.Progress last = seen.get(seen.size() - 1);
    assertThat(last.done()).isEqualTo(last.total()).isEqualTo(weights);
  }

  @Test
  void rejectsMissingConfigFieldsNamingFileAndField() throws IOException {
    Path dir = TestResources.copyDir("tiny-llama/hf", tmp.resolve("hf"));
    String cfg = Files.readString(dir.resolve("config.json")).replace("\"hidden_size\"", "\"x_hidden\"");
    Files.writeString(dir.resolve("config.json"), cfg);
    assertThatThrownBy(() -> GgufQuantizer.builder().baseModel(dir).build().write(tmp.resolve("x.gguf")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining(dir.resolve("config.json") + ": hidden_size");
    assertThat(tmp.resolve("x.gguf")).doesNotExist();
  }

  /**
   * The converter reads config.json with the trainer's parser (securetag-core's HfConfig): a missing rms_norm_eps is
   * the family's transformers default, which the trainer computes with, and the GGUF states it for the runtime.
   */
  @Test
  void missingRmsNormEpsIsTheDefaultTheTrainerUses() throws IOException {
    Path dir = TestResources.copyDir("tiny-llama/hf", tmp.resolve("hf"));
    JsonNode original = Json.readTree(Files.readString(dir.resolve("config.json")), "config.json");
    ((com.fasterxml.jackson.databind.node.ObjectNode) original).remove("rms_norm_eps");
    Files.writeString(dir.resolve("config.json"), Json.write(original));
    HfConfig shared = HfConfig.load(dir);
    assertThat(shared.rmsNormEps()).isEqualTo(shared.architecture().defaultRmsNormEps());
    Path out = tmp.resolve("eps.gguf");
    GgufQuantizer.builder().baseModel(dir).outType(GgufOutType.F32).threads(2).build().write(out);
    try (GgufReader r = GgufReader.open(out)) {
      assertThat(r.get("llama.attention.layer_norm_rms_epsilon").orElseThrow())
          .isEqualTo(GgufValue.float32((float) shared.rmsNormEps()));
    }
  }

  /** transformers v5 writes {@code rope_parameters.rope_theta}; the trainer read it, and now the converter does. */
  @Test
  void readsTransformersV5RopeParameters() throws IOException {
    Path dir = TestResources.copyDir("tiny-llama/hf", tmp.resolve("hf"));
    var cfg = (com.fasterxml.jackson.databind.node.ObjectNode) Json.readTree(
        Files.readString(dir.resolve("config.json")), "config.json");
    cfg.remove("rope_theta");
    cfg.remove("rope_scaling");
    cfg.putObject("rope_parameters").put("rope_theta", 500000.0).put("rope_type", "default");
    Files.writeString(dir.resolve("config.json"), Json.write(cfg));
    assertThat(HfConfig.load(dir).ropeTheta()).isEqualTo(500000.0);
    Path out = tmp.resolve("v5.gguf");
    GgufQuantizer.builder().baseModel(dir).outType(GgufOutType.F32).threads(2).build().write(out);
    try (GgufReader r = GgufReader.open(out)) {
      assertThat(r.get("llama.rope.freq_base").orElseThrow()).isEqualTo(GgufValue.float32(500000f));
      assertThat(r.get("llama.rope.scaling.type")).isEmpty();
    }
  }

  @Test
  void rejectsMisuseOfTheBuilderInBuild() {
    assertThatThrownBy(() -> GgufQuantizer.builder().build()).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("baseModel");
    Path hf = TestResources.path("tiny-llama/hf");
    assertThatThrownBy(() -> GgufQuantizer.builder().baseModel(hf).threads(0).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("threads");
    assertThatThrownBy(() -> GgufQuantizer.builder().baseModel(hf).intermediate(GgmlType.Q8_0).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("intermediate");
  }

  @Test
  @SuppressWarnings("deprecation")
  void oldBuilderNamesStillConfigureTheSameConversion() throws IOException {
    Path viaOld = tmp.resolve("old.gguf");
    Path viaNew = tmp.resolve("new.gguf");
    GgufQuantizer.builder().model(TestResources.path("tiny-llama/hf"))
        .mergeAdapter(TestResources.path("tiny-llama/hf-lora")).outType(GgufOutType.F32).name("x").threads(2).build()
        .write(viaOld);
    GgufQuantizer.builder().baseModel(TestResources.path("tiny-llama/hf"))
        .adapter(TestResources.path("tiny-llama/hf-lora")).outType(GgufOutType.F32).name("x").threads(2).build()
        .write(viaNew);
    assertThat(Files.readAllBytes(viaOld)).isEqualTo(Files.readAllBytes(viaNew));
  }

  @Test
  void derivesNameAndSizeLabelLikeGgufPy() {
    assertThat(GgufQuantizer.titleFromId(Path.of("/x/hf-lora"))).isEqualTo("Hf Lora");
    assertThat(GgufQuantizer.titleFromId(Path.of("Mistral-7B-Instruct-v0.2"))).isEqualTo("Mistral 7B Instruct v0.2");
    assertThat(GgufQuantizer.roundedNotation(188_736)).isEqualTo("189K");
    assertThat(GgufQuantizer.roundedNotation(7_241_732_096L)).isEqualTo("7.2B");
    assertThat(GgufQuantizer.roundedNotation(852_900_000L)).isEqualTo("853M");
  }
}
