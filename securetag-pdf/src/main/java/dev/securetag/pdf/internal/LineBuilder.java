package dev.securetag.pdf.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Groups glyphs into lines by baseline and lines into {@link Segment}s split at wide gaps. */
final class LineBuilder {

  /** A gap wider than this many font sizes separates two segments (columns or table cells). */
  static final float SEGMENT_GAP_EM = 1.1f;
  /** A gap wider than this many font sizes is a word break even without a space glyph. */
  static final float WORD_GAP_EM = 0.18f;

  private LineBuilder() {}

  /** Glyph lines, top to bottom, each sorted left to right (space glyphs kept as word-break hints). */
  static List<List<Glyph>> lines(List<Glyph> glyphs) {
    List<Glyph> sorted = new ArrayList<>(glyphs);
    sorted.sort(Comparator.comparingDouble(Glyph::baseline));
    List<List<Glyph>> lines = new ArrayList<>();
    List<Glyph> cur = null;
    float base = 0;
    float size = 0;
    for (Glyph g : sorted) {
      if (cur == null || Math.abs(g.baseline() - base) > 0.35f * Math.max(size, g.fontSize())) {
        cur = new ArrayList<>();
        lines.add(cur);
        base = g.baseline();
        size = g.fontSize();
      }
      cur.add(g);
      if (!g.isSpace()) {
        size = Math.max(size, g.fontSize());
      }
    }
    for (List<Glyph> l : lines) {
      l.sort(Comparator.comparingDouble(Glyph::x));
    }
    return lines;
  }

  /** Splits one glyph line into segments at gaps wider than {@code gapEm} font sizes. */
  static List<Segment> segments(List<Glyph> line, float gapEm) {
    List<Segment> out = new ArrayList<>();
    StringBuilder text = new StringBuilder();
    Glyph first = null;
    Glyph prev = null;
    boolean spacePending = false;
    float sizeSum = 0;
    int count = 0;
    int boldCount = 0;
    for (Glyph g : line) {
      if (g.isSpace()) {
        spacePending = true;
        continue;
      }
      if (prev != null) {
        if (g.text().equals(prev.text()) && Math.abs(g.x() - prev.x()) < 0.6f) {
          continue;
        }
        float gap = g.x() - prev.right();
        float em = Math.max(prev.fontSize(), g.fontSize());
        if (gap > gapEm * em) {
          out.add(segment(text, first, prev, sizeSum / count, boldCount * 2 > count));
          text.setLength(0);
          first = null;
          sizeSum = 0;
          count = 0;
          boldCount = 0;
          spacePending = false;
        } else if (spacePending || gap > WORD_GAP_EM * em) {
          text.append(' ');
        }
      }
      if (first == null) {
        first = g;
      }
      text.append(g.text());
      sizeSum += g.fontSize();
      count++;
      if (g.bold()) {
        boldCount++;
      }
      prev = g;
      spacePending = false;
    }
    if (first != null) {
      out.add(segment(text, first, prev, sizeSum / count, boldCount * 2 > count));
    }
    mergeLoneMarkers(out);
    return out;
  }

  private static Segment segment(StringBuilder text, Glyph first, Glyph last, float size, boolean bold) {
    return new Segment(TextNormalizer.normalize(text), first.x(), last.right(), first.top(), first.baseline(), size,
        bold);
  }

  /** A bullet set off by a tab stop is part of its item, not a table cell. */
  private static void mergeLoneMarkers(List<Segment> segs) {
    for (int i = 0; i + 1 < segs.size(); i++) {
      Segment s = segs.get(i);
      if (Blocks.isBulletMarker(s.text())) {
        Segment n = segs.get(i + 1);
        segs.set(i, new Segment(s.text() + " " + n.text(), s.x0(), n.x1(), Math.min(s.top(), n.top()), n.baseline(),
            n.fontSize(), n.bold()));
        segs.remove(i + 1);
      }
    }
  }

  /** The text of a set of glyphs read line by line, lines joined with de-hyphenation (cell contents). */
  static String flowText(List<Glyph> glyphs, java.util.Set<String> vocabulary) {
    StringBuilder sb = new StringBuilder();
    for (List<Glyph> line : lines(glyphs)) {
      for (Segment s : segments(line, 1000f)) {
        TextNormalizer.appendLine(sb, s.text(), vocabulary);
      }
    }
    return sb.toString().trim();
  }
}
