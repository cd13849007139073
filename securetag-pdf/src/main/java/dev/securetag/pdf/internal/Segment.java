package dev.securetag.pdf.internal;

/**
 * A run of words on one baseline with no wide gap inside: one line of a column, or one cell of a text-aligned
 * table row. Coordinates are top-left based.
 */
record Segment(String text, float x0, float x1, float top, float baseline, float fontSize, boolean bold,
    boolean mono) {
  Segment(String text, float x0, float x1, float top, float baseline, float fontSize, boolean bold) {
    this(text, x0, x1, top, baseline, fontSize, bold, false);
  }

  float width() {
    return x1 - x0;
  }

  Segment withText(String t) {
    return new Segment(t, x0, x1, top, baseline, fontSize, bold, mono);
  }
}
