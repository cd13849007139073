package dev.securetag.gguf.runtime;

/**
 * How chat messages become the model's prompt. {@link #AUTO} picks the format that matches the GGUF's
 * {@code tokenizer.chat_template} (Llama-2 {@code [INST]}, Llama-3 headers or ChatML) and falls back to {@link #RAW};
 * the runtime does not execute Jinja, it recognises these families.
 */
public enum PromptFormat {
  /** Detect from the model's chat template. */
  AUTO,
  /** Message contents joined by blank lines, BOS first: plain completion. */
  RAW,
  /** {@code ### Instruction:\n...\n\n### Response:\n}, the format securetag's trainer fine-tunes on. */
  INSTRUCTION,
  /** {@code <s>[INST] <<SYS>>...<</SYS>> user [/INST] answer</s>}. */
  LLAMA2,
  /** {@code <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>}. */
  LLAMA3,
  /** {@code <|im_start|>role\n...<|im_end|>}. */
  CHATML
}
