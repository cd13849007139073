package dev.securetag.pdf.internal;

import java.util.List;

/** What one content-stream pass found on a page. imageCoverage is the share of the page covered by images. */
record RawPage(int pageNo, float width, float height, List<Glyph> glyphs, List<Edge> edges, double imageCoverage) {}
