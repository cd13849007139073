package dev.securetag.pdf.internal;

import dev.securetag.core.BlockKind;
import dev.securetag.core.SourceRef;
import dev.securetag.core.Table;
import dev.securetag.core.TextBlock;
import dev.securetag.pdf.internal.DocumentExtractor.OutlineEntry;
import dev.securetag.pdf.internal.DocumentExtractor.PageLayout;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Document-level layout: drops running headers/footers and page numbers, orders each page column by column, finds
 * text-aligned tables, joins lines into paragraphs and list items, recognises headings, tracks the section path
 * (outline first, then numbering and font cues) and joins tables that continue on the next page.
 */
final class Assembler {

  /** Share of the page height, at the top and at the bottom, where running headers and footers live. */
  static final float FURNITURE_BAND = 0.09f;

  private final String document;
  private final List<OutlineEntry> outline;
  private final Set<String> vocabulary;
  private final List<TextBlock> out = new ArrayList<>();
  private final List<Heading> stack = new ArrayList<>();
  private int outlineNext;
  private float bodySize = 10f;
  private float maxSize = 10f;
  private boolean bodyBold;
  private boolean anyHeading;
  private boolean titleCandidate;

  /** One entry of the section path. fontSize is 0 for outline headings. */
  private record Heading(String text, int level, float fontSize, boolean numbered) {}

  /** A line of one column (one or more segments on a baseline) or a table, in reading order. */
  private record Item(List<Segment> row, TableRegion table, float colLeft, float colRight, int column) {
    float top() {
      return table != null ? table.top() : row.get(0).top();
    }
  }

  /** Paragraph, list item or heading being built. */
  private static final class Open {
    BlockKind kind;
    final StringBuilder text = new StringBuilder();
    int page;
    int lastPage;
    float fontSize;
    boolean bold;
    float firstX0;
    float lastX0;
    float lastX1;
    float lastBaseline;
    float colLeft;
    float colRight;
    int column;
    int level;
    List<String> path;
  }

  private Open open;
  private int lastTableIndex = -1;
  private TableRegion lastTable;
  private boolean lastTableEndsPage;

  Assembler(String document, List<OutlineEntry> outline, Set<String> vocabulary) {
    this.document = document;
    this.outline = outline;
    this.vocabulary = vocabulary;
  }

  List<TextBlock> assemble(List<PageLayout> pages) {
    removeFurniture(pages);
    measureBody(pages);
    for (PageLayout page : pages) {
      if (page.ocrParagraphs() != null) {
        flush();
        for (String para : page.ocrParagraphs()) {
          advanceOutline(page.pageNo(), Float.MAX_VALUE);
          int level = Blocks.numberedLevel(para);
          if (level > 0 && Blocks.headingShaped(para, true) && para.split("\\s+").length <= 12) {
            pushHeading(para, level, 0f, true);
            emit(BlockKind.HEADING, para, page.pageNo(), page.pageNo(), path(), level);
          } else {
            emit(BlockKind.OCR_TEXT, para, page.pageNo(), page.pageNo(), path(), 0);
          }
        }
        lastTableEndsPage = false;
        continue;
      }
      List<Item> items = order(page);
      items = borderless(items, page.width());
      boolean first = true;
      for (Item it : items) {
        advanceOutline(page.pageNo(), it.top());
        if (it.table() != null) {
          table(page.pageNo(), it.table(), first);
        } else {
          line(page.pageNo(), it);
          lastTableEndsPage = false;
        }
        first = false;
      }
      lastTableEndsPage = lastTableIndex >= 0 && lastTableIndex == out.size() - 1 && open == null;
      if (open != null && endsSentence(open.text)) {
        flush();
      }
    }
    flush();
    return out;
  }

  // ---------------------------------------------------------------- furniture

  private void removeFurniture(List<PageLayout> pages) {
    int textPages = 0;
    Map<String, Set<Integer>> seen = new HashMap<>();
    for (PageLayout p : pages) {
      if (p.ocrParagraphs() != null) {
        continue;
      }
      textPages++;
      for (Segment s : p.segments()) {
        String band = band(s, p);
        if (band != null) {
          seen.computeIfAbsent(band + Blocks.furnitureKey(s.text()), k -> new HashSet<>()).add(p.pageNo());
        }
      }
    }
    final int k = Math.max(2, Math.min(3, textPages));
    final int pagesWithText = textPages;
    for (PageLayout p : pages) {
      if (p.ocrParagraphs() != null) {
        continue;
      }
      p.segments().removeIf(s -> {
        String band = band(s, p);
        if (band == null) {
          return false;
        }
        if (Blocks.isPageNumber(s.text())) {
          return true;
        }
        Set<Integer> on = seen.get(band + Blocks.furnitureKey(s.text()));
        return pagesWithText >= 2 && on != null && on.size() >= k;
      });
    }
  }

  /**
   * "T|" or "B|" when the segment sits in the top or bottom band of the page and is set apart from the body text
   * (running heads are; the first line of a paragraph is not), else null.
   */
  private static String band(Segment s, PageLayout p) {
    String b = rawBand(s, p);
    if (b == null) {
      return null;
    }
    for (Segment o : p.segments()) {
      if (o != s && rawBand(o, p) == null && Math.abs(o.baseline() - s.baseline()) < 1.5f * s.fontSize()) {
        return null;
      }
    }
    return b;
  }

  private static String rawBand(Segment s, PageLayout p) {
    if (s.baseline() < p.height() * FURNITURE_BAND) {
      return "T|";
    }
    if (s.top() > p.height() * (1 - FURNITURE_BAND)) {
      return "B|";
    }
    return null;
  }

  private void measureBody(List<PageLayout> pages) {
    Map<Integer, Integer> bySize = new HashMap<>();
    long boldChars = 0;
    long chars = 0;
    for (PageLayout p : pages) {
      if (p.ocrParagraphs() != null) {
        continue;
      }
      for (Segment s : p.segments()) {
        bySize.merge(Math.round(s.fontSize() * 2), s.text().length(), Integer::sum);
        chars += s.text().length();
        if (s.bold()) {
          boldChars += s.text().length();
        }
      }
    }
    bySize.entrySet().stream().max(Map.Entry.comparingByValue()).ifPresent(e -> bodySize = e.getKey() / 2f);
    bodyBold = chars > 0 && boldChars * 2 > chars;
    for (PageLayout p : pages) {
      if (p.ocrParagraphs() == null) {
        for (Segment s : p.segments()) {
          maxSize = Math.max(maxSize, s.fontSize());
        }
      }
    }
    int atMax = 0;
    boolean smallerHeadings = false;
    for (PageLayout p : pages) {
      if (p.ocrParagraphs() == null) {
        for (Segment s : p.segments()) {
          if (s.fontSize() >= maxSize - 0.1f) {
            atMax++;
          } else if (s.fontSize() >= bodySize * 1.15f) {
            smallerHeadings = true;
          }
        }
      }
    }
    titleCandidate = atMax <= 2 && smallerHeadings;
  }

  // ---------------------------------------------------------------- reading order

  private List<Item> order(PageLayout page) {
    List<Segment> segs = page.segments();
    float gutter = gutter(segs, page.width());
    List<Object> units = new ArrayList<>(segs);
    units.addAll(page.tables());
    units.sort(Comparator.comparingDouble(Assembler::unitTop));
    List<Item> items = new ArrayList<>();
    if (Float.isNaN(gutter)) {
      addColumn(units, items, 0);
      return items;
    }
    List<Object> left = new ArrayList<>();
    List<Object> right = new ArrayList<>();
    for (Object u : units) {
      float x0 = unitX0(u);
      float x1 = unitX1(u);
      if (x0 < gutter - 2 && x1 > gutter + 2) {
        addColumn(left, items, 1);
        addColumn(right, items, 2);
        left.clear();
        right.clear();
        addColumn(List.of(u), items, 0);
      } else if (x1 <= gutter + 2) {
        left.add(u);
      } else {
        right.add(u);
      }
    }
    addColumn(left, items, 1);
    addColumn(right, items, 2);
    return items;
  }

  private static float unitTop(Object u) {
    return u instanceof Segment s ? s.top() : ((TableRegion) u).top();
  }

  private static float unitX0(Object u) {
    return u instanceof Segment s ? s.x0() : ((TableRegion) u).x0();
  }

  private static float unitX1(Object u) {
    return u instanceof Segment s ? s.x1() : ((TableRegion) u).x1();
  }

  /** Groups one column's units into rows (segments sharing a baseline) and tables, top to bottom. */
  private static void addColumn(List<Object> units, List<Item> items, int column) {
    if (units.isEmpty()) {
      return;
    }
    float left = Float.MAX_VALUE;
    float right = -Float.MAX_VALUE;
    for (Object u : units) {
      left = Math.min(left, unitX0(u));
      right = Math.max(right, unitX1(u));
    }
    List<Segment> segs = new ArrayList<>();
    List<TableRegion> tables = new ArrayList<>();
    for (Object u : units) {
      if (u instanceof Segment s) {
        segs.add(s);
      } else {
        tables.add((TableRegion) u);
      }
    }
    segs.sort(Comparator.comparingDouble(Segment::baseline));
    List<Item> rows = new ArrayList<>();
    List<Segment> cur = null;
    float base = 0;
    for (Segment s : segs) {
      if (cur == null || Math.abs(s.baseline() - base) > 0.4f * s.fontSize()) {
        cur = new ArrayList<>();
        rows.add(new Item(cur, null, left, right, column));
        base = s.baseline();
      }
      cur.add(s);
    }
    for (Item r : rows) {
      r.row().sort(Comparator.comparingDouble(Segment::x0));
    }
    for (TableRegion t : tables) {
      rows.add(new Item(null, t, left, right, column));
    }
    rows.sort(Comparator.comparingDouble(Item::top));
    items.addAll(rows);
  }

  /**
   * Finds the gutter of a two-column page: a vertical strip in the middle half that (almost) no segment crosses,
   * with prose on both sides reaching close to it. NaN when the page is single-column.
   */
  static float gutter(List<Segment> segs, float width) {
    if (segs.size() < 8 || width <= 0) {
      return Float.NaN;
    }
    int w = (int) Math.ceil(width) + 1;
    int[] cover = new int[w];
    for (Segment s : segs) {
      int a = Math.max(0, (int) s.x0());
      int b = Math.min(w - 1, (int) Math.ceil(s.x1()));
      for (int x = a; x <= b; x++) {
        cover[x]++;
      }
    }
    int threshold = Math.max(1, segs.size() / 15);
    int lo = (int) (width * 0.25f);
    int hi = (int) (width * 0.75f);
    int bestStart = -1;
    int bestLen = 0;
    int runStart = -1;
    for (int x = lo; x <= hi + 1; x++) {
      boolean free = x <= hi && cover[x] <= threshold;
      if (free && runStart < 0) {
        runStart = x;
      } else if (!free && runStart >= 0) {
        if (x - runStart > bestLen) {
          bestLen = x - runStart;
          bestStart = runStart;
        }
        runStart = -1;
      }
    }
    if (bestLen < 6) {
      return Float.NaN;
    }
    float g = bestStart + bestLen / 2f;
    List<Float> lw = new ArrayList<>();
    List<Float> rw = new ArrayList<>();
    float leftMax = 0;
    float rightMin = Float.MAX_VALUE;
    for (Segment s : segs) {
      if (s.x1() <= g) {
        lw.add(s.width());
        leftMax = Math.max(leftMax, s.x1());
      } else if (s.x0() >= g) {
        rw.add(s.width());
        rightMin = Math.min(rightMin, s.x0());
      }
    }
    if (lw.size() < 4 || rw.size() < 4) {
      return Float.NaN;
    }
    if (median(lw) < 0.2f * width || median(rw) < 0.2f * width) {
      return Float.NaN;
    }
    if (leftMax < g - 0.1f * width || rightMin > g + 0.1f * width) {
      return Float.NaN;
    }
    return g;
  }

  private static float median(List<Float> v) {
    List<Float> s = new ArrayList<>(v);
    s.sort(null);
    return s.get(s.size() / 2);
  }

  // ---------------------------------------------------------------- borderless tables

  /** Replaces runs of rows whose segments align on common column starts with a text-aligned table. */
  private List<Item> borderless(List<Item> items, float pageWidth) {
    List<Item> result = new ArrayList<>(items.size());
    int i = 0;
    while (i < items.size()) {
      Item it = items.get(i);
      if (it.row() != null && it.row().size() >= 2 && headerLike(it.row())) {
        int end = growTable(items, i);
        if (end > 0) {
          result.add(new Item(null, textTable(items.subList(i, end)), it.colLeft(), it.colRight(), it.column()));
          i = end;
          continue;
        }
      }
      result.add(it);
      i++;
    }
    return result;
  }

  private static boolean headerLike(List<Segment> row) {
    for (Segment s : row) {
      if (s.text().length() > 40 || s.text().split("\\s+").length > 6) {
        return false;
      }
    }
    return true;
  }

  private static final float ALIGN = 4f;

  private static int columnOf(List<Float> anchors, Segment s) {
    for (int c = 0; c < anchors.size(); c++) {
      if (Math.abs(anchors.get(c) - s.x0()) <= ALIGN) {
        return c;
      }
    }
    return -1;
  }

  /** The exclusive end index of a text-aligned table starting at {@code start}, or -1 when there is none. */
  private static int growTable(List<Item> items, int start) {
    List<Float> anchors = new ArrayList<>();
    for (Segment s : items.get(start).row()) {
      anchors.add(s.x0());
    }
    int fullRows = 1;
    int j = start + 1;
    float prevBase = items.get(start).row().get(0).baseline();
    float size = items.get(start).row().get(0).fontSize();
    while (j < items.size()) {
      Item it = items.get(j);
      if (it.row() == null || it.column() != items.get(start).column()) {
        break;
      }
      float gap = it.row().get(0).baseline() - prevBase;
      if (gap > 3.2f * size) {
        break;
      }
      int lastCol = -1;
      boolean aligned = true;
      for (Segment s : it.row()) {
        int c = columnOf(anchors, s);
        if (c <= lastCol) {
          aligned = false;
          break;
        }
        lastCol = c;
      }
      if (!aligned) {
        break;
      }
      boolean hasFirst = columnOf(anchors, it.row().get(0)) == 0;
      if (hasFirst) {
        if (it.row().size() < 2) {
          break;
        }
        fullRows++;
      } else if (gap > 1.8f * size) {
        break;
      }
      prevBase = it.row().get(0).baseline();
      j++;
    }
    return fullRows >= 3 ? j : -1;
  }

  private TableRegion textTable(List<Item> rows) {
    List<Float> anchors = new ArrayList<>();
    for (Segment s : rows.get(0).row()) {
      anchors.add(s.x0());
    }
    List<List<StringBuilder>> cells = new ArrayList<>();
    float x0 = Float.MAX_VALUE;
    float x1 = -Float.MAX_VALUE;
    for (Item it : rows) {
      boolean continuation = columnOf(anchors, it.row().get(0)) != 0;
      if (!continuation) {
        List<StringBuilder> r = new ArrayList<>();
        for (int c = 0; c < anchors.size(); c++) {
          r.add(new StringBuilder());
        }
        cells.add(r);
      }
      List<StringBuilder> r = cells.get(cells.size() - 1);
      for (Segment s : it.row()) {
        TextNormalizer.appendLine(r.get(columnOf(anchors, s)), s.text(), vocabulary);
        x0 = Math.min(x0, s.x0());
        x1 = Math.max(x1, s.x1());
      }
    }
    List<List<String>> out = new ArrayList<>();
    for (List<StringBuilder> r : cells) {
      out.add(r.stream().map(StringBuilder::toString).toList());
    }
    Item last = rows.get(rows.size() - 1);
    return new TableRegion(x0, rows.get(0).top(), x1, last.row().get(0).baseline(), anchors, out, false);
  }

  // ---------------------------------------------------------------- tables

  private void table(int page, TableRegion t, boolean firstOnPage) {
    flush();
    if (firstOnPage && lastTableEndsPage && lastTable != null && sameColumns(lastTable, t)) {
      List<List<String>> rows = new ArrayList<>(lastTable.rows());
      List<List<String>> more = t.rows();
      int from = !more.isEmpty() && more.get(0).equals(rows.get(0)) ? 1 : 0;
      rows.addAll(more.subList(from, more.size()));
      TextBlock prev = out.get(lastTableIndex);
      TableRegion merged = new TableRegion(t.x0(), t.top(), t.x1(), t.bottom(), t.columnXs(), rows, t.ruled());
      SourceRef src = SourceRef.builder().from(prev.source()).lastPage(page).build();
      out.set(lastTableIndex, TextBlock.ofTable(Table.of(rows), src));
      lastTable = merged;
      lastTableEndsPage = false;
      return;
    }
    out.add(TextBlock.ofTable(Table.of(t.rows()), source(page, page, path())));
    lastTableIndex = out.size() - 1;
    lastTable = t;
    lastTableEndsPage = false;
  }

  private static boolean sameColumns(TableRegion a, TableRegion b) {
    if (a.rows().isEmpty() || b.rows().isEmpty() || a.rows().get(0).size() != b.rows().get(0).size()) {
      return false;
    }
    if (a.columnXs().size() != b.columnXs().size()) {
      return false;
    }
    for (int i = 0; i < a.columnXs().size(); i++) {
      if (Math.abs(a.columnXs().get(i) - b.columnXs().get(i)) > 4f) {
        return false;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- lines, paragraphs, headings

  private void line(int page, Item it) {
    List<Segment> row = it.row();
    String text;
    if (row.size() == 1) {
      text = row.get(0).text();
    } else {
      StringBuilder sb = new StringBuilder();
      for (Segment s : row) {
        if (sb.length() > 0) {
          sb.append(' ');
        }
        sb.append(s.text());
      }
      text = sb.toString();
    }
    text = text.trim();
    if (text.isEmpty()) {
      return;
    }
    Segment first = row.get(0);
    Segment last = row.get(row.size() - 1);
    float size = 0;
    boolean bold = true;
    for (Segment s : row) {
      size = Math.max(size, s.fontSize());
      bold &= s.bold();
    }
    int outlineLevel = outlineHeadingLevel(text, page);
    int numbered = Blocks.numberedLevel(text);
    boolean larger = size >= bodySize * 1.15f;
    boolean emphasised = larger || (bold && !bodyBold);
    boolean heading = outlineLevel > 0
        || (emphasised && Blocks.headingShaped(text, numbered > 0) && !Blocks.isListStart(text));
    if (heading) {
      if (open != null && open.kind == BlockKind.HEADING && outlineLevel == 0 && numbered == 0
          && open.page == page && Math.abs(open.fontSize - size) < 0.6f && open.bold == bold
          && first.baseline() - open.lastBaseline <= 1.6f * size && !endsSentence(open.text)) {
        String before = open.text.toString();
        open.text.append(' ').append(text);
        open.lastBaseline = first.baseline();
        String merged = open.text.toString();
        // A heading wrapped over two lines names the section with both lines.
        if (!stack.isEmpty() && stack.get(stack.size() - 1).text().equals(before)) {
          Heading top = stack.remove(stack.size() - 1);
          stack.add(new Heading(merged, top.level(), top.fontSize(), top.numbered()));
        }
        if (!open.path.isEmpty() && open.path.get(open.path.size() - 1).equals(before)) {
          List<String> p = new ArrayList<>(open.path);
          p.set(p.size() - 1, merged);
          open.path = p;
        }
        return;
      }
      flush();
      int level;
      // The first heading of a document in its largest font is the title: a heading, but not a section.
      boolean title = titleCandidate && !anyHeading && outline.isEmpty() && numbered == 0 && size >= maxSize - 0.1f
          && size > bodySize * 1.3f;
      anyHeading = true;
      if (outlineLevel > 0) {
        level = outlineLevel;
      } else if (!outline.isEmpty() || title) {
        level = stack.size() + 1;
      } else if (numbered > 0) {
        level = numbered;
        pushHeading(text, level, size, true);
      } else {
        while (!stack.isEmpty() && stack.get(stack.size() - 1).fontSize() > 0
            && stack.get(stack.size() - 1).fontSize() <= size + 0.1f) {
          stack.remove(stack.size() - 1);
        }
        level = stack.size() + 1;
        stack.add(new Heading(text, level, size, false));
      }
      start(BlockKind.HEADING, text, page, first, last, size, bold, it);
      open.level = level;
      if ((!outline.isEmpty() && outlineLevel == 0) || title) {
        List<String> p = new ArrayList<>(path());
        p.add(text);
        open.path = p;
      }
      return;
    }
    boolean list = Blocks.isListStart(text);
    if (list) {
      flush();
      start(BlockKind.LIST_ITEM, text, page, first, last, size, bold, it);
      return;
    }
    if (open != null && continues(open, page, first, size, it)) {
      TextNormalizer.appendLine(open.text, text, vocabulary);
      open.lastPage = page;
      open.lastX0 = first.x0();
      open.lastX1 = last.x1();
      open.lastBaseline = first.baseline();
      open.colLeft = it.colLeft();
      open.colRight = it.colRight();
      open.column = it.column();
      return;
    }
    flush();
    start(BlockKind.PARAGRAPH, text, page, first, last, size, bold, it);
  }

  private boolean continues(Open o, int page, Segment first, float size, Item it) {
    if (o.kind == BlockKind.HEADING || Math.abs(o.fontSize - size) > 0.6f) {
      return false;
    }
    boolean sameRegion = o.lastPage == page && o.column == it.column();
    if (!sameRegion) {
      return !endsSentence(o.text) && first.x0() <= it.colLeft() + size;
    }
    float gap = first.baseline() - o.lastBaseline;
    if (gap <= 0 || gap > 1.75f * size) {
      return false;
    }
    float colWidth = Math.max(1f, o.colRight - o.colLeft);
    if (endsSentence(o.text) && o.lastX1 < o.colRight - 0.12f * colWidth) {
      return false;
    }
    if (o.kind == BlockKind.LIST_ITEM) {
      return first.x0() > o.firstX0 + 0.5f * size;
    }
    return first.x0() <= o.lastX0 + size;
  }

  private static boolean endsSentence(CharSequence t) {
    if (t.length() == 0) {
      return true;
    }
    char c = t.charAt(t.length() - 1);
    return c == '.' || c == '!' || c == '?' || c == ':';
  }

  private void start(BlockKind kind, String text, int page, Segment first, Segment last, float size, boolean bold,
      Item it) {
    open = new Open();
    open.kind = kind;
    open.text.append(text);
    open.page = page;
    open.lastPage = page;
    open.fontSize = size;
    open.bold = bold;
    open.firstX0 = first.x0();
    open.lastX0 = first.x0();
    open.lastX1 = last.x1();
    open.lastBaseline = first.baseline();
    open.colLeft = it.colLeft();
    open.colRight = it.colRight();
    open.column = it.column();
    open.path = path();
  }

  private void flush() {
    if (open == null) {
      return;
    }
    Open o = open;
    open = null;
    String text = o.text.toString().trim();
    if (!text.isEmpty()) {
      emit(o.kind, text, o.page, o.lastPage, o.path, o.kind == BlockKind.HEADING ? o.level : 0);
    }
  }

  private void emit(BlockKind kind, String text, int page, int lastPage, List<String> path, int level) {
    out.add(TextBlock.builder().kind(kind).text(text).source(source(page, lastPage, path)).level(level).build());
  }

  private SourceRef source(int page, int lastPage, List<String> path) {
    return SourceRef.builder().document(document).page(page).lastPage(lastPage).sectionPath(path).build();
  }

  private List<String> path() {
    List<String> p = new ArrayList<>(stack.size());
    for (Heading h : stack) {
      p.add(h.text());
    }
    return p;
  }

  /**
   * Pushes a numbered or outline heading. An unnumbered heading in a larger font (a family heading such as
   * "AC Access Control" above "AC-2") stays as its parent even if its level number is not smaller.
   */
  private void pushHeading(String text, int level, float size, boolean numbered) {
    while (!stack.isEmpty()) {
      Heading top = stack.get(stack.size() - 1);
      boolean parentByFont = !top.numbered() && size > 0 && top.fontSize() > size + 0.5f;
      if (top.level() < level || parentByFont) {
        break;
      }
      stack.remove(stack.size() - 1);
    }
    stack.add(new Heading(text, level, size, numbered));
  }

  // ---------------------------------------------------------------- outline

  private void advanceOutline(int page, float top) {
    while (outlineNext < outline.size()) {
      OutlineEntry e = outline.get(outlineNext);
      boolean reached = e.page() < page || (e.page() == page && (Float.isNaN(e.top()) || e.top() <= top + 2f));
      if (!reached) {
        return;
      }
      pushHeading(e.title(), e.level(), 0f, true);
      outlineNext++;
    }
  }

  private int outlineHeadingLevel(String text, int page) {
    if (outline.isEmpty()) {
      return 0;
    }
    String t = key(text);
    for (int i = Math.max(0, outlineNext - 3); i < Math.min(outline.size(), outlineNext + 1); i++) {
      OutlineEntry e = outline.get(i);
      if (e.page() == page && key(e.title()).equals(t)) {
        return e.level();
      }
    }
    return 0;
  }

  private static final java.util.regex.Pattern SPACES = java.util.regex.Pattern.compile("\\s+");

  private static String key(String s) {
    return SPACES.matcher(s.toLowerCase(Locale.ROOT)).replaceAll(" ").trim();
  }
}
