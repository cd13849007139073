package dev.securetag.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecuretagPipelineTest {
  @TempDir Path dir;

  @Test
  void runsOnTheEmbeddedDefaultAndPrintsSummary() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream ps = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    Map<String, String> summary = new SecuretagPipeline(SecuretagPipeline.Options.parse(new String[] {"--out", dir.toString()}), ps).run();
    assertThat(summary).containsKeys("java", "tesseract", "output");
    assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("== securetag summary");
  }

  @Test
  void rejectsUnknownOption() {
    assertThatThrownBy(() -> SecuretagPipeline.Options.parse(new String[] {"--bogus"}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--bogus");
  }
}
