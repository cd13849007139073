package dev.securetag.runpod.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SecretTest {

  @Test
  void masksItselfAndScrubsEveryOccurrence() {
    Secret s = new Secret("rp_ABCDEF123");
    assertThat(s.toString()).isEqualTo("****");
    assertThat(s.redact("a rp_ABCDEF123 b rp_ABCDEF123")).isEqualTo("a **** b ****");
    assertThat(s.redact(null)).isNull();
    assertThat(s.reveal()).isEqualTo("rp_ABCDEF123");
    assertThat(new Secret("").isEmpty()).isTrue();
  }
}
