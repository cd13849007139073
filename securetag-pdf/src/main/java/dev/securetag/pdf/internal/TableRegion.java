package dev.securetag.pdf.internal;

import java.util.List;

/**
 * A table found on a page: its bounding box (top-left coordinates), the x positions of its column boundaries
 * (used to recognise a continuation on the next page) and its cell texts, header row first.
 */
record TableRegion(float x0, float top, float x1, float bottom, List<Float> columnXs, List<List<String>> rows,
    boolean ruled) {}
