package dev.securetag.dataset;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.core.TrainingExample;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DatasetStatsTest {
  private static TrainingExample ex(String src, int outputChars) {
    return TrainingExample.builder().instruction("abc").output("y".repeat(outputChars)).putMetadata("source", src)
        .build();
  }

  @Test
  void countsSplitsHistogramAndSources() {
    Map<String, List<TrainingExample>> splits = new LinkedHashMap<>();
    splits.put("train", List.of(ex("a.pdf", 3), ex("a.pdf", 300), ex("b.pdf", 9000)));
    splits.put("validation", List.of(ex("c.pdf", 30)));
    DatasetStats s = DatasetStats.of(splits, TokenCounter.estimate(3.0));
    assertThat(s.total()).isEqualTo(4);
    DatasetStats.SplitStats train = s.splits().get("train");
    // 1 + 1, 1 + 100, 1 + 3000 tokens with 3 chars per token.
    assertThat(train.minTokens()).isEqualTo(2);
    assertThat(train.medianTokens()).isEqualTo(101);
    assertThat(train.maxTokens()).isEqualTo(3001);
    assertThat(train.histogram()).containsExactly(1, 1, 0, 0, 0, 0, 1);
    assertThat(s.perSource()).containsExactly(Map.entry("a.pdf", 2), Map.entry("b.pdf", 1), Map.entry("c.pdf", 1));
    assertThat(s.exactTokens()).isFalse();
    String text = s.format();
    assertThat(text).contains("Dataset: 4 examples (token lengths estimated)")
        .contains("train").contains("validation").contains(">=2048").contains("a.pdf");
  }

  @Test
  void emptySplitPrintsZeros() {
    DatasetStats s = DatasetStats.of(List.of(), TokenCounter.estimate());
    assertThat(s.total()).isZero();
    assertThat(s.toString()).contains("all");
  }
}
