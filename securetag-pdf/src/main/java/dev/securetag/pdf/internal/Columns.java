package dev.securetag.pdf.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Finds the gutters of a multi-column page (two-column papers, three-column reference cards) from the glyphs
 * themselves. Working on glyphs rather than on segments matters: LaTeX's default gutter is 10 pt, about one em,
 * so a justified line of the left column and the line beside it in the right column are often closer than the gap
 * that splits a line into segments, and segment-level detection sees one long line crossing the page.
 */
final class Columns {

  private Columns() {}

  /** An ink run: part of one line whose glyphs follow each other without a gap wider than half an em. */
  private record Run(float x0, float x1, float size) {
    float width() {
      return x1 - x0;
    }
  }

  /**
   * The x positions of the page's column gutters, left to right; empty for a single-column page. A gutter is a
   * vertical strip that (almost) no line crosses, with lines of prose ending close to it on the left and starting
   * close to it on the right.
   */
  static float[] gutters(List<List<Glyph>> lines, float width) {
    if (lines.size() < 8 || width <= 0) {
      return new float[0];
    }
    List<Run> runs = new ArrayList<>();
    List<Float> sizes = new ArrayList<>();
    for (List<Glyph> line : lines) {
      Glyph first = null;
      Glyph prev = null;
      float size = 0;
      for (Glyph g : line) {
        if (g.isSpace()) {
          continue;
        }
        // Justified word spaces in a narrow column stretch to most of an em; a gutter is an em or more.
        if (prev != null && g.x() - prev.right() > 0.8f * Math.max(g.fontSize(), prev.fontSize())) {
          runs.add(new Run(first.x(), prev.right(), size));
          first = null;
          size = 0;
        }
        if (first == null) {
          first = g;
        }
        size = Math.max(size, g.fontSize());
        prev = g;
      }
      if (first != null) {
        runs.add(new Run(first.x(), prev.right(), size));
        sizes.add(size);
      }
    }
    if (runs.size() < 8) {
      return new float[0];
    }
    sizes.sort(null);
    float em = Math.max(4f, sizes.get(sizes.size() / 2));
    int w = (int) Math.ceil(width) + 1;
    int[] cover = new int[w];
    for (Run r : runs) {
      int a = Math.max(0, (int) Math.floor(r.x0()));
      int b = Math.min(w - 1, (int) Math.ceil(r.x1()));
      for (int x = a; x <= b; x++) {
        cover[x]++;
      }
    }
    // Titles, full-width figures and tables may cross a gutter; a few such lines must not hide it.
    int allowance = Math.max(3, lines.size() / 8);
    int lo = (int) (width * 0.12f);
    int hi = (int) (width * 0.88f);
    List<float[]> candidates = new ArrayList<>();
    int start = -1;
    for (int x = lo; x <= hi + 1; x++) {
      boolean free = x <= hi && cover[x] <= allowance;
      if (free && start < 0) {
        start = x;
      } else if (!free && start >= 0) {
        if (x - start >= 4) {
          // A short column beside a long one is covered by few lines too: keep only the emptiest part.
          int argmin = start;
          for (int i = start; i < x; i++) {
            if (cover[i] < cover[argmin]) {
              argmin = i;
            }
          }
          int limit = cover[argmin] + 1;
          int bestA = argmin;
          int bestEnd = argmin + 1;
          while (bestA > start && cover[bestA - 1] <= limit) {
            bestA--;
          }
          while (bestEnd < x && cover[bestEnd] <= limit) {
            bestEnd++;
          }
          int bestLen = bestEnd - bestA;
          if (bestLen >= 4) {
            candidates.add(score(runs, bestA, bestA + bestLen, em, width));
          }
        }
        start = -1;
      }
    }
    candidates.removeIf(c -> c[2] <= 0);
    candidates.sort(Comparator.comparingDouble((float[] c) -> -c[2]));
    List<Float> accepted = new ArrayList<>();
    for (float[] c : candidates) {
      float g = (c[0] + c[1]) / 2f;
      boolean apart = true;
      for (float a : accepted) {
        if (Math.abs(a - g) < 0.15f * width) {
          apart = false;
        }
      }
      if (apart) {
        accepted.add(g);
      }
    }
    accepted.sort(null);
    if (!accepted.isEmpty() && !columnsHoldProse(runs, accepted, width)) {
      return new float[0];
    }
    float[] out = new float[accepted.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = accepted.get(i);
    }
    return out;
  }

  /** {start, end, score}: score is the number of runs flush against the strip on both sides, or 0 when too few. */
  private static float[] score(List<Run> runs, int start, int end, float em, float width) {
    int left = 0;
    int right = 0;
    for (Run r : runs) {
      if (r.x1() <= start + 1 && r.x1() >= start - 3 * em && r.width() >= 0.1f * width) {
        left++;
      }
      if (r.x0() >= end - 1 && r.x0() <= end + 2 * em && r.width() >= 0.1f * width) {
        right++;
      }
    }
    return new float[] {start, end, left >= 3 && right >= 3 ? left + right : 0};
  }

  /** Every column between the gutters holds lines of prose: wide runs, not the short cells of a table. */
  private static boolean columnsHoldProse(List<Run> runs, List<Float> gutters, float width) {
    List<Float> edges = new ArrayList<>();
    edges.add(0f);
    edges.addAll(gutters);
    edges.add(width);
    for (int c = 0; c + 1 < edges.size(); c++) {
      float a = edges.get(c);
      float b = edges.get(c + 1);
      List<Float> widths = new ArrayList<>();
      float colLeft = Float.MAX_VALUE;
      float colRight = -Float.MAX_VALUE;
      for (Run r : runs) {
        if (r.x0() >= a - 1 && r.x1() <= b + 1) {
          widths.add(r.width());
          colLeft = Math.min(colLeft, r.x0());
          colRight = Math.max(colRight, r.x1());
        }
      }
      // Some lines of a column may be short (headings, the last line of a paragraph, a small table), but a good
      // share of them fills it.
      int full = 0;
      for (float wd : widths) {
        if (wd >= 0.6f * (colRight - colLeft) && wd >= 0.12f * width) {
          full++;
        }
      }
      if (full < 3 || full * 5 < widths.size()) {
        return false;
      }
    }
    return true;
  }
}
