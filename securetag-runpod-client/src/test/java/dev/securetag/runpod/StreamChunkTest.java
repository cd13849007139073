package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.core.internal.Json;
import org.junit.jupiter.api.Test;

class StreamChunkTest {

  @Test
  void textReadsOllamaLinesObjectsAndPlainStrings() {
    assertThat(new StreamChunk(Json.readTree("\"{\\\"response\\\":\\\"hi\\\",\\\"done\\\":false}\"", "x"),
        JobStatus.IN_PROGRESS).text()).isEqualTo("hi");
    assertThat(new StreamChunk(Json.readTree("{\"text\":[\" How\"]}", "x"), null).text()).isEqualTo(" How");
    assertThat(new StreamChunk(Json.readTree("\"raw\"", "x"), null).text()).isEqualTo("raw");
  }
}
