package dev.securetag.pdf.internal;

/**
 * An axis-aligned drawn line in top-left page coordinates. Horizontal edges have {@code y0 == y1}; vertical
 * edges {@code x0 == x1}; coordinates are ordered so that {@code x0 <= x1} and {@code y0 <= y1}.
 */
record Edge(float x0, float y0, float x1, float y1) {
  boolean horizontal() {
    return Math.abs(y1 - y0) < Math.abs(x1 - x0);
  }

  float length() {
    return Math.max(x1 - x0, y1 - y0);
  }
}
