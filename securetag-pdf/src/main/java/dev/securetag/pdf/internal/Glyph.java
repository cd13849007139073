package dev.securetag.pdf.internal;

/**
 * One glyph in top-left page coordinates (y grows downwards), as PDFBox reports it after the crop box offset.
 *
 * @param top y of the glyph's top edge
 * @param baseline y of the baseline
 * @param mono set in a fixed-pitch (typewriter) font: code, console output
 */
record Glyph(String text, float x, float top, float baseline, float width, float fontSize, boolean bold,
    boolean mono) {
  Glyph(String text, float x, float top, float baseline, float width, float fontSize, boolean bold) {
    this(text, x, top, baseline, width, fontSize, bold, false);
  }

  float right() {
    return x + width;
  }

  float centerX() {
    return x + width / 2f;
  }

  float centerY() {
    return (top + baseline) / 2f;
  }

  boolean isSpace() {
    // Almost every glyph is one character: skip String.isBlank's general loop, which shows in profiles.
    return text.length() == 1 ? Character.isWhitespace(text.charAt(0)) : text.isBlank();
  }
}
