package dev.securetag.core;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * One unit of extracted document content in reading order: a heading, a paragraph, a list item, a table or OCR
 * text, with the {@link SourceRef} it came from. This is what {@code PdfCorpus} produces and the
 * {@code Chunker} consumes.
 */
@Value.Immutable
@SecuretagStyle
@JsonSerialize(as = ImmutableTextBlock.class)
@JsonDeserialize(builder = TextBlock.Builder.class)
public interface TextBlock {

  BlockKind kind();

  /** The text; for a table, its Markdown rendering. */
  String text();

  SourceRef source();

  /** Cells, present exactly when {@link #kind()} is {@link BlockKind#TABLE}. */
  Optional<Table> table();

  /** Heading level (1 = outermost) for headings; 0 otherwise. */
  default int level() {
    return 0;
  }

  @Value.Check
  default void check() {
    if ((kind() == BlockKind.TABLE) != table().isPresent()) {
      throw new IllegalArgumentException(
          "TextBlock.table must be present exactly for TABLE blocks (kind " + kind() + ", "
              + source().document() + " p." + source().page() + ")");
    }
  }

  static TextBlock of(BlockKind kind, String text, SourceRef source) {
    return builder().kind(kind).text(text).source(source).build();
  }

  /** A table block whose text is the table's Markdown rendering. */
  static TextBlock ofTable(Table table, SourceRef source) {
    return builder().kind(BlockKind.TABLE).text(table.toMarkdown()).table(table).source(source).build();
  }

  static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link TextBlock}. */
  final class Builder extends ImmutableTextBlock.Builder {}
}
