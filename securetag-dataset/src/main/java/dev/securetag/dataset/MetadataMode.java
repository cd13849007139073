package dev.securetag.dataset;

/** Where {@link JsonlWriter} puts each record's metadata ({@code source}, {@code page}, {@code section}, ...). */
public enum MetadataMode {
  /** One extra top-level {@code metadata} key on every line (the default). */
  INLINE,
  /**
   * Pure records, and a sidecar file {@code <name>.metadata.jsonl} beside each data file with one metadata object
   * per line in the same order, for trainers that reject unknown keys.
   */
  SIDECAR,
  /** No metadata at all. */
  NONE
}
