package dev.securetag.ollama.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.core.ollama.OllamaChatRequest;
import dev.securetag.core.ollama.OllamaGenerateRequest;
import dev.securetag.core.ollama.OllamaModelInfo;
import dev.securetag.core.ollama.OllamaShowResponse;
import org.junit.jupiter.api.Test;

class OllamaBackendTest {

  private static OllamaBackend named(String name) {
    return new OllamaBackend() {
      @Override
      public String model() {
        return name;
      }

      @Override
      public OllamaModelInfo describe() {
        return new OllamaModelInfo(name, name, null, null, null, null);
      }

      @Override
      public OllamaShowResponse show() {
        return new OllamaShowResponse(null, null, null, null, null, null);
      }

      @Override
      public void generate(OllamaGenerateRequest request, OllamaReply reply) {}

      @Override
      public void chat(OllamaChatRequest request, OllamaReply reply) {}
    };
  }

  @Test
  void servesItsModelWithOrWithoutTheImpliedLatestTag() {
    assertThat(named("tiny").serves("tiny")).isTrue();
    assertThat(named("tiny").serves("tiny:latest")).isTrue();
    assertThat(named("tiny:latest").serves("tiny")).isTrue();
    assertThat(named("tiny:q4").serves("tiny")).isFalse();
    assertThat(named("tiny").serves("llama3")).isFalse();
    assertThat(named("tiny").generatesForAnyModel()).isFalse();
    assertThat(named("tiny").running()).isEmpty();
    assertThat(OllamaBackend.withTag("a")).isEqualTo("a:latest");
    assertThat(OllamaBackend.withTag("a:7b")).isEqualTo("a:7b");
  }
}
