package dev.securetag.core;

/** What kind of content a {@link TextBlock} holds. */
public enum BlockKind {
  /** A heading; its text is also the last element of the section path of the blocks that follow. */
  HEADING,
  /** Running text joined from lines. */
  PARAGRAPH,
  /** One bullet or numbered list item, marker kept. */
  LIST_ITEM,
  /** A table; {@link TextBlock#table()} holds its cells and {@link TextBlock#text()} a Markdown rendering. */
  TABLE,
  /** Text recognised by OCR from a page image. */
  OCR_TEXT
}
