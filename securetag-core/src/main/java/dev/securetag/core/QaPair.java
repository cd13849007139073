package dev.securetag.core;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.Optional;
import org.immutables.value.Value;

/** A generated question/answer pair with its provenance: the chunk it was derived from and who derived it. */
@Value.Immutable
@SecuretagStyle
@JsonSerialize(as = ImmutableQaPair.class)
@JsonDeserialize(builder = QaPair.Builder.class)
public interface QaPair {

  String question();

  String answer();

  /** Where the chunk the pair was generated from came from. */
  SourceRef source();

  /** {@link Chunk#id()} of the source chunk. */
  String chunkId();

  /** ISO 639-1 language code of the pair ("en", "es"), when known. */
  Optional<String> language();

  /** Model (or "offline" rule set) that generated the pair. */
  Optional<String> generator();

  /** Judge score 1-10 when the pair went through curation. */
  Optional<Double> judgeScore();

  @Value.Check
  default void check() {
    if (question().isBlank()) {
      throw new IllegalArgumentException("QaPair.question must not be blank (chunk " + chunkId() + ")");
    }
    if (answer().isBlank()) {
      throw new IllegalArgumentException("QaPair.answer must not be blank (chunk " + chunkId() + ")");
    }
  }

  static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link QaPair}. */
  final class Builder extends ImmutableQaPair.Builder {}
}
