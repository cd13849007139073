package dev.securetag.pdf;

import dev.securetag.core.TextBlock;
import java.util.List;

/** The blocks of one document in reading order, with its report. */
public record ExtractedDocument(List<TextBlock> blocks, DocumentReport report) {
  public ExtractedDocument {
    blocks = List.copyOf(blocks);
  }
}
