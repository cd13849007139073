package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GenerationConfigTest {
  @Test
  void greedyByDefaultAndRejectsInvalidSampling() {
    GenerationConfig g = GenerationConfig.greedy(5);
    assertThat(g.temperature()).isZero();
    assertThat(g.maxNewTokens()).isEqualTo(5);
    assertThat(g.stopAtEos()).isTrue();
    assertThatThrownBy(() -> GenerationConfig.builder().topP(0).build()).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> GenerationConfig.builder().temperature(-1).build())
        .isInstanceOf(IllegalArgumentException.class);
  }
}
