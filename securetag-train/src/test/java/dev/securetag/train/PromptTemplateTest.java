package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PromptTemplateTest {
  @Test
  void formatsInstructionWithAndWithoutInputLikeTheModelfile() {
    assertThat(PromptTemplate.prompt("Explain MFA.", ""))
        .isEqualTo("### Instruction:\nExplain MFA.\n\n### Response:\n");
    assertThat(PromptTemplate.prompt("Review this code.", "int x;"))
        .isEqualTo("### Instruction:\nReview this code.\n\n### Input:\nint x;\n\n### Response:\n");
    assertThat(PromptTemplate.prompt("Q", null)).doesNotContain("### Input:");
  }
}
