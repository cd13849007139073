package dev.securetag.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.internal.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufLoraConverterTest {
  @TempDir Path tmp;

  @Test
  void convertsPeftAdapterExactlyAsLlamaCppsLoraConverter() throws IOException {
    Path out = tmp.resolve("lora-f16.gguf");
    GgufLoraConverter.builder().adapter(TestResources.path("tiny-llama/hf-lora")).build().write(out);
    JsonNode meta = Json.readTree(Files.readString(TestResources.path("tiny-llama/expected/metadata.json")), "m");
    GgufQuantizerTest.assertMatches(out, meta.get("files").get("lora-f16.gguf"));
    assertThat(Files.readAllBytes(out))
        .isEqualTo(Files.readAllBytes(TestResources.path("tiny-llama/expected/lora-f16.gguf")));
  }

  @Test
  void writesF32AdaptersWithTheSameOrientation() {
    Path out = tmp.resolve("lora-f32.gguf");
    GgufLoraConverter.builder().adapter(TestResources.path("tiny-llama/hf-lora"))
        .baseModel(TestResources.path("tiny-llama/hf")).outType(GgmlType.F32).name("x").build().write(out);
    try (GgufReader r = GgufReader.open(out);
        GgufReader e = GgufReader.open(TestResources.path("tiny-llama/expected/lora-f16.gguf"))) {
      assertThat(r.get("general.name").orElseThrow().asString()).isEqualTo("x");
      for (GgufTensorInfo t : e.tensors()) {
        GgufTensorInfo mine = r.tensor(t.name()).orElseThrow();
        assertThat(mine.type()).isEqualTo(GgmlType.F32);
        assertThat(mine.ne()).isEqualTo(t.ne());
        float[] a = r.readFloats(t.name());
        float[] b = e.readFloats(t.name());
        for (int i = 0; i < a.length; i++) {
          assertThat(Math.abs(a[i] - b[i])).isLessThanOrEqualTo(Math.abs(b[i]) / 1000 + 1e-7f);
        }
      }
    }
  }

  @Test
  void failsWithATypedErrorWhenTheBaseModelCannotBeFound() throws IOException {
    Path dir = TestResources.copyDir("tiny-llama/hf-lora", tmp.resolve("hf-lora"));
    assertThatThrownBy(() -> GgufLoraConverter.builder().adapter(dir).build().write(tmp.resolve("x.gguf")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("base_model_name_or_path");
    assertThatThrownBy(() -> GgufLoraConverter.builder().build()).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> GgufLoraConverter.builder().adapter(dir).outType(GgmlType.Q4_K).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outType");
  }
}
