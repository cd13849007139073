package dev.securetag.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.internal.Json;
import dev.securetag.testfixtures.SharedFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenCounterTest {
  @TempDir Path dir;

  @Test
  void countsWithoutSpecialTokensAndWithoutTruncation() {
    // logits.json lists llama.cpp's ids for each prompt: BOS plus the tokens a counter must see.
    JsonNode prompts = Json.readTree(SharedFixtures.readString("tiny-llama/expected/logits.json"), "logits.json")
        .get("prompts");
    assertThat(prompts).isNotEmpty();
    try (TokenCounter t = TokenCounter.huggingFace(TestTokenizers.tinyLlama())) {
      assertThat(t.exact()).isTrue();
      assertThat(t.count("")).isZero();
      for (JsonNode p : prompts) {
        String text = p.get("text").asText();
        int n = p.get("token_ids").size() - 1;
        assertThat(t.count(text)).as(p.get("id").asText()).isEqualTo(n);
        // DJL truncates at 512 by default; a counter must see everything.
        int copies = 2048 / Math.max(1, n) + 1;
        assertThat(t.count(String.join(" ", Collections.nCopies(copies, text)))).as(p.get("id").asText())
            .isGreaterThan(1024);
      }
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
