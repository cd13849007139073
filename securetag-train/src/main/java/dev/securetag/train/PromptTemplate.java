package dev.securetag.train;

/**
 * The instruction template the trainer fine-tunes on and securetag's Modelfile / GGUF runtime prompts with:
 * {@code ### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n} (the Input block only when the input
 * is non-empty). The response follows directly and ends with the EOS token.
 */
public final class PromptTemplate {
  private PromptTemplate() {}

  /** The prompt for an instruction and optional input (null or blank = none). */
  public static String prompt(String instruction, String input) {
    StringBuilder sb = new StringBuilder("### Instruction:\n").append(instruction).append("\n\n");
    if (input != null && !input.isBlank()) {
      sb.append("### Input:\n").append(input).append("\n\n");
    }
    return sb.append("### Response:\n").toString();
  }
}
