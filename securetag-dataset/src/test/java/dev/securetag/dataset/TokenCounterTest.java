package dev.securetag.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenCounterTest {
  @TempDir Path dir;

  @Test
  void countsWithoutSpecialTokensAndWithoutTruncation() {
    try (TokenCounter t = TokenCounter.huggingFace(TestTokenizers.tinyLlama(dir))) {
      assertThat(t.exact()).isTrue();
      assertThat(t.count("")).isZero();
      int one = t.count("Hello world");
      assertThat(one).isEqualTo(9); // ▁ H e l lo ▁w or l d: no <s> added
      // DJL truncates at 512 by default; a counter must see everything.
      assertThat(t.count("Hello world ".repeat(300))).isGreaterThan(2000);
    }
  }

  @Test
  void wordPieceBuiltByTheTestCountsSubwords() {
    try (TokenCounter t = TokenCounter.huggingFace(TestTokenizers.wordPiece(dir))) {
      assertThat(t.count("security")).isEqualTo(1);
      assertThat(t.count("xyz")).isEqualTo(3); // x ##y ##z
      assertThat(t.count("security, control.")).isEqualTo(4);
    }
  }

  @Test
  void closedCounterRejectsUse() {
    TokenCounter t = TokenCounter.huggingFace(TestTokenizers.wordPiece(dir));
    t.close();
    t.close();
    assertThatThrownBy(() -> t.count("x")).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void malformedTokenizerFileIsInvalidInput() throws Exception {
    Path bad = Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": 42}");
    assertThatThrownBy(() -> TokenCounter.huggingFace(bad)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("tokenizer.json");
  }

  @Test
  void estimateRoundsCodePointsUp() {
    TokenCounter e = TokenCounter.estimate(4.0);
    assertThat(e.exact()).isFalse();
    assertThat(e.count("abcde")).isEqualTo(2);
    assertThat(e.count("日本語")).isEqualTo(1);
    assertThat(TokenCounter.estimate().count("abcdef")).isEqualTo(2);
    assertThatThrownBy(() -> TokenCounter.estimate(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
