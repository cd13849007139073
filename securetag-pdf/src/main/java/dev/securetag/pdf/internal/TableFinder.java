package dev.securetag.pdf.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Ruled-table detection from drawn lines, after pdfplumber's "lines" strategy: snap nearly-equal parallel edges,
 * join collinear pieces, intersect horizontals with verticals, take the smallest rectangles whose corners are
 * connected intersections as cells, group cells sharing corners into tables, and put each glyph into the cell that
 * holds its centre.
 */
final class TableFinder {

  static final float SNAP = 3f;
  static final float JOIN = 3f;
  static final float MIN_EDGE = 3f;
  static final float INTERSECT = 3f;

  private TableFinder() {}

  /** Result: the tables and the glyphs that fell into no table. */
  record Found(List<TableRegion> tables, List<Glyph> rest) {}

  static Found find(List<Edge> edges, List<Glyph> glyphs) {
    Found grid = grid(edges, glyphs);
    if (edges.size() < 2) {
      return grid;
    }
    Found rules = ruledRows(edges, grid.rest());
    if (rules.tables().isEmpty()) {
      return grid;
    }
    List<TableRegion> all = new ArrayList<>(grid.tables());
    all.addAll(rules.tables());
    all.sort(Comparator.comparingDouble(TableRegion::top));
    return new Found(all, rules.rest());
  }

  /**
   * Tables with horizontal rules only (LaTeX booktabs: a rule above, one below the header, one at the bottom; no
   * vertical lines; numbers often right-aligned): rows are the text lines between the first and the last of rules
   * of equal extent, columns the vertical strips of white space that no row crosses.
   */
  static Found ruledRows(List<Edge> edges, List<Glyph> glyphs) {
    List<Edge> hs = new ArrayList<>();
    List<Edge> vs = new ArrayList<>();
    for (Edge e : edges) {
      if (e.length() >= 20f && e.horizontal()) {
        hs.add(e);
      } else if (!e.horizontal() && e.length() >= MIN_EDGE) {
        vs.add(e);
      }
    }
    // Lines that meet a vertical line belong to a ruled grid (handled by grid()) or a frame, not to booktabs rules.
    hs.removeIf(h -> {
      for (Edge v : vs) {
        if (v.x0() >= h.x0() - INTERSECT && v.x0() <= h.x1() + INTERSECT && h.y0() >= v.y0() - INTERSECT
            && h.y0() <= v.y1() + INTERSECT) {
          return true;
        }
      }
      return false;
    });
    if (hs.size() < 2) {
      return new Found(List.of(), glyphs);
    }
    hs = merge(snap(hs, true), true);
    // Group rules of the same horizontal extent.
    List<List<Edge>> groups = new ArrayList<>();
    for (Edge h : hs) {
      List<Edge> home = null;
      for (List<Edge> g : groups) {
        Edge f = g.get(0);
        if (Math.abs(f.x0() - h.x0()) <= 3f && Math.abs(f.x1() - h.x1()) <= 3f) {
          home = g;
          break;
        }
      }
      if (home == null) {
        home = new ArrayList<>();
        groups.add(home);
      }
      home.add(h);
    }
    List<TableRegion> tables = new ArrayList<>();
    List<Glyph> rest = new ArrayList<>(glyphs);
    for (List<Edge> g : groups) {
      if (g.size() < 2) {
        continue;
      }
      g.sort(Comparator.comparingDouble(Edge::y0));
      // Rules of one extent may frame several tables with prose in between: split where a band is prose.
      int first = 0;
      for (int i = 1; i <= g.size(); i++) {
        boolean end = i == g.size() || proseBand(rest, g.get(0).x0(), g.get(0).x1(), g.get(i - 1).y0(), g.get(i).y0());
        if (!end) {
          continue;
        }
        if (i - 1 > first) {
          rest = tableBetween(g.get(first), g.get(i - 1), vs, rest, tables);
        }
        first = i;
      }
    }
    return new Found(tables, rest);
  }

  /** Glyphs between two rules are prose when most of their lines fill the width in one run. */
  private static boolean proseBand(List<Glyph> glyphs, float x0, float x1, float top, float bottom) {
    List<Glyph> inside = new ArrayList<>();
    for (Glyph gl : glyphs) {
      if (gl.centerX() >= x0 - 1 && gl.centerX() <= x1 + 1 && gl.centerY() > top && gl.centerY() < bottom) {
        inside.add(gl);
      }
    }
    int lines = 0;
    int prose = 0;
    for (List<Glyph> line : LineBuilder.lines(inside)) {
      Glyph prev = null;
      int runs = 0;
      float a = Float.MAX_VALUE;
      float b = -Float.MAX_VALUE;
      for (Glyph g : line) {
        if (g.isSpace()) {
          continue;
        }
        if (prev == null || g.x() - prev.right() > 0.8f * Math.max(g.fontSize(), prev.fontSize())) {
          runs++;
        }
        a = Math.min(a, g.x());
        b = Math.max(b, g.right());
        prev = g;
      }
      if (runs == 0) {
        continue;
      }
      lines++;
      if (runs == 1 && b - a >= 0.7f * (x1 - x0)) {
        prose++;
      }
    }
    return lines > 0 && prose * 2 >= lines;
  }

  /** Adds the table between two rules of equal extent, if there is one, and returns the glyphs left over. */
  private static List<Glyph> tableBetween(Edge first, Edge last, List<Edge> vs, List<Glyph> rest,
      List<TableRegion> tables) {
    float x0 = first.x0();
    float x1 = first.x1();
    float top = first.y0();
    float bottom = last.y0();
    if (bottom - top < 8f) {
      return rest;
    }
    for (Edge v : vs) {
      if (v.x0() > x0 - 2 && v.x0() < x1 + 2 && v.y1() > top + 2 && v.y0() < bottom - 2) {
        return rest;
      }
    }
    List<Glyph> inside = new ArrayList<>();
    List<Glyph> outside = new ArrayList<>();
    for (Glyph gl : rest) {
      float cx = gl.centerX();
      float cy = gl.centerY();
      (cx >= x0 - 1 && cx <= x1 + 1 && cy > top && cy < bottom ? inside : outside).add(gl);
    }
    TableRegion t = rowsAndColumns(inside, x0, top, x1, bottom);
    if (t == null) {
      return rest;
    }
    tables.add(t);
    return outside;
  }

  /** Cuts the glyphs between two rules into rows (lines) and columns (white strips no row crosses). */
  private static TableRegion rowsAndColumns(List<Glyph> glyphs, float x0, float top, float x1, float bottom) {
    List<List<Glyph>> lines = LineBuilder.lines(glyphs);
    if (lines.size() < 2) {
      return null;
    }
    // Ink runs per line: words of one cell are closer than 0.8 em, cells further apart (2 x \tabcolsep).
    List<List<float[]>> runs = new ArrayList<>();
    float em = 0;
    for (List<Glyph> line : lines) {
      List<float[]> lr = new ArrayList<>();
      Glyph prev = null;
      for (Glyph g : line) {
        if (g.isSpace()) {
          continue;
        }
        em = Math.max(em, g.fontSize());
        if (prev == null || g.x() - prev.right() > 0.8f * Math.max(g.fontSize(), prev.fontSize())) {
          lr.add(new float[] {g.x(), g.right()});
        } else {
          lr.get(lr.size() - 1)[1] = g.right();
        }
        prev = g;
      }
      if (!lr.isEmpty()) {
        runs.add(lr);
      }
    }
    if (runs.size() < 2) {
      return null;
    }
    // Column separators from the body rows (the header may have cells spanning several columns).
    int from = runs.size() > 2 ? 1 : 0;
    int w = (int) Math.ceil(x1 - x0) + 3;
    int[] cover = new int[w];
    for (int r = from; r < runs.size(); r++) {
      for (float[] run : runs.get(r)) {
        int a = Math.max(0, (int) Math.floor(run[0] - x0) + 1);
        int b = Math.min(w - 1, (int) Math.ceil(run[1] - x0) + 1);
        for (int x = a; x <= b; x++) {
          cover[x]++;
        }
      }
    }
    List<Float> separators = new ArrayList<>();
    int start = -1;
    int firstInk = -1;
    int lastInk = -1;
    for (int x = 0; x < w; x++) {
      if (cover[x] > 0) {
        if (firstInk < 0) {
          firstInk = x;
        }
        lastInk = x;
      }
    }
    for (int x = firstInk; x <= lastInk + 1 && firstInk >= 0; x++) {
      boolean free = x <= lastInk && cover[x] == 0;
      if (free && start < 0) {
        start = x;
      } else if (!free && start >= 0) {
        if (x - start >= Math.max(3f, 0.5f * em)) {
          separators.add(x0 + (start + x) / 2f - 1);
        }
        start = -1;
      }
    }
    if (separators.isEmpty()) {
      return null;
    }
    int cols = separators.size() + 1;
    // The ink extent of each column in the body rows, for placing header cells wider than their column's gap.
    float[] inkLeft = new float[cols];
    float[] inkRight = new float[cols];
    java.util.Arrays.fill(inkLeft, Float.MAX_VALUE);
    java.util.Arrays.fill(inkRight, -Float.MAX_VALUE);
    for (int r = from; r < runs.size(); r++) {
      for (float[] run : runs.get(r)) {
        int c = columnOf(separators, (run[0] + run[1]) / 2);
        inkLeft[c] = Math.min(inkLeft[c], run[0]);
        inkRight[c] = Math.max(inkRight[c], run[1]);
      }
    }
    List<List<String>> rows = new ArrayList<>();
    int full = 0;
    for (List<Glyph> line : lines) {
      List<List<Glyph>> cellGlyphs = new ArrayList<>();
      for (int c = 0; c < cols; c++) {
        cellGlyphs.add(new ArrayList<>());
      }
      boolean any = false;
      List<Glyph> run = new ArrayList<>();
      Glyph prev = null;
      for (Glyph g : line) {
        if (g.isSpace()) {
          if (!run.isEmpty()) {
            run.add(g);
          }
          continue;
        }
        any = true;
        if (prev != null && g.x() - prev.right() > 0.8f * Math.max(g.fontSize(), prev.fontSize())) {
          cellGlyphs.get(place(run, separators, inkLeft, inkRight)).addAll(run);
          run = new ArrayList<>();
        }
        run.add(g);
        prev = g;
      }
      if (!run.isEmpty()) {
        cellGlyphs.get(place(run, separators, inkLeft, inkRight)).addAll(run);
      }
      if (!any) {
        continue;
      }
      List<String> row = new ArrayList<>();
      int filled = 0;
      for (List<Glyph> cg : cellGlyphs) {
        String text = cg.isEmpty() ? "" : LineBuilder.flowText(cg, Set.of());
        row.add(text);
        if (!text.isEmpty()) {
          filled++;
        }
      }
      if (filled >= 2) {
        full++;
      }
      if (!rows.isEmpty() && filled == 1 && row.get(0).isEmpty()) {
        // A wrapped cell: the line continues the row above.
        List<String> above = rows.get(rows.size() - 1);
        for (int c = 0; c < cols; c++) {
          if (!row.get(c).isEmpty()) {
            above.set(c, above.get(c).isEmpty() ? row.get(c) : above.get(c) + " " + row.get(c));
          }
        }
        continue;
      }
      rows.add(row);
    }
    // Prose between two rules (a framed abstract, a theorem) has no white strip shared by its lines.
    if (rows.size() < 2 || full * 2 < rows.size()) {
      return null;
    }
    List<Float> columnXs = new ArrayList<>();
    columnXs.add(x0);
    columnXs.addAll(separators);
    return new TableRegion(x0, top, x1, bottom, columnXs, rows, true);
  }

  private static int columnOf(List<Float> separators, float x) {
    int c = 0;
    while (c < separators.size() && x > separators.get(c)) {
      c++;
    }
    return c;
  }

  /**
   * The column of one cell's glyphs. A cell inside one column belongs to it; a header cell wider than the white
   * strip beside it (a right-aligned "Policies" over narrow numbers) goes to the column whose body it is aligned
   * with, left, right or centre.
   */
  private static int place(List<Glyph> run, List<Float> separators, float[] inkLeft, float[] inkRight) {
    float a = Float.MAX_VALUE;
    float b = -Float.MAX_VALUE;
    for (Glyph g : run) {
      if (!g.isSpace()) {
        a = Math.min(a, g.x());
        b = Math.max(b, g.right());
      }
    }
    int ca = columnOf(separators, a);
    int cb = columnOf(separators, b);
    if (ca == cb) {
      return ca;
    }
    int best = columnOf(separators, (a + b) / 2);
    float bestScore = Float.MAX_VALUE;
    for (int c = ca; c <= cb; c++) {
      if (inkLeft[c] > inkRight[c]) {
        continue;
      }
      float score = Math.min(Math.abs(b - inkRight[c]), Math.min(Math.abs(a - inkLeft[c]),
          Math.abs((a + b) / 2 - (inkLeft[c] + inkRight[c]) / 2)));
      if (score < bestScore) {
        bestScore = score;
        best = c;
      }
    }
    return best;
  }

  /** Tables outlined by drawn lines on every side (pdfplumber's "lines" strategy). */
  private static Found grid(List<Edge> edges, List<Glyph> glyphs) {
    if (edges.size() < 4) {
      return new Found(List.of(), glyphs);
    }
    List<Edge> hs = new ArrayList<>();
    List<Edge> vs = new ArrayList<>();
    for (Edge e : edges) {
      if (e.length() < MIN_EDGE) {
        continue;
      }
      (e.horizontal() ? hs : vs).add(e);
    }
    hs = merge(snap(hs, true), true);
    vs = merge(snap(vs, false), false);
    if (hs.size() < 2 || vs.size() < 2) {
      return new Found(List.of(), glyphs);
    }
    // Intersections, keyed by (x, y) after snapping, with the ids of the edges that pass through them.
    Map<Long, Set<Integer>> vAt = new HashMap<>();
    Map<Long, Set<Integer>> hAt = new HashMap<>();
    TreeMap<Float, TreeSet<Float>> byX = new TreeMap<>();
    TreeMap<Float, TreeSet<Float>> byY = new TreeMap<>();
    for (int vi = 0; vi < vs.size(); vi++) {
      Edge v = vs.get(vi);
      for (int hi = 0; hi < hs.size(); hi++) {
        Edge h = hs.get(hi);
        if (v.x0() >= h.x0() - INTERSECT && v.x0() <= h.x1() + INTERSECT
            && h.y0() >= v.y0() - INTERSECT && h.y0() <= v.y1() + INTERSECT) {
          long k = key(v.x0(), h.y0());
          vAt.computeIfAbsent(k, x -> new HashSet<>()).add(vi);
          hAt.computeIfAbsent(k, x -> new HashSet<>()).add(hi);
          byX.computeIfAbsent(v.x0(), x -> new TreeSet<>()).add(h.y0());
          byY.computeIfAbsent(h.y0(), x -> new TreeSet<>()).add(v.x0());
        }
      }
    }
    List<float[]> cells = new ArrayList<>();
    for (Map.Entry<Float, TreeSet<Float>> col : byX.entrySet()) {
      float x = col.getKey();
      for (float y : col.getValue()) {
        float[] cell = smallestCell(x, y, byX, byY, vAt, hAt);
        if (cell != null) {
          cells.add(cell);
        }
      }
    }
    if (cells.size() < 2) {
      return new Found(List.of(), glyphs);
    }
    List<List<float[]>> groups = group(cells);
    List<TableRegion> tables = new ArrayList<>();
    List<Glyph> rest = new ArrayList<>(glyphs);
    for (List<float[]> g : groups) {
      if (g.size() < 2) {
        continue;
      }
      TableRegion t = build(g, rest);
      if (t != null) {
        tables.add(t);
      }
    }
    tables.sort(Comparator.comparingDouble(TableRegion::top));
    return new Found(tables, rest);
  }

  private static long key(float x, float y) {
    return ((long) Float.floatToIntBits(x) << 32) | (Float.floatToIntBits(y) & 0xffffffffL);
  }

  private static List<Edge> snap(List<Edge> edges, boolean horizontal) {
    List<Edge> sorted = new ArrayList<>(edges);
    sorted.sort(Comparator.comparingDouble(e -> horizontal ? e.y0() : e.x0()));
    List<Edge> out = new ArrayList<>(sorted.size());
    int i = 0;
    while (i < sorted.size()) {
      int j = i;
      double sum = 0;
      float first = horizontal ? sorted.get(i).y0() : sorted.get(i).x0();
      while (j < sorted.size() && (horizontal ? sorted.get(j).y0() : sorted.get(j).x0()) - first <= SNAP) {
        sum += horizontal ? sorted.get(j).y0() : sorted.get(j).x0();
        j++;
      }
      float pos = (float) (sum / (j - i));
      for (int k = i; k < j; k++) {
        Edge e = sorted.get(k);
        out.add(horizontal ? new Edge(e.x0(), pos, e.x1(), pos) : new Edge(pos, e.y0(), pos, e.y1()));
      }
      i = j;
    }
    return out;
  }

  private static List<Edge> merge(List<Edge> edges, boolean horizontal) {
    List<Edge> sorted = new ArrayList<>(edges);
    sorted.sort(horizontal
        ? Comparator.comparingDouble(Edge::y0).thenComparingDouble(Edge::x0)
        : Comparator.comparingDouble(Edge::x0).thenComparingDouble(Edge::y0));
    List<Edge> out = new ArrayList<>();
    Edge cur = null;
    for (Edge e : sorted) {
      if (cur != null && horizontal && e.y0() == cur.y0() && e.x0() <= cur.x1() + JOIN) {
        cur = new Edge(cur.x0(), cur.y0(), Math.max(cur.x1(), e.x1()), cur.y0());
      } else if (cur != null && !horizontal && e.x0() == cur.x0() && e.y0() <= cur.y1() + JOIN) {
        cur = new Edge(cur.x0(), cur.y0(), cur.x0(), Math.max(cur.y1(), e.y1()));
      } else {
        if (cur != null) {
          out.add(cur);
        }
        cur = e;
      }
    }
    if (cur != null) {
      out.add(cur);
    }
    return out;
  }

  private static boolean shares(Set<Integer> a, Set<Integer> b) {
    if (a == null || b == null) {
      return false;
    }
    for (Integer i : a) {
      if (b.contains(i)) {
        return true;
      }
    }
    return false;
  }

  private static float[] smallestCell(float x, float y, TreeMap<Float, TreeSet<Float>> byX,
      TreeMap<Float, TreeSet<Float>> byY, Map<Long, Set<Integer>> vAt, Map<Long, Set<Integer>> hAt) {
    long p = key(x, y);
    for (float by : byX.get(x).tailSet(y, false)) {
      long b = key(x, by);
      if (!shares(vAt.get(p), vAt.get(b))) {
        continue;
      }
      for (float rx : byY.get(y).tailSet(x, false)) {
        long r = key(rx, y);
        if (!shares(hAt.get(p), hAt.get(r))) {
          continue;
        }
        long br = key(rx, by);
        if (vAt.containsKey(br) && shares(vAt.get(br), vAt.get(r)) && shares(hAt.get(br), hAt.get(b))) {
          return new float[] {x, y, rx, by};
        }
      }
    }
    return null;
  }

  private static List<List<float[]>> group(List<float[]> cells) {
    int n = cells.size();
    int[] parent = new int[n];
    for (int i = 0; i < n; i++) {
      parent[i] = i;
    }
    Map<Long, Integer> corner = new HashMap<>();
    for (int i = 0; i < n; i++) {
      float[] c = cells.get(i);
      for (long k : new long[] {key(c[0], c[1]), key(c[2], c[1]), key(c[0], c[3]), key(c[2], c[3])}) {
        Integer other = corner.putIfAbsent(k, i);
        if (other != null) {
          union(parent, i, other);
        }
      }
    }
    Map<Integer, List<float[]>> groups = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      groups.computeIfAbsent(findRoot(parent, i), x -> new ArrayList<>()).add(cells.get(i));
    }
    return new ArrayList<>(groups.values());
  }

  private static int findRoot(int[] parent, int i) {
    while (parent[i] != i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  }

  private static void union(int[] parent, int a, int b) {
    parent[findRoot(parent, a)] = findRoot(parent, b);
  }

  private static TableRegion build(List<float[]> cells, List<Glyph> rest) {
    TreeSet<Float> xs = new TreeSet<>();
    TreeSet<Float> ys = new TreeSet<>();
    float x0 = Float.MAX_VALUE;
    float y0 = Float.MAX_VALUE;
    float x1 = -Float.MAX_VALUE;
    float y1 = -Float.MAX_VALUE;
    for (float[] c : cells) {
      xs.add(c[0]);
      ys.add(c[1]);
      x0 = Math.min(x0, c[0]);
      y0 = Math.min(y0, c[1]);
      x1 = Math.max(x1, c[2]);
      y1 = Math.max(y1, c[3]);
    }
    List<Float> colXs = new ArrayList<>(xs);
    List<Float> rowYs = new ArrayList<>(ys);
    Map<Float, Integer> rowIndex = new HashMap<>();
    Map<Float, Integer> colIndex = new HashMap<>();
    for (int i = 0; i < rowYs.size(); i++) {
      rowIndex.put(rowYs.get(i), i);
    }
    for (int i = 0; i < colXs.size(); i++) {
      colIndex.put(colXs.get(i), i);
    }
    @SuppressWarnings("unchecked")
    List<Glyph>[][] grid = new List[rowYs.size()][colXs.size()];
    List<Glyph> stay = new ArrayList<>(rest.size());
    for (Glyph g : rest) {
      float cx = g.centerX();
      float cy = g.centerY();
      if (cx < x0 || cx > x1 || cy < y0 || cy > y1) {
        stay.add(g);
        continue;
      }
      float[] hit = null;
      for (float[] c : cells) {
        if (cx >= c[0] && cx <= c[2] && cy >= c[1] && cy <= c[3]) {
          hit = c;
          break;
        }
      }
      if (hit == null) {
        stay.add(g);
        continue;
      }
      int r = rowIndex.get(hit[1]);
      int c = colIndex.get(hit[0]);
      if (grid[r][c] == null) {
        grid[r][c] = new ArrayList<>();
      }
      grid[r][c].add(g);
    }
    List<List<String>> rows = new ArrayList<>();
    boolean[] usedCol = new boolean[colXs.size()];
    for (int r = 0; r < rowYs.size(); r++) {
      List<String> row = new ArrayList<>();
      boolean any = false;
      for (int c = 0; c < colXs.size(); c++) {
        String text = grid[r][c] == null ? "" : LineBuilder.flowText(grid[r][c], Set.of());
        row.add(text);
        if (!text.isEmpty()) {
          any = true;
          usedCol[c] = true;
        }
      }
      if (any) {
        rows.add(row);
      }
    }
    List<List<String>> compact = new ArrayList<>();
    for (List<String> row : rows) {
      List<String> kept = new ArrayList<>();
      for (int c = 0; c < row.size(); c++) {
        if (usedCol[c]) {
          kept.add(row.get(c));
        }
      }
      compact.add(kept);
    }
    List<Float> keptXs = new ArrayList<>();
    for (int c = 0; c < colXs.size(); c++) {
      if (usedCol[c]) {
        keptXs.add(colXs.get(c));
      }
    }
    // One ruled row with several columns is still a table: typically a header row orphaned at the foot of a page,
    // joined with its continuation on the next page.
    if (keptXs.size() < 2 || compact.isEmpty()) {
      return null;
    }
    rest.clear();
    rest.addAll(stay);
    return new TableRegion(x0, y0, x1, y1, keptXs, compact, true);
  }
}
