package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.core.internal.Json;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class OllamaResponseTest {

  @Test
  void countersAndNanosecondDurationsComeFromTheFinalLine() {
    OllamaResponse r = new OllamaResponse("m", "text", "", "stop", null, Json.readTree("{\"prompt_eval_count\":26,"
        + "\"eval_count\":259,\"total_duration\":10706818083,\"load_duration\":6338219291,\"prompt_eval_duration\":130079000,"
        + "\"eval_duration\":4232710000}", "x"));
    assertThat(r.promptEvalCount()).hasValue(26);
    assertThat(r.evalCount()).hasValue(259);
    assertThat(r.totalDuration()).contains(Duration.ofNanos(10706818083L));
    assertThat(r.loadDuration()).contains(Duration.ofNanos(6338219291L));
    assertThat(r.promptEvalDuration()).contains(Duration.ofMillis(130).plusNanos(79000));
    assertThat(r.tokensPerSecond()).hasValueSatisfying(tps -> assertThat(tps).isBetween(61.1, 61.3));
    assertThat(r.toolCalls().isMissingNode()).isTrue();
    assertThat(r.toString()).contains("stop").contains("text");
    // It is core's LlmResponse too: the counters are Ollama's.
    dev.securetag.core.LlmResponse asLlm = r;
    assertThat(asLlm.promptTokens()).hasValue(26);
    assertThat(asLlm.completionTokens()).hasValue(259);
    assertThat(asLlm.duration()).isEqualTo(Duration.ZERO);
  }

  @Test
  void missingCountersAreEmpty() {
    OllamaResponse r = new OllamaResponse(null, "", null, null, null, Json.object());
    assertThat(r.model()).isEmpty();
    assertThat(r.thinking()).isEmpty();
    assertThat(r.doneReason()).isEmpty();
    assertThat(r.evalCount()).isEmpty();
    assertThat(r.tokensPerSecond()).isEmpty();
  }
}
