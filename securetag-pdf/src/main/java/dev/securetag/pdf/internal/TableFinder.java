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
