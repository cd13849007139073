package dev.securetag.dataset;

/** Input record layouts {@link DatasetMerger} recognises. */
public enum RecordSchema {
  /** {@code instruction} / {@code input} / {@code output}. */
  ALPACA,
  /** {@code conversations} of {@code from} / {@code value} turns. */
  SHAREGPT,
  /** {@code messages} of {@code role} / {@code content} turns (OpenAI chat). */
  MESSAGES,
  /** {@code prompt} / {@code completion}. */
  PROMPT_COMPLETION,
  /** {@code question} / {@code answer}. */
  QUESTION_ANSWER
}
