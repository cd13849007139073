package dev.securetag.core;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import dev.securetag.core.internal.Hashing;
import org.immutables.value.Value;

/**
 * A token-bounded piece of a document, the unit sent to the QA generator. Chunks of one document are numbered in
 * order by {@link #index()}; the {@link #id()} is a content hash so caches survive re-runs.
 */
@Value.Immutable
@SecuretagStyle
@JsonSerialize(as = ImmutableChunk.class)
@JsonDeserialize(builder = Chunk.Builder.class)
public interface Chunk {

  /** The chunk text, without any context prefix. */
  String text();

  /** Document, first and last page, and the section path of the first block in the chunk. */
  SourceRef source();

  /** Position of this chunk among the chunks of its document, from 0. */
  int index();

  /** Tokens in {@link #text()}. */
  int tokenCount();

  /** True when {@link #tokenCount()} comes from the model's tokenizer, false when it is a chars-per-token estimate. */
  default boolean tokenCountExact() {
    return true;
  }

  /** True when the chunk is (part of) a table. */
  default boolean table() {
    return false;
  }

  /** Content hash (SHA-256 hex of document, section and text) identifying this chunk across runs. */
  @Value.Derived
  default String id() {
    return Hashing.sha256Hex(source().document() + '\u0000' + source().section() + '\u0000' + text());
  }

  /** The text prefixed with its section path as context, e.g. for prompts. */
  @JsonIgnore
  default String textWithContext() {
    String section = source().section();
    return section.isEmpty() ? text() : "[" + section + "]\n" + text();
  }

  @Value.Check
  default void check() {
    if (text().isBlank()) {
      throw new IllegalArgumentException("Chunk.text must not be blank (" + source().document() + ")");
    }
    if (tokenCount() < 0 || index() < 0) {
      throw new IllegalArgumentException("Chunk.tokenCount and Chunk.index must be >= 0");
    }
  }

  static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link Chunk}. */
  final class Builder extends ImmutableChunk.Builder {}
}
