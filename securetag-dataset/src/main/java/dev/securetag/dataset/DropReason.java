package dev.securetag.dataset;

/** Why a generated pair (or a whole LLM response) was not kept; every drop is counted in a {@link GenerationReport}. */
public enum DropReason {
  /** The LLM call failed after all retries (the whole chunk produced nothing). */
  REQUEST_FAILED,
  /** No question/answer pair could be recovered from the response text. */
  PARSE_FAILURE,
  /** An element of the response had no recognisable question or answer field. */
  MISSING_FIELDS,
  EMPTY_QUESTION,
  EMPTY_ANSWER,
  /** The answer repeats the question instead of answering it. */
  ANSWER_COPIES_QUESTION,
  /** Too few of the answer's content words occur in the source chunk. */
  NOT_GROUNDED,
  /** The same question was already generated for this chunk. */
  DUPLICATE_QUESTION,
  /** The judge's rating could not be parsed even when the pair was rated alone. */
  JUDGE_FAILED,
  /** The judge rated the pair below the threshold. */
  BELOW_JUDGE_THRESHOLD
}
