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
    boolean frontMatter;
    boolean code;
    float codeLeft;
    float charWidth;
  }

  private Open open;
  /** Per outline entry: where on its page it starts (top-left y), NaN when unknown (the top of the page). */
  private final float[] entryTop;
  /** Per outline entry: the index, among its page's items, of the line where its title is set; -1 when not found. */
  private final int[] entryItem;
  /** The lines of the current page where an outline entry's title is set, with the entry's index. */
  private final Map<Item, Integer> anchors = new java.util.IdentityHashMap<>();
  /** Whether the document is a slide deck (every page a landscape screen page): slides do not run on. */
  private boolean slides;
  /** The current slide's title on the section stack, and the item it comes from on the current page. */
  private Heading slideTitle;
  private Item slideTitleItem;
  /** Where the slide titles of this deck sit (the same place on most slides), NaN when they do not line up. */
  private float titleTop = Float.NaN;
  /** The title block at the top of the first page: title, authors, affiliations, date. */
  private final Set<Item> frontMatter = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
  private boolean seenTextPage;
  /** The last paragraph emitted when it ended in a hyphenated word fragment, and its index in {@link #out}. */
  private Open dangling;
  private int danglingIndex;
  private int lastTableIndex = -1;
  private TableRegion lastTable;
  private boolean lastTableEndsPage;

  Assembler(String document, List<OutlineEntry> outline, Set<String> vocabulary) {
    this.document = document;
    this.outline = outline;
    this.vocabulary = vocabulary;
    this.entryTop = new float[outline.size()];
    this.entryItem = new int[outline.size()];
    java.util.Arrays.fill(entryItem, -1);
    for (int i = 0; i < outline.size(); i++) {
      entryTop[i] = outline.get(i).top();
    }
  }

  List<TextBlock> assemble(List<PageLayout> pages) {
    removeFurniture(pages);
    measureBody(pages);
    slides = slideDeck(pages);
    if (slides) {
      titleTop = slideTitleTop(pages);
    }
    for (PageLayout page : pages) {
      if (page.ocrParagraphs() != null) {
        flush();
        for (String para : page.ocrParagraphs()) {
          advanceOutline(page.pageNo(), Float.MAX_VALUE, Integer.MAX_VALUE);
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
      anchorOutline(page.pageNo(), items);
      if (slides) {
        flush();
        if (slideTitle != null && !stack.isEmpty() && stack.get(stack.size() - 1) == slideTitle) {
          stack.remove(stack.size() - 1);
        }
        slideTitle = null;
        slideTitleItem = slideTitle(page, items);
      }
      frontMatter.clear();
      if (!seenTextPage && !items.isEmpty()) {
        seenTextPage = true;
        findFrontMatter(page, items);
      }
      boolean first = true;
      for (int index = 0; index < items.size(); index++) {
        Item it = items.get(index);
        advanceOutline(page.pageNo(), it.top(), index);
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
      Segment lowest = null;
      Segment highest = null;
      for (Segment s : p.segments()) {
        if (lowest == null || s.baseline() > lowest.baseline()) {
          lowest = s;
        }
        if (highest == null || s.baseline() < highest.baseline()) {
          highest = s;
        }
      }
      Segment bottomNumber = isolated(lowest, p) ? lowest : null;
      Segment topNumber = isolated(highest, p) ? highest : null;
      p.segments().removeIf(s -> {
        if (s == bottomNumber || s == topNumber) {
          return true;
        }
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
   * A page number set apart above or below everything else on the page, wherever the margins put it (LaTeX's
   * footers sit above the bottom 9 % band of a letter page).
   */
  private static boolean isolated(Segment s, PageLayout p) {
    if (s == null || !Blocks.isPageNumber(s.text()) || p.segments().size() < 3) {
      return false;
    }
    for (Segment o : p.segments()) {
      if (o != s && Math.abs(o.baseline() - s.baseline()) < 1.5f * Math.max(s.fontSize(), o.fontSize())) {
        return false;
      }
    }
    return true;
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

  /** Most pages are landscape screen pages (4:3 to 16:9), as exported by beamer, PowerPoint or Keynote. */
  private static boolean slideDeck(List<PageLayout> pages) {
    int screen = 0;
    for (PageLayout p : pages) {
      float ratio = p.height() > 0 ? p.width() / p.height() : 0;
      if (ratio >= 1.25f && ratio <= 1.9f) {
        screen++;
      }
    }
    return pages.size() >= 2 && screen * 10 >= pages.size() * 8;
  }

  /**
   * The top of the first body-size line on most slides: a deck's template puts every slide title in the same place,
   * even when it is not set larger or bolder than the text.
   */
  private float slideTitleTop(List<PageLayout> pages) {
    Map<Integer, Integer> votes = new HashMap<>();
    for (PageLayout p : pages) {
      Segment first = null;
      for (Segment s : p.segments()) {
        if (s.fontSize() >= bodySize * 0.95f && s.top() < p.height() * 0.25f && (first == null || s.top() < first.top())) {
          first = s;
        }
      }
      if (first != null) {
        votes.merge(Math.round(first.top() / 2f), 1, Integer::sum);
      }
    }
    return votes.entrySet().stream().filter(e -> e.getValue() * 10 >= pages.size() * 4)
        .max(Map.Entry.comparingByValue()).map(e -> e.getKey() * 2f).orElse(Float.NaN);
  }

  /** The slide's title: its first line, in the top quarter, set larger than the body or bold. */
  private Item slideTitle(PageLayout page, List<Item> items) {
    for (Item it : items) {
      if (it.row() == null) {
        return null;
      }
      if (it.top() > page.height() * 0.25f) {
        return null;
      }
      float size = 0;
      boolean bold = true;
      StringBuilder sb = new StringBuilder();
      for (Segment s : it.row()) {
        size = Math.max(size, s.fontSize());
        bold &= s.bold();
        sb.append(s.text()).append(' ');
      }
      String text = sb.toString().trim();
      if (Blocks.isPageNumber(text) || size < bodySize * 0.95f) {
        // Navigation bars and headlines above the title are set small.
        continue;
      }
      boolean emphasised = size >= bodySize * 1.1f || (bold && !bodyBold)
          || (!Float.isNaN(titleTop) && Math.abs(it.top() - titleTop) <= 3f);
      return emphasised && Blocks.headingShaped(text, true) ? it : null;
    }
    return null;
  }

  // ---------------------------------------------------------------- reading order

  private List<Item> order(PageLayout page) {
    List<Segment> segs = page.segments();
    float[] gutters = page.gutters();
    List<Object> units = new ArrayList<>(segs);
    units.addAll(page.tables());
    units.sort(Comparator.comparingDouble(Assembler::unitTop));
    List<Item> items = new ArrayList<>();
    if (gutters.length == 0) {
      addColumn(units, items, 0);
      return items;
    }
    // Column by column; a unit that crosses a gutter (a title, a full-width table or figure) ends the columns
    // above it, which are read before it, and the columns below it start afresh.
    List<List<Object>> columns = new ArrayList<>();
    for (int c = 0; c <= gutters.length; c++) {
      columns.add(new ArrayList<>());
    }
    // Above the first line that touches a gutter the page is not in columns yet: a title block whose authors sit
    // side by side must be read across, not as two columns.
    float columnTop = Float.MAX_VALUE;
    float minWidth = 0.6f * page.width() / (gutters.length + 1);
    for (Segment s : segs) {
      if (s.width() < minWidth || s.fontSize() > bodySize + 0.6f) {
        continue;
      }
      for (float g : gutters) {
        float em = s.fontSize();
        if ((s.x1() <= g && s.x1() >= g - 1.5f * em) || (s.x0() >= g && s.x0() <= g + 1.5f * em)) {
          columnTop = Math.min(columnTop, s.top());
        }
      }
    }
    // Rows above that line centred on the page (authors and affiliations side by side) are read across.
    List<Object> above = new ArrayList<>();
    Map<Integer, List<Segment>> rowsAbove = new HashMap<>();
    for (Object u : units) {
      if (u instanceof Segment s && s.baseline() < columnTop) {
        rowsAbove.computeIfAbsent(Math.round(s.baseline()), k -> new ArrayList<>()).add(s);
      }
    }
    for (List<Segment> row : rowsAbove.values()) {
      float x0 = Float.MAX_VALUE;
      float x1 = -Float.MAX_VALUE;
      for (Segment s : row) {
        x0 = Math.min(x0, s.x0());
        x1 = Math.max(x1, s.x1());
      }
      if (Math.abs((x0 + x1) / 2 - page.width() / 2) <= 0.06f * page.width()) {
        above.addAll(row);
      }
    }
    Set<Object> acrossRows = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    Set<Integer> emittedAcross = new HashSet<>();
    acrossRows.addAll(above);
    for (Object u : units) {
      float x0 = unitX0(u);
      float x1 = unitX1(u);
      int col = -1;
      for (int c = 0; c <= gutters.length && !acrossRows.contains(u); c++) {
        float a = c == 0 ? -Float.MAX_VALUE : gutters[c - 1];
        float b = c == gutters.length ? Float.MAX_VALUE : gutters[c];
        if (x0 >= a - 2 && x1 <= b + 2) {
          col = c;
          break;
        }
      }
      if (col < 0) {
        for (int c = 0; c < columns.size(); c++) {
          addColumn(columns.get(c), items, c + 1);
          columns.get(c).clear();
        }
        if (acrossRows.contains(u)) {
          // The rest of a row read across goes with it.
          List<Object> row = new ArrayList<>();
          for (Object o : acrossRows) {
            if (o instanceof Segment s && u instanceof Segment us && Math.round(s.baseline()) == Math.round(us.baseline())) {
              row.add(o);
            }
          }
          if (row.get(0) != u && row.indexOf(u) != 0) {
            // Added with the row's first segment already.
            row.sort(Comparator.comparingDouble(Assembler::unitX0));
          }
          if (!emittedAcross.add(Math.round(((Segment) u).baseline()))) {
            continue;
          }
          addColumn(row, items, 0);
        } else {
          addColumn(List.of(u), items, 0);
        }
      } else {
        columns.get(col).add(u);
      }
    }
    for (int c = 0; c < columns.size(); c++) {
      addColumn(columns.get(c), items, c + 1);
    }
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
      if (it.row() != null && it.row().size() >= 2 && headerLike(it.row()) && !codeRow(it.row())) {
        int end = growTable(items, i);
        if (end > 0 && mostlyToc(items.subList(i, end))) {
          end = -1;
        }
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

  /**
   * A line of code or console output: set in a fixed-pitch font, apart from the line number a numbered listing
   * puts before it.
   */
  static boolean codeRow(List<Segment> row) {
    int mono = 0;
    int total = 0;
    for (int i = 0; i < row.size(); i++) {
      Segment s = row.get(i);
      if (i == 0 && !s.mono() && LINE_NUMBER.matcher(s.text()).matches() && row.size() > 1) {
        continue;
      }
      total += s.text().length();
      if (s.mono()) {
        mono += s.text().length();
      }
    }
    return total > 0 && mono * 10 >= total * 8;
  }

  private static final java.util.regex.Pattern LINE_NUMBER = java.util.regex.Pattern.compile("\\d{1,5}");

  /** Code keeps its lines and their indentation: one block per listing, lines joined with line breaks. */
  private void codeLine(int page, Item it, Segment first, Segment last, float size) {
    List<Segment> row = it.row();
    int from = 0;
    String number = null;
    if (row.size() > 1 && !first.mono() && LINE_NUMBER.matcher(first.text()).matches()) {
      number = first.text();
      from = 1;
    }
    Segment code = row.get(from);
    // Typewriter fonts advance about half an em per character (cmtt 0.525, Courier 0.6); the segments' own ratio is
    // unreliable because listings set spaces narrower or wider than characters.
    float charWidth = Math.max(1f, 0.55f * code.fontSize());
    boolean continues = open != null && open.code && open.page == page && open.column == it.column()
        && first.baseline() > open.lastBaseline && first.baseline() - open.lastBaseline <= 2.5f * size;
    if (!continues) {
      flush();
      start(BlockKind.PARAGRAPH, "", page, first, last, size, false, it);
      open.code = true;
      open.codeLeft = code.x0();
      open.charWidth = charWidth;
    }
    StringBuilder line = new StringBuilder();
    if (number != null) {
      line.append(number).append(' ');
    }
    float left = Math.min(open.codeLeft, code.x0());
    float x = left;
    for (int i = from; i < row.size(); i++) {
      Segment s = row.get(i);
      int spaces = Math.round((s.x0() - x) / open.charWidth);
      if (i > from) {
        spaces = Math.max(1, spaces);
      }
      line.append(" ".repeat(Math.max(0, Math.min(spaces, 80))));
      line.append(s.text());
      x = s.x1();
    }
    if (open.text.length() > 0) {
      open.text.append('\n');
    }
    open.text.append(line);
    open.lastBaseline = first.baseline();
    open.lastPage = page;
  }

  /** Rows of a table of contents or an index ("3 Tooling   2") are aligned like a table but are not one. */
  private static boolean mostlyToc(List<Item> rows) {
    int toc = 0;
    for (Item r : rows) {
      if (Blocks.isTocLine(r.row()) && Blocks.numberedLevel(r.row().get(0).text()) > 0
          || Blocks.isTocLine(r.row()) && r.row().size() == 2) {
        toc++;
      }
    }
    return toc * 2 > rows.size();
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
      if (it.row() == null || it.column() != items.get(start).column() || codeRow(it.row())) {
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
    if (frontMatter.contains(it)) {
      frontMatterLine(page, it, text, first, last, size, bold);
      return;
    }
    if (it == slideTitleItem && anchors.get(it) == null) {
      // The title of a slide: a heading below the outline's current section, for this slide only.
      flush();
      slideTitle = new Heading(text, stack.size() + 1, 0f, false);
      stack.add(slideTitle);
      start(BlockKind.HEADING, text, page, first, last, size, bold, it);
      open.level = slideTitle.level();
      return;
    }
    if (codeRow(row)) {
      codeLine(page, it, first, last, size);
      return;
    }
    if (Blocks.isTocLine(row) && outlineHeadingLevel(text, page) == 0) {
      // An entry of a table of contents or an index is a line of its own, never a heading or part of a paragraph.
      flush();
      start(BlockKind.PARAGRAPH, text, page, first, last, size, bold, it);
      flush();
      return;
    }
    Integer anchoredEntry = anchors.get(it);
    int outlineLevel = anchoredEntry != null ? outline.get(anchoredEntry).level() : outlineHeadingLevel(text, page);
    int numbered = Blocks.numberedLevel(text);
    boolean larger = size >= bodySize * 1.15f;
    boolean emphasised = larger || (bold && !bodyBold);
    boolean heading = outlineLevel > 0
        || (emphasised && Blocks.headingShaped(text, numbered > 0) && !Blocks.isListStart(text)
            && (numbered > 0 || !Blocks.isDateLine(text)));
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
      // The first heading of a document in its largest font is its title: neither a heading nor a section.
      boolean title = titleCandidate && !anyHeading && outline.isEmpty() && numbered == 0 && size >= maxSize - 0.1f
          && size > bodySize * 1.3f;
      if (title) {
        frontMatterLine(page, it, text, first, last, size, bold);
        return;
      }
      flush();
      int level;
      anyHeading = true;
      if (outlineLevel > 0) {
        level = outlineLevel;
      } else if (!outline.isEmpty()) {
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
      if (!outline.isEmpty() && outlineLevel == 0) {
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
    if (open != null && (continues(open, page, first, size, it)
        || (!resumesAcrossSlides(open, page) && midWord(open, page, first, size, text, it)))) {
      appendTo(open, page, text, first, last, it);
      return;
    }
    if (dangling != null && !resumesAcrossSlides(dangling, page) && resumes(dangling, page, text, size)
        && (open == null || (open.kind != BlockKind.HEADING && (open.page != page || open.column != it.column()
            || open.fontSize < bodySize - 0.6f)))) {
      // A paragraph broken mid-word ("infor-" / "mation") by a page or column break with a footnote or a float in
      // between: join the two halves, after whatever came between them.
      Open o = dangling;
      int index = danglingIndex;
      flush();
      if (dangling == o && open == null) {
        dangling = null;
        out.remove(index);
        if (lastTableIndex > index) {
          lastTableIndex--;
        }
        open = o;
        appendTo(o, page, text, first, last, it);
        return;
      }
    }
    flush();
    start(BlockKind.PARAGRAPH, text, page, first, last, size, bold, it);
  }

  private void appendTo(Open o, int page, String text, Segment first, Segment last, Item it) {
    TextNormalizer.appendLine(o.text, text, vocabulary);
    o.lastPage = page;
    o.lastX0 = first.x0();
    o.lastX1 = last.x1();
    o.lastBaseline = first.baseline();
    o.colLeft = it.colLeft();
    o.colRight = it.colRight();
    o.column = it.column();
  }

  /** The open paragraph ends in a word broken at a hyphen and this line, close below it, goes on in lower case. */
  private static boolean midWord(Open o, int page, Segment first, float size, String text, Item it) {
    int n = o.text.length();
    return (o.kind == BlockKind.PARAGRAPH || o.kind == BlockKind.LIST_ITEM) && !o.frontMatter && !o.code && n > 2 && o.text.charAt(n - 1) == '-'
        && Character.isLowerCase(o.text.charAt(n - 2)) && Math.abs(o.fontSize - size) <= Math.max(0.6f, 0.15f * size)
        && !text.isEmpty() && Character.isLowerCase(text.charAt(0))
        && (o.lastPage != page || o.column != it.column()
            || (first.baseline() > o.lastBaseline && first.baseline() - o.lastBaseline <= 3f * size));
  }

  /**
   * A paragraph that stops in the middle: a word broken at a hyphen, or a sentence without its end (a comma, a
   * word) at the foot of a column or page, before a footnote or a float.
   */
  private static boolean brokenOff(String text) {
    int n = text.length();
    char last = text.charAt(n - 1);
    if (last == '-') {
      return Character.isLowerCase(text.charAt(n - 2));
    }
    return (last == ',' || Character.isLetter(last)) && text.split(" ", 12).length >= 12;
  }

  private boolean resumesAcrossSlides(Open o, int page) {
    return slides && o.lastPage != page;
  }

  private static boolean resumes(Open o, int page, String text, float size) {
    return (o.kind == BlockKind.PARAGRAPH || o.kind == BlockKind.LIST_ITEM) && page - o.lastPage <= 1
        && Math.abs(o.fontSize - size) <= Math.max(0.6f, 0.15f * size)
        && !text.isEmpty() && Character.isLowerCase(text.charAt(0));
  }

  /**
   * A line of the title block: a paragraph with no section path, joined with the line before when that is the same
   * part of the block (a title wrapped over two lines), never a heading.
   */
  private void frontMatterLine(int page, Item it, String text, Segment first, Segment last, float size,
      boolean bold) {
    if (open != null && open.frontMatter && open.page == page && Math.abs(open.fontSize - size) < 0.6f
        && first.baseline() - open.lastBaseline <= 1.6f * size) {
      TextNormalizer.appendLine(open.text, text, vocabulary);
      open.lastBaseline = first.baseline();
      open.lastX0 = first.x0();
      open.lastX1 = last.x1();
      return;
    }
    flush();
    start(BlockKind.PARAGRAPH, text, page, first, last, size, bold, it);
    open.frontMatter = true;
    open.path = List.of();
  }

  private static final java.util.regex.Pattern FRONT_MATTER_END = java.util.regex.Pattern.compile(
      "(?iu)^(?:abstract|summary|contents|table of contents|introduction|resumen|índice|introducción|résumé|"
          + "sommaire|zusammenfassung|inhaltsverzeichnis|аннотация|содержание|введение|摘要|目录|目錄)\\b.*");

  /**
   * Finds the title block at the top of the first page: lines from the top that are centred, or set in the
   * document's largest font, up to the first body line, numbered or outline heading, or "Abstract"/"Contents".
   */
  private void findFrontMatter(PageLayout page, List<Item> items) {
    List<Item> zone = new ArrayList<>();
    boolean sawLarger = false;
    float w = page.width();
    for (Item it : items) {
      if (it.table() != null || it.top() > page.height() * 0.55f || anchors.containsKey(it)) {
        break;
      }
      List<Segment> row = it.row();
      StringBuilder sb = new StringBuilder();
      float size = 0;
      for (Segment s : row) {
        sb.append(s.text()).append(' ');
        size = Math.max(size, s.fontSize());
      }
      String text = sb.toString().trim();
      if ((Blocks.numberedLevel(text) > 0 && Blocks.headingShaped(text, true)) || FRONT_MATTER_END.matcher(text).matches()) {
        break;
      }
      float x0 = row.get(0).x0();
      float x1 = row.get(row.size() - 1).x1();
      boolean centered = Math.abs((x0 + x1) / 2 - w / 2) <= 0.06f * w && x1 - x0 < 0.85f * w;
      if (Math.abs(size - bodySize) < 0.6f && x1 - x0 >= 0.6f * w) {
        // A line of running text: the body has begun.
        break;
      }
      boolean larger = size >= bodySize * 1.15f;
      boolean title = larger && titleCandidate && size >= maxSize - 0.1f;
      if (!centered && !title && !(Blocks.isDateLine(text) && !zone.isEmpty())) {
        break;
      }
      zone.add(it);
      sawLarger |= larger;
    }
    if (sawLarger) {
      frontMatter.addAll(zone);
    }
  }

  private boolean continues(Open o, int page, Segment first, float size, Item it) {
    // Lines that mix fonts (code in running text) have a slightly smaller mean size than plain ones.
    if (o.kind == BlockKind.HEADING || o.frontMatter || o.code
        || Math.abs(o.fontSize - size) > Math.max(0.6f, 0.08f * size)) {
      return false;
    }
    boolean sameRegion = o.lastPage == page && o.column == it.column();
    if (!sameRegion && slides && o.lastPage != page) {
      // A slide is a unit of its own: its last line never runs on into the next slide.
      return false;
    }
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
    String text = o.code ? o.text.toString().stripTrailing() : o.text.toString().trim();
    if (!text.isEmpty()) {
      emit(o.kind, text, o.page, o.lastPage, o.path, o.kind == BlockKind.HEADING ? o.level : 0);
      if ((o.kind == BlockKind.PARAGRAPH || o.kind == BlockKind.LIST_ITEM) && !o.frontMatter && !o.code
          && text.length() > 2 && brokenOff(text)) {
        dangling = o;
        danglingIndex = out.size() - 1;
      } else if (o.kind != BlockKind.PARAGRAPH || o.fontSize >= bodySize - 0.6f) {
        // A footnote or a caption between the two halves keeps the first one resumable; body text does not.
        dangling = null;
      }
    }
  }

  private void emit(BlockKind kind, String text, int page, int lastPage, List<String> path, int level) {
    if (kind == BlockKind.HEADING || kind == BlockKind.OCR_TEXT) {
      dangling = null;
    }
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

  /**
   * Finds the line where each outline entry of this page is set, by its title, and moves the entry's position
   * there. Destinations often point above the heading (hyperref raises its anchors by a line) or to the top of the
   * page, so the heading line itself is the better position; the destination's own position stays when the title
   * is not found on the page.
   */
  private void anchorOutline(int page, List<Item> items) {
    anchors.clear();
    int searchFrom = 0;
    for (int i = outlineNext; i < outline.size() && outline.get(i).page() <= page; i++) {
      OutlineEntry e = outline.get(i);
      String title = alnumKey(e.title());
      if (e.page() < page || title.isEmpty()) {
        continue;
      }
      for (int j = searchFrom; j < items.size(); j++) {
        Item it = items.get(j);
        if (it.row() != null && matchesTitle(it.row(), title)) {
          anchors.put(it, i);
          entryItem[i] = j;
          searchFrom = j + 1;
          break;
        }
      }
    }
  }

  /** Whether a line is where an outline title is set: the same words, maybe with its number or wrapped. */
  private boolean matchesTitle(List<Segment> row, String title) {
    StringBuilder sb = new StringBuilder();
    float size = 0;
    boolean bold = true;
    for (Segment s : row) {
      sb.append(s.text()).append(' ');
      size = Math.max(size, s.fontSize());
      bold &= s.bold();
    }
    String text = sb.toString().trim();
    if (!Blocks.headingShaped(text, true) || Blocks.isTocLine(row)) {
      return false;
    }
    String line = alnumKey(text);
    String unnumbered = alnumKey(LEADING_NUMBER.matcher(text).replaceFirst(""));
    if (line.equals(title) || unnumbered.equals(title)) {
      return true;
    }
    boolean emphasised = size >= bodySize * 1.15f || (bold && !bodyBold);
    if (!emphasised || title.length() < 4) {
      return false;
    }
    // A heading with more words than its bookmark ("2 Strings in TeX and PDF" for "2 Strings"), or the first line
    // of a heading wrapped over two lines.
    return line.startsWith(title) || unnumbered.startsWith(title)
        || (title.startsWith(unnumbered) && unnumbered.length() * 5 >= title.length() * 2);
  }

  private static final java.util.regex.Pattern LEADING_NUMBER =
      java.util.regex.Pattern.compile("^(?:[A-Z]\\.)?\\d+(?:\\.\\d+)*\\.?\\s+|^[A-Z]\\s+(?=\\p{Lu})");

  private static String alnumKey(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isLetterOrDigit(c)) {
        sb.append(Character.toLowerCase(c));
      }
    }
    return sb.toString();
  }

  /**
   * Enters the outline entries reached before the item at {@code index} (top {@code top}) of {@code page}: an entry
   * whose title was found on the page is reached at that line, in reading order (on a multi-column page a heading at
   * the top of the right column comes after the whole left column); any other at its destination's position.
   */
  private void advanceOutline(int page, float top, int index) {
    while (outlineNext < outline.size()) {
      OutlineEntry e = outline.get(outlineNext);
      float entryAt = entryTop[outlineNext];
      int at = entryItem[outlineNext];
      boolean reached = e.page() < page || (e.page() == page && (at >= 0 ? at <= index
          : Float.isNaN(entryAt) || entryAt <= top + 2f));
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
    String t = alnumKey(text);
    String unnumbered = alnumKey(LEADING_NUMBER.matcher(text).replaceFirst(""));
    // A destination at the foot of the previous page often belongs to a heading at the top of this one.
    for (int i = Math.max(0, outlineNext - 3); i < Math.min(outline.size(), outlineNext + 1); i++) {
      OutlineEntry e = outline.get(i);
      String title = alnumKey(e.title());
      if ((e.page() == page || e.page() == page - 1) && !title.isEmpty()
          && (title.equals(t) || title.equals(unnumbered))) {
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
