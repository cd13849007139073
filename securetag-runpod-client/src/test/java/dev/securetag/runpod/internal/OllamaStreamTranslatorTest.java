package dev.securetag.runpod.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.securetag.core.internal.Json;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class OllamaStreamTranslatorTest {

  @Test
  void passesWorkerLinesThroughAndHoldsTheDoneLineBack() {
    OllamaStreamTranslator t = new OllamaStreamTranslator("m", false);
    List<ObjectNode> a = t.accept(TextNode.valueOf("{\"model\":\"m\",\"response\":\"Hi\",\"done\":false}"));
    List<ObjectNode> b = t.accept(TextNode.valueOf("{\"model\":\"m\",\"response\":\"\",\"done\":true,\"done_reason\":\"length\","
        + "\"eval_count\":7}"));
    assertThat(a).hasSize(1);
    assertThat(a.get(0).path("response").asText()).isEqualTo("Hi");
    assertThat(a.get(0).path("done").asBoolean()).isFalse();
    assertThat(b).isEmpty();
    ObjectNode done = t.doneLine(false, Duration.ofMillis(5), Duration.ofMillis(10));
    assertThat(done.path("done").asBoolean()).isTrue();
    assertThat(done.path("done_reason").asText()).isEqualTo("length");
    assertThat(done.path("eval_count").asInt()).isEqualTo(7);
    assertThat(done.path("total_duration").asLong()).isEqualTo(15_000_000L);
    assertThat(done.path("response").asText()).isEmpty();
  }

  @Test
  void synthesisesChatLinesFromPlainTextAndUnwrapsLists() {
    OllamaStreamTranslator t = new OllamaStreamTranslator("m", true);
    List<ObjectNode> lines = t.accept(Json.readTree("[\"Hel\", {\"response\":\"lo\"}]", "x"));
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0).path("message").path("content").asText()).isEqualTo("Hel");
    assertThat(lines.get(0).path("message").path("role").asText()).isEqualTo("assistant");
    ObjectNode done = t.doneLine(true, null, null);
    assertThat(done.path("message").path("content").asText()).isEqualTo("Hello");
    assertThat(done.path("eval_count").asInt()).isEqualTo(2);
    assertThat(done.path("done_reason").asText()).isEqualTo("stop");
  }

  @Test
  void rememberWorkerErrors() {
    OllamaStreamTranslator t = new OllamaStreamTranslator("m", false);
    t.accept(Json.readTree("{\"error\":\"boom\"}", "x"));
    assertThat(t.error()).contains("boom");
    assertThat(t.hasText()).isFalse();
  }
}
