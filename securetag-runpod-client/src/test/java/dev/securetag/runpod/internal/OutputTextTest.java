package dev.securetag.runpod.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.core.internal.Json;
import org.junit.jupiter.api.Test;

class OutputTextTest {

  @Test
  void extractsTextFromEveryWorkerOutputShape() {
    assertThat(OutputText.text(Json.readTree("{\"response\":\"seed\",\"model\":\"m\"}", "t"))).isEqualTo("seed");
    assertThat(OutputText.text(Json.readTree("{\"message\":{\"role\":\"assistant\",\"content\":\"chat\"}}", "t")))
        .isEqualTo("chat");
    assertThat(OutputText.text(Json.readTree("[{\"response\":\"a\"},{\"response\":\"b\"}]", "t"))).isEqualTo("ab");
    assertThat(OutputText.text(Json.readTree("[\"{\\\"response\\\":\\\"x\\\",\\\"done\\\":false}\","
        + "\"{\\\"response\\\":\\\"y\\\",\\\"done\\\":true}\"]", "t"))).isEqualTo("xy");
    assertThat(OutputText.text(Json.readTree("{\"choices\":[{\"message\":{\"content\":\"openai\"}}]}", "t")))
        .isEqualTo("openai");
    assertThat(OutputText.text(Json.readTree("[{\"choices\":[{\"tokens\":[\"leg\",\"acy\"]}],\"usage\":{}}]", "t")))
        .isEqualTo("legacy");
    assertThat(OutputText.text(Json.readTree("\"plain {not json\"", "t"))).isEqualTo("plain {not json");
    assertThat(OutputText.text(Json.readTree("\"{broken json\"", "t"))).isEqualTo("{broken json");
    assertThat(OutputText.text(null)).isEmpty();
  }

  @Test
  void findsTheModelInNestedShapes() {
    assertThat(OutputText.model(Json.readTree("[{\"x\":1},{\"model\":\"m2\"}]", "t"))).contains("m2");
    assertThat(OutputText.model(Json.readTree("[\"{\\\"model\\\":\\\"m3\\\"}\"]", "t"))).contains("m3");
    assertThat(OutputText.model(Json.readTree("{\"x\":1}", "t"))).isEmpty();
  }

  @Test
  void snippetsAreBounded() {
    assertThat(OutputText.snippet("x".repeat(1000))).hasSizeLessThan(350).endsWith("(1000 chars)");
    assertThat(OutputText.tryParseJson("not json")).isEmpty();
  }
}
