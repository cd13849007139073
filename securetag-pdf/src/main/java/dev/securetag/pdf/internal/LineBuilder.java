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

  /**
   * Glyph lines, top to bottom, each sorted left to right (space glyphs kept as word-break hints). Glyphs set off
   * their line's baseline (the lowered E and raised A of the LaTeX logo, footnote markers, sub- and superscripts) are
   * kept in the line they belong to instead of forming a line of their own or joining the next one.
   */
  static List<List<Glyph>> lines(List<Glyph> glyphs) {
    List<Glyph> sorted = new ArrayList<>(glyphs);
    sorted.sort(Comparator.comparingDouble(Glyph::baseline));
    // Tight clusters first: glyphs that share a baseline.
    List<Cluster> clusters = new ArrayList<>();
    Cluster cur = null;
    for (Glyph g : sorted) {
      if (cur == null || Math.abs(g.baseline() - cur.base) > TIGHT_EM * Math.max(cur.size, g.fontSize())) {
        cur = new Cluster(g.baseline());
        clusters.add(cur);
      }
      cur.add(g);
    }
    if (clusters.size() > 1) {
      clusters = pieces(clusters);
      attachOffBaseline(clusters);
    }
    // Pieces of one baseline are one line again (segments split it where its gaps are wide).
    List<List<Glyph>> lines = new ArrayList<>(clusters.size());
    Cluster prev = null;
    for (Cluster c : clusters) {
      if (c.target != null) {
        continue;
      }
      if (prev != null && prev.base == c.base) {
        lines.get(lines.size() - 1).addAll(c.glyphs);
      } else {
        lines.add(new ArrayList<>(c.glyphs));
      }
      prev = c;
    }
    for (List<Glyph> l : lines) {
      l.sort(Comparator.comparingDouble(Glyph::x));
    }
    return lines;
  }

  /**
   * Splits each baseline cluster where its glyphs are more than {@link #PIECE_GAP_EM} apart: on a two-column page one
   * baseline holds a line of each column, and a raised glyph must be matched with the line it sits in.
   */
  private static List<Cluster> pieces(List<Cluster> clusters) {
    List<Cluster> out = new ArrayList<>(clusters.size() * 2);
    for (Cluster c : clusters) {
      List<Glyph> byX = c.glyphs;
      for (int i = 1; i < byX.size(); i++) {
        if (byX.get(i).x() < byX.get(i - 1).x()) {
          byX = new ArrayList<>(c.glyphs);
          byX.sort(Comparator.comparingDouble(Glyph::x));
          break;
        }
      }
      if (!hasWideGap(byX)) {
        out.add(c);
        continue;
      }
      Cluster piece = new Cluster(c.base);
      Glyph prev = null;
      for (Glyph g : byX) {
        if (!g.isSpace()) {
          if (prev != null && g.x() - prev.right() > PIECE_GAP_EM * Math.max(g.fontSize(), prev.fontSize())) {
            out.add(piece);
            piece = new Cluster(c.base);
          }
          prev = g;
        }
        piece.add(g);
      }
      out.add(piece);
    }
    return out;
  }

  private static boolean hasWideGap(List<Glyph> byX) {
    Glyph prev = null;
    for (Glyph g : byX) {
      if (g.isSpace()) {
        continue;
      }
      if (prev != null && g.x() - prev.right() > PIECE_GAP_EM * Math.max(g.fontSize(), prev.fontSize())) {
        return true;
      }
      prev = g;
    }
    return false;
  }

  /** A gap this many font sizes wide separates two pieces of text that happen to share a baseline. */
  private static final float PIECE_GAP_EM = 1.5f;

  /** Glyphs whose baselines differ by less than this many font sizes share a baseline. */
  private static final float TIGHT_EM = 0.15f;
  /** Raised or lowered glyphs sit at most this many font sizes of their line off its baseline. */
  private static final float OFFSET_EM = 0.6f;

  /** Glyphs sharing a baseline; {@code target} is the line it was merged into. */
  private static final class Cluster {
    final float base;
    final List<Glyph> glyphs = new ArrayList<>();
    float size;
    int visible;
    float x0 = Float.MAX_VALUE;
    float x1 = -Float.MAX_VALUE;
    Cluster target;

    Cluster(float base) {
      this.base = base;
    }

    void add(Glyph g) {
      glyphs.add(g);
      if (!g.isSpace()) {
        size = Math.max(size, g.fontSize());
        visible++;
        x0 = Math.min(x0, g.x());
        x1 = Math.max(x1, g.right());
      }
    }
  }

  /**
   * Merges each small cluster into a bigger one close above or below it when it lies within that line's extent and
   * none of its glyphs overlaps one of the line's: that is a raised or lowered glyph, not another line of text.
   */
  private static void attachOffBaseline(List<Cluster> clusters) {
    java.util.Map<Cluster, Integer> index = new java.util.IdentityHashMap<>();
    for (int i = 0; i < clusters.size(); i++) {
      index.put(clusters.get(i), i);
    }
    List<Cluster> bySize = new ArrayList<>(clusters);
    bySize.sort(Comparator.comparingInt((Cluster c) -> c.visible));
    for (Cluster c : bySize) {
      if (c.visible == 0 || c.visible > 12) {
        continue;
      }
      int idx = index.get(c);
      Cluster best = null;
      float bestDist = Float.MAX_VALUE;
      for (int d = -8; d <= 8; d++) {
        int j = idx + d;
        if (d == 0 || j < 0 || j >= clusters.size()) {
          continue;
        }
        Cluster m = root(clusters.get(j));
        if (m == c || m.visible <= c.visible || m.size < c.size * 0.95f) {
          continue;
        }
        float dist = Math.abs(m.base - c.base);
        float em = m.size;
        if (dist > OFFSET_EM * em || dist >= bestDist) {
          continue;
        }
        if (c.x0 < m.x0 - em || c.x1 > m.x1 + em || !near(c, m, 0.6f * em) || collides(c, m)) {
          continue;
        }
        best = m;
        bestDist = dist;
      }
      if (best != null) {
        for (Glyph g : c.glyphs) {
          if (!g.isSpace()) {
            // Rebased onto the line so that later steps (segments, rows, headings) see one line.
            float shift = best.base - g.baseline();
            best.glyphs.add(new Glyph(g.text(), g.x(), g.top() + shift, best.base, g.width(), g.fontSize(), g.bold(),
                g.mono()));
          }
        }
        best.visible += c.visible;
        best.x0 = Math.min(best.x0, c.x0);
        best.x1 = Math.max(best.x1, c.x1);
        c.target = best;
      }
    }
  }

  private static Cluster root(Cluster c) {
    while (c.target != null) {
      c = c.target;
    }
    return c;
  }

  /** Whether some glyph of {@code m} is within {@code gap} of a glyph of {@code c}: it sits among m's words. */
  private static boolean near(Cluster c, Cluster m, float gap) {
    for (Glyph g : c.glyphs) {
      if (g.isSpace()) {
        continue;
      }
      for (Glyph h : m.glyphs) {
        if (!h.isSpace() && h.x() - g.right() <= gap && g.x() - h.right() <= gap) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean collides(Cluster c, Cluster m) {
    for (Glyph g : c.glyphs) {
      if (g.isSpace()) {
        continue;
      }
      for (Glyph h : m.glyphs) {
        if (h.isSpace()) {
          continue;
        }
        float overlap = Math.min(g.right(), h.right()) - Math.max(g.x(), h.x());
        // Kerning tucks a raised glyph partly under its neighbour (the small A of the LaTeX logo under the L's arm);
        // a glyph of another line set at a close baseline sits right on top of one.
        float limit = g.fontSize() < 0.8f * h.fontSize() ? 0.9f : 0.7f;
        if (overlap > limit * Math.min(g.width(), h.width()) && overlap > 0.5f) {
          return true;
        }
      }
    }
    return false;
  }

  /** Splits one glyph line into segments at gaps wider than {@code gapEm} font sizes. */
  static List<Segment> segments(List<Glyph> line, float gapEm) {
    return segments(line, gapEm, NO_GUTTERS);
  }

  private static final float[] NO_GUTTERS = new float[0];

  /**
   * Splits one glyph line into segments at gaps wider than {@code gapEm} font sizes, and at any gap of 0.8 em
   * or more that spans one of the page's column {@code gutters}.
   */
  static List<Segment> segments(List<Glyph> line, float gapEm, float[] gutters) {
    List<Segment> out = new ArrayList<>();
    StringBuilder text = new StringBuilder();
    Glyph first = null;
    Glyph prev = null;
    boolean spacePending = false;
    float sizeSum = 0;
    int count = 0;
    int boldCount = 0;
    int monoCount = 0;
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
        if (gap > gapEm * em || (gap >= 0.8f * Math.min(prev.fontSize(), g.fontSize())
            && spansGutter(prev.right(), g.x(), gutters))) {
          out.add(segment(text, first, prev, sizeSum / count, boldCount * 2 > count, monoCount * 10 >= count * 9));
          text.setLength(0);
          first = null;
          sizeSum = 0;
          count = 0;
          boldCount = 0;
          monoCount = 0;
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
      if (g.mono()) {
        monoCount++;
      }
      prev = g;
      spacePending = false;
    }
    if (first != null) {
      out.add(segment(text, first, prev, sizeSum / count, boldCount * 2 > count, monoCount * 10 >= count * 9));
    }
    mergeLoneMarkers(out);
    return out;
  }

  private static boolean spansGutter(float a, float b, float[] gutters) {
    for (float g : gutters) {
      if (a <= g + 1 && b >= g - 1) {
        return true;
      }
    }
    return false;
  }

  private static Segment segment(StringBuilder text, Glyph first, Glyph last, float size, boolean bold,
      boolean mono) {
    return new Segment(TextNormalizer.normalize(text), first.x(), last.right(), first.top(), first.baseline(), size,
        bold, mono);
  }

  /** A bullet set off by a tab stop is part of its item, not a table cell. */
  private static void mergeLoneMarkers(List<Segment> segs) {
    for (int i = 0; i + 1 < segs.size(); i++) {
      Segment s = segs.get(i);
      if (Blocks.isBulletMarker(s.text())) {
        Segment n = segs.get(i + 1);
        segs.set(i, new Segment(s.text() + " " + n.text(), s.x0(), n.x1(), Math.min(s.top(), n.top()), n.baseline(),
            n.fontSize(), n.bold(), n.mono()));
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
