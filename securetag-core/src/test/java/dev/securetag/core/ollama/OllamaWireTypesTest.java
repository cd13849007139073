package dev.securetag.core.ollama;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.ChatMessage;
import dev.securetag.core.internal.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The wire types read and write the Ollama API's own JSON. */
class OllamaWireTypesTest {

  @Test
  void chatRequestReadsTheApiShapeAndWritesNoNulls() {
    String body = "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\","
        + "\"content\":\"q\",\"images\":[\"aGk=\"]}],\"options\":{\"temperature\":0.2},\"keep_alive\":\"5m\","
        + "\"stream\":false,\"tools\":[{\"type\":\"function\"}]}";
    OllamaChatRequest r = Json.read(body, OllamaChatRequest.class, "body");
    assertThat(r.model()).isEqualTo("llama3.2");
    assertThat(r.messages()).hasSize(2);
    assertThat(r.messages().get(1).images()).containsExactly("aGk=");
    assertThat(r.messages().get(0).toChatMessage()).isEqualTo(ChatMessage.system("s"));
    assertThat(r.keepAlive().asText()).isEqualTo("5m");
    assertThat(r.streaming()).isFalse();
    assertThat(r.withStream(true).streaming()).isTrue();
    JsonNode written = Json.readTree(Json.write(r), "written");
    assertThat(written).isEqualTo(Json.readTree(body, "body"));
    assertThat(OllamaChatRequest.of("m", List.of(OllamaMessage.of(ChatMessage.user("x")))).streaming()).isTrue();
  }

  @Test
  void generateRequestKeepsFormatContextAndThinkAsTheyCame() {
    String body = "{\"model\":\"m\",\"prompt\":\"p\",\"system\":\"s\",\"format\":{\"type\":\"object\"},"
        + "\"context\":[1,2,3],\"raw\":true,\"think\":\"high\",\"suffix\":\"end\"}";
    OllamaGenerateRequest r = Json.read(body, OllamaGenerateRequest.class, "body");
    assertThat(r.format().path("type").asText()).isEqualTo("object");
    assertThat(r.context()).hasSize(3);
    assertThat(r.raw()).isTrue();
    assertThat(r.think().asText()).isEqualTo("high");
    assertThat(r.streaming()).isTrue();
    assertThat(Json.readTree(Json.write(r), "w")).isEqualTo(Json.readTree(body, "b"));
    assertThat(Json.write(OllamaGenerateRequest.of("m", "p").withStream(false)))
        .isEqualTo("{\"model\":\"m\",\"prompt\":\"p\",\"stream\":false}");
  }

  @Test
  void chunksCarryTextCountersAndUnknownFields() {
    String done = "{\"model\":\"m\",\"created_at\":\"2024-01-01T00:00:00Z\",\"response\":\"\",\"done\":true,"
        + "\"done_reason\":\"stop\",\"context\":[5],\"total_duration\":2000,\"load_duration\":1,"
        + "\"prompt_eval_count\":3,\"prompt_eval_duration\":4,\"eval_count\":5,\"eval_duration\":1000,"
        + "\"logprobs\":[0.5]}";
    OllamaChunk c = Json.read(done, OllamaChunk.class, "line");
    assertThat(c.isDone()).isTrue();
    assertThat(c.doneReason()).isEqualTo("stop");
    assertThat(c.evalCount()).isEqualTo(5);
    assertThat(c.eval()).hasValueSatisfying(d -> assertThat(d.toNanos()).isEqualTo(1000));
    assertThat(c.extra()).containsKey("logprobs");
    assertThat(Json.readTree(Json.write(c), "w")).isEqualTo(Json.readTree(done, "d"));
    OllamaChunk chat = Json.read("{\"message\":{\"role\":\"assistant\",\"content\":\"hi\",\"thinking\":\"hmm\"},"
        + "\"done\":false}", OllamaChunk.class, "line");
    assertThat(chat.text()).isEqualTo("hi");
    assertThat(chat.thinkingText()).isEqualTo("hmm");
    assertThat(chat.isDone()).isFalse();
    assertThat(Json.write(OllamaChunk.chatPiece("m", "t", "x")))
        .isEqualTo("{\"model\":\"m\",\"created_at\":\"t\",\"message\":{\"role\":\"assistant\",\"content\":\"x\"},"
            + "\"done\":false}");
    assertThat(Json.write(OllamaChunk.generatePiece("m", "t", "x")))
        .isEqualTo("{\"model\":\"m\",\"created_at\":\"t\",\"response\":\"x\",\"done\":false}");
    OllamaChunk err = Json.read("{\"error\":\"model not found\"}", OllamaChunk.class, "line");
    assertThat(err.isError()).isTrue();
    assertThat(err.text()).isEmpty();
  }

  @Test
  void tagsShowVersionAndErrorUseTheApiNames() {
    String tags = "{\"models\":[{\"name\":\"a:latest\",\"model\":\"a:latest\",\"modified_at\":\"t\",\"size\":12,"
        + "\"digest\":\"d\",\"details\":{\"format\":\"gguf\",\"family\":\"llama\",\"parameter_size\":\"7B\","
        + "\"quantization_level\":\"Q4_K_M\"}},{\"model\":\"old\"}]}";
    OllamaTags t = Json.read(tags, OllamaTags.class, "tags");
    assertThat(t.models()).extracting(OllamaModelInfo::displayName).containsExactly("a:latest", "old");
    assertThat(t.models().get(0).details().quantizationLevel()).isEqualTo("Q4_K_M");
    assertThat(Json.read("{}", OllamaTags.class, "empty").models()).isEmpty();
    OllamaShowResponse show = new OllamaShowResponse("FROM x", "", "", OllamaModelDetails.format("gguf"), null,
        List.of("completion"));
    assertThat(Json.write(show)).isEqualTo("{\"modelfile\":\"FROM x\",\"parameters\":\"\",\"template\":\"\","
        + "\"details\":{\"format\":\"gguf\"},\"capabilities\":[\"completion\"]}");
    assertThat(Json.read("{\"name\":\"n\"}", OllamaShowRequest.class, "show").requested()).isEqualTo("n");
    assertThat(Json.write(new OllamaVersion("0.6.0"))).isEqualTo("{\"version\":\"0.6.0\"}");
    assertThat(Json.write(new OllamaError("busy", "busy"))).isEqualTo("{\"error\":\"busy\",\"error_kind\":\"busy\"}");
    assertThat(Json.write(OllamaError.of("x"))).isEqualTo("{\"error\":\"x\"}");
    OllamaRunningModel running = OllamaRunningModel.of(t.models().get(0), "2027-01-01T00:00:00Z", 0);
    String ps = Json.write(new OllamaPs(List.of(running)));
    assertThat(ps).contains("\"expires_at\":\"2027-01-01T00:00:00Z\"", "\"size_vram\":0")
        .doesNotContain("modified_at");
    assertThat(Json.read(ps, OllamaPs.class, "ps").models()).containsExactly(running);
    assertThat(Json.read("{}", OllamaPs.class, "empty").models()).isEmpty();
  }
}
