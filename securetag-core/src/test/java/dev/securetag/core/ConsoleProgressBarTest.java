package dev.securetag.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ConsoleProgressBarTest {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
  private final AtomicLong now = new AtomicLong();

  private String output() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void nonTerminalFallsBackToPeriodicLogLines() {
    try (ConsoleProgressBar bar = ConsoleProgressBar.create(out, false, Duration.ofSeconds(10), now::get)) {
      for (int i = 1; i <= 100; i++) {
        now.addAndGet(1_000_000_000L); // one second per unit
        bar.report("pages", i, 100, "page");
      }
    }
    String[] lines = output().split("\n");
    // First report, then one every 10 s, and always the final one: 1, 11, 21, ..., 91, 100.
    assertThat(lines).hasSize(11);
    assertThat(lines[0]).isEqualTo("pages 1/100 page (1%)");
    assertThat(lines[1]).isEqualTo("pages 11/100 page (11%) 1.1 page/s");
    assertThat(lines[10]).startsWith("pages 100/100 page (100%)");
    assertThat(output()).doesNotContain("\r").doesNotContain("\u001b");
  }

  @Test
  void nonTerminalPrintsEveryPhaseStartAndDetail() {
    try (ConsoleProgressBar bar = ConsoleProgressBar.create(out, false, Duration.ofSeconds(10), now::get)) {
      bar.onProgress(new ProgressListener.Progress("train", 1, -1, "step", "loss 2.31"));
      bar.onProgress(new ProgressListener.Progress("eval", 1, 4, "batch", ""));
    }
    assertThat(output()).isEqualTo("train 1 step loss 2.31\neval 1/4 batch (25%)\n");
  }

  @Test
  void terminalRedrawsInPlaceAndEndsLineOnPhaseEnd() {
    try (ConsoleProgressBar bar = ConsoleProgressBar.create(out, true, Duration.ofSeconds(10), now::get)) {
      for (int i = 1; i <= 4; i++) {
        now.addAndGet(200_000_000L);
        bar.report("chunks", i, 4, "chunk");
      }
      bar.onPhaseEnd("chunks");
    }
    String s = output();
    assertThat(s).startsWith("\rchunks [");
    assertThat(s).contains("[##############################] 4/4 chunk (100%)");
    assertThat(s.chars().filter(c -> c == '\r').count()).isEqualTo(4);
    assertThat(s).endsWith("\n");
  }

  @Test
  void ignoresReportsAfterClose() {
    ConsoleProgressBar bar = ConsoleProgressBar.create(out, false, Duration.ofSeconds(1), now::get);
    bar.close();
    bar.close();
    bar.report("x", 1, 1, "u");
    assertThat(output()).isEmpty();
  }
}
