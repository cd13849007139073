package dev.securetag.dataset;

/** JSONL record layouts {@link JsonlWriter} writes (spec §10.1). */
public enum DatasetFormat {
  /** {@code {"instruction", "input", "output"}} plus the optional {@code metadata} key. */
  ALPACA,
  /** {@code {"conversations": [{"from": "system"|"human"|"gpt", "value": ...}]}} (axolotl, unsloth, augmentoolkit). */
  SHAREGPT,
  /** {@code {"messages": [{"role": "system"|"user"|"assistant", "content": ...}]}} (OpenAI chat fine-tuning). */
  OPENAI_CHAT
}
