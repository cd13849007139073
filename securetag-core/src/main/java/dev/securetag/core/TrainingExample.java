package dev.securetag.core;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.Map;
import org.immutables.value.Value;

/**
 * One supervised fine-tuning record in Alpaca form: {@code instruction}, optional {@code input} context and the
 * expected {@code output}, plus free-form {@code metadata} ({@code source}, {@code page}, {@code section}, ...).
 * Serialises to exactly the Alpaca JSONL line the trainer reads.
 */
@Value.Immutable
@SecuretagStyle
@JsonSerialize(as = ImmutableTrainingExample.class)
@JsonDeserialize(builder = TrainingExample.Builder.class)
@JsonPropertyOrder({"instruction", "input", "output", "metadata"})
public interface TrainingExample {

  String instruction();

  /** Context for the instruction; "" when there is none (Alpaca convention). */
  default String input() {
    return "";
  }

  String output();

  /** Extra keys written under {@code metadata}; omitted from JSON when empty. */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  Map<String, Object> metadata();

  @Value.Check
  default void check() {
    if (instruction().isBlank()) {
      throw new IllegalArgumentException("TrainingExample.instruction must not be blank");
    }
    if (output().isBlank()) {
      throw new IllegalArgumentException("TrainingExample.output must not be blank");
    }
  }

  /** The Alpaca record for a generated pair, with {@code source}, {@code page} and provenance metadata. */
  static TrainingExample fromQaPair(QaPair pair) {
    Builder b = builder().instruction(pair.question()).output(pair.answer());
    SourceRef src = pair.source();
    b.putMetadata("source", src.document());
    b.putMetadata("page", src.page());
    if (src.lastPage() != src.page()) {
      b.putMetadata("pages", java.util.List.of(src.page(), src.lastPage()));
    }
    if (!src.sectionPath().isEmpty()) {
      b.putMetadata("section", src.section());
    }
    b.putMetadata("chunk_id", pair.chunkId());
    pair.language().ifPresent(l -> b.putMetadata("lang", l));
    pair.generator().ifPresent(m -> b.putMetadata("model", m));
    pair.judgeScore().ifPresent(s -> b.putMetadata("judge_score", s));
    return b.build();
  }

  static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link TrainingExample}. */
  final class Builder extends ImmutableTrainingExample.Builder {}
}
