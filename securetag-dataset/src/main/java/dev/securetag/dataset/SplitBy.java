package dev.securetag.dataset;

/**
 * What unit is assigned to train or validation as a whole. Splitting by document (or section) keeps near-duplicate
 * pairs from one source out of both splits, so validation loss measures generalisation rather than recall.
 */
public enum SplitBy {
  /** Metadata {@code source}: no document appears in both splits (default). */
  DOCUMENT,
  /** Metadata {@code source} + {@code section}. */
  SECTION,
  /** Each example on its own. */
  EXAMPLE
}
