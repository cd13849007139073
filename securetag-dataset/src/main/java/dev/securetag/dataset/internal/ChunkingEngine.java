package dev.securetag.dataset.internal;

import dev.securetag.core.BlockKind;
import dev.securetag.core.Chunk;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.SourceRef;
import dev.securetag.core.Table;
import dev.securetag.core.TextBlock;
import dev.securetag.dataset.Language;
import dev.securetag.dataset.TokenCounter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chunking algorithm behind {@code Chunker}: blocks are grouped into segments (a document, or a section when
 * headings are respected), each block is split recursively paragraph → line → sentence → word (→ code point only
 * for a "word" longer than the whole budget) until every piece fits, tables split between rows with their header
 * repeated, and the pieces are packed greedily into chunks with whole-sentence overlap. Token counts use cheap
 * additive estimates while a chunk is far from full and the real tokenizer on the assembled text near the limit and
 * at every flush, so no chunk ever exceeds the budget even though BPE counts are not additive.
 */
public final class ChunkingEngine {
  private static final Logger LOG = LoggerFactory.getLogger(ChunkingEngine.class);
  private static final Pattern BLANK_LINE = Pattern.compile("\\n[ \\t\\x0B\\f\\r]*\\n");
  private static final String BLOCK_SEPARATOR = "\n\n";
  private static final int LEVEL_PARAGRAPH = 0;
  private static final int LEVEL_LINE = 1;
  private static final int LEVEL_SENTENCE = 2;
  private static final int LEVEL_WORD = 3;
  private static final int LEVEL_CHAR = 4;

  private final TokenCounter counter;
  private final int maxTokens;
  private final int overlapTokens;
  private final boolean respectHeadings;
  private final boolean contextInBudget;
  private final Language language;

  public ChunkingEngine(TokenCounter counter, int maxTokens, int overlapTokens, boolean respectHeadings,
      boolean contextInBudget, Language language) {
    this.counter = counter;
    this.maxTokens = maxTokens;
    this.overlapTokens = overlapTokens;
    this.respectHeadings = respectHeadings;
    this.contextInBudget = contextInBudget;
    this.language = language;
  }

  /** One piece of chunk text: {@code src[start, end)}, where src is a block's text or a rendered table part. */
  private record Piece(BlockInfo block, String src, int start, int end, boolean table, int tokens, int level) {
    String text() {
      return src.substring(start, end);
    }
  }

  private record BlockInfo(TextBlock block, List<String> path) {}

  /** Chunks every block of {@code blocks} in order and hands each chunk to {@code sink}. */
  public void run(Iterator<? extends TextBlock> blocks, Consumer<Chunk> sink) {
    State st = new State(sink);
    while (blocks.hasNext()) {
      st.accept(blocks.next());
    }
    st.flushSegment();
  }

  private final class State {
    final Consumer<Chunk> sink;
    final Map<String, Integer> nextIndex = new HashMap<>();
    String document;
    List<String> headingStack = new ArrayList<>();
    final List<BlockInfo> segment = new ArrayList<>();
    List<String> segmentPath;
    boolean segmentHasBody;

    State(Consumer<Chunk> sink) {
      this.sink = sink;
    }

    void accept(TextBlock b) {
      String doc = b.source().document();
      if (!doc.equals(document)) {
        flushSegment();
        document = doc;
        headingStack = new ArrayList<>();
      }
      boolean heading = b.kind() == BlockKind.HEADING;
      List<String> path;
      if (heading) {
        path = headingPath(b);
        headingStack = new ArrayList<>(path);
      } else {
        path = b.source().sectionPath().isEmpty() ? List.copyOf(headingStack) : b.source().sectionPath();
      }
      if (b.text().isBlank()) {
        return;
      }
      if (respectHeadings) {
        if (heading && segmentHasBody) {
          flushSegment();
        } else if (!heading && segmentHasBody && !path.equals(segmentPath)) {
          flushSegment();
        }
      }
      segment.add(new BlockInfo(b, path));
      if (!heading && !segmentHasBody) {
        segmentHasBody = true;
        segmentPath = path;
      } else if (segmentPath == null || (!segmentHasBody && heading)) {
        segmentPath = path;
      }
    }

    private List<String> headingPath(TextBlock b) {
      String text = b.text().strip().replaceAll("\\s+", " ");
      List<String> given = b.source().sectionPath();
      List<String> path = new ArrayList<>();
      if (!given.isEmpty()) {
        path.addAll(given);
        if (!given.get(given.size() - 1).strip().equals(text) && !text.isEmpty()) {
          path.add(text);
        }
        return path;
      }
      int level = b.level() > 0 ? b.level() : Math.max(1, headingStack.size());
      for (int i = 0; i < Math.min(level - 1, headingStack.size()); i++) {
        path.add(headingStack.get(i));
      }
      if (!text.isEmpty()) {
        path.add(text);
      }
      return path;
    }

    void flushSegment() {
      if (!segment.isEmpty()) {
        emitSegment(List.copyOf(segment), segmentPath == null ? List.of() : segmentPath, this);
      }
      segment.clear();
      segmentPath = null;
      segmentHasBody = false;
    }
  }

  private void emitSegment(List<BlockInfo> blocks, List<String> path, State st) {
    int budget = maxTokens;
    if (contextInBudget && !path.isEmpty()) {
      int prefix = counter.count("[" + String.join(SourceRef.SECTION_SEPARATOR, path) + "]\n");
      if (prefix < maxTokens / 2) {
        budget -= prefix;
      } else {
        LOG.warn("section path of {} tokens is too long to reserve in a {}-token chunk: {}", prefix, maxTokens,
            String.join(SourceRef.SECTION_SEPARATOR, path));
      }
    }
    List<Piece> pieces = new ArrayList<>();
    for (BlockInfo bi : blocks) {
      piecesOf(bi, budget, pieces);
    }
    pack(pieces, budget, path, st);
  }

  // ---------------------------------------------------------------- splitting

  private void piecesOf(BlockInfo bi, int budget, List<Piece> out) {
    TextBlock b = bi.block();
    String text = b.text();
    int[] r = trim(text, 0, text.length());
    if (r[0] >= r[1]) {
      return;
    }
    if (b.kind() == BlockKind.TABLE && b.table().isPresent()) {
      int tokens = counter.count(text.substring(r[0], r[1]));
      if (tokens <= budget) {
        out.add(new Piece(bi, text, r[0], r[1], true, tokens, LEVEL_PARAGRAPH));
      } else {
        tablePieces(bi, b.table().get(), budget, out);
      }
      return;
    }
    split(bi, text, r[0], r[1], LEVEL_PARAGRAPH, LEVEL_PARAGRAPH, budget, false, out);
  }

  /**
   * Appends pieces of {@code src[s, e)} that each fit the budget, splitting at the coarsest boundary that works.
   * {@code firstLevel} is the strength of the boundary before the range; later pieces carry the level they were cut
   * at, which lets the packer prefer paragraph boundaries over sentence boundaries when it must end a chunk.
   */
  private void split(BlockInfo bi, String src, int s, int e, int level, int firstLevel, int budget, boolean table,
      List<Piece> out) {
    split(bi, src, s, e, level, firstLevel, budget, table, out, counter.count(src.substring(s, e)));
  }

  private void split(BlockInfo bi, String src, int s, int e, int level, int firstLevel, int budget, boolean table,
      List<Piece> out, int tokens) {
    if (tokens <= budget) {
      out.add(new Piece(bi, src, s, e, table, tokens, firstLevel));
      return;
    }
    if (level >= LEVEL_CHAR) {
      splitChars(bi, src, s, e, firstLevel, budget, table, out);
      return;
    }
    List<int[]> parts = boundaries(src, s, e, level, bi);
    if (parts.size() <= 1) {
      int[] only = parts.isEmpty() ? new int[] {s, e} : parts.get(0);
      int t = only[0] == s && only[1] == e ? tokens : counter.count(src.substring(only[0], only[1]));
      split(bi, src, only[0], only[1], level + 1, firstLevel, budget, table, out, t);
      return;
    }
    for (int i = 0; i < parts.size(); i++) {
      int[] part = parts.get(i);
      split(bi, src, part[0], part[1], level + 1, i == 0 ? firstLevel : level, budget, table, out);
    }
  }

  private List<int[]> boundaries(String src, int s, int e, int level, BlockInfo bi) {
    List<int[]> parts = new ArrayList<>();
    switch (level) {
      case LEVEL_PARAGRAPH -> {
        Matcher m = BLANK_LINE.matcher(src).region(s, e);
        int from = s;
        while (m.find()) {
          addTrimmed(src, from, m.start(), parts);
          from = m.end();
        }
        addTrimmed(src, from, e, parts);
      }
      case LEVEL_LINE -> {
        int from = s;
        for (int i = s; i < e; i++) {
          if (src.charAt(i) == '\n') {
            addTrimmed(src, from, i, parts);
            from = i + 1;
          }
        }
        addTrimmed(src, from, e, parts);
      }
      case LEVEL_SENTENCE -> parts.addAll(SentenceSplitter.split(src, s, e, locale(bi)));
      case LEVEL_WORD -> {
        int i = s;
        while (i < e) {
          while (i < e && Character.isWhitespace(src.charAt(i))) {
            i++;
          }
          int from = i;
          while (i < e && !Character.isWhitespace(src.charAt(i))) {
            i++;
          }
          if (from < i) {
            parts.add(new int[] {from, i});
          }
        }
      }
      default -> throw new IllegalStateException("no boundaries at level " + level);
    }
    return parts;
  }

  private Locale locale(BlockInfo bi) {
    return language.resolve(bi.block().text()).locale();
  }

  /** Last resort for a run of text with no whitespace longer than the budget: cut between code points. */
  private void splitChars(BlockInfo bi, String src, int s, int e, int firstLevel, int budget, boolean table,
      List<Piece> out) {
    int pos = s;
    int level = firstLevel;
    while (pos < e) {
      int one = src.offsetByCodePoints(pos, 1);
      if (counter.count(src.substring(pos, one)) > budget) {
        throw new InvalidInputException(bi.block().source().document() + " p." + bi.block().source().page(),
            "a single character needs more than " + budget + " tokens; raise maxTokens");
      }
      // Binary search over code points for the longest prefix from pos that fits.
      int best = one;
      int lo = src.codePointCount(pos, one);
      int hi = src.codePointCount(pos, e);
      while (lo <= hi) {
        int mid = (lo + hi) >>> 1;
        int end = src.offsetByCodePoints(pos, mid);
        if (counter.count(src.substring(pos, end)) <= budget) {
          best = Math.max(best, end);
          lo = mid + 1;
        } else {
          hi = mid - 1;
        }
      }
      out.add(new Piece(bi, src, pos, best, table, counter.count(src.substring(pos, best)), level));
      level = LEVEL_CHAR;
      pos = best;
    }
  }

  private void tablePieces(BlockInfo bi, Table t, int budget, List<Piece> out) {
    List<List<String>> header = t.header();
    List<List<String>> body = t.body();
    if (body.isEmpty()) {
      String md = t.toMarkdown();
      split(bi, md, 0, md.length(), LEVEL_LINE, LEVEL_PARAGRAPH, budget, true, out);
      return;
    }
    int n = body.size();
    int i = 0;
    while (i < n) {
      int level = i == 0 ? LEVEL_PARAGRAPH : LEVEL_LINE;
      if (header.isEmpty() || counter.count(render(header, body.subList(i, i + 1))) > budget) {
        // The header does not fit next to this row: the row goes alone, and is cut at words only if it must be.
        String rowOnly = render(List.of(), body.subList(i, i + 1)).lines().findFirst().orElse("");
        split(bi, rowOnly, 0, rowOnly.length(), LEVEL_WORD, level, budget, true, out);
        i++;
        continue;
      }
      // Grow the part row by row; rows are few and short, so counting each candidate exactly is affordable.
      int j = i;
      int lastGood = counter.count(render(header, body.subList(i, i + 1)));
      while (j + 1 < n) {
        int c = counter.count(render(header, body.subList(i, j + 2)));
        if (c > budget) {
          break;
        }
        lastGood = c;
        j++;
      }
      String md = render(header, body.subList(i, j + 1));
      out.add(new Piece(bi, md, 0, md.length(), true, lastGood, level));
      i = j + 1;
    }
  }

  private static String render(List<List<String>> header, List<List<String>> rows) {
    List<List<String>> all = new ArrayList<>(header);
    all.addAll(rows);
    return Table.builder().rows(all).headerRows(header.size()).build().toMarkdown();
  }

  // ---------------------------------------------------------------- packing

  private void pack(List<Piece> pieces, int budget, List<String> path, State st) {
    int n = pieces.size();
    List<Piece> cur = new ArrayList<>();
    List<Piece> prev = null;
    boolean curHasOverlap = false;
    long est = 0;
    // When the real count of all of cur is known (cur.size() == exactFor), emit need not count it again.
    int exactFor = -1;
    int i = 0;
    while (true) {
      if (i >= n) {
        if (cur.isEmpty()) {
          break;
        }
        int back = emit(cur, budget, path, st, exactFor == cur.size() ? (int) est : -1, curHasOverlap);
        prev = cur;
        cur = new ArrayList<>();
        i -= back;
        continue;
      }
      Piece p = pieces.get(i);
      if (cur.isEmpty()) {
        Piece ov = prev == null ? null : overlap(prev, p, budget);
        curHasOverlap = ov != null;
        if (ov != null) {
          cur.add(ov);
        }
        cur.add(p);
        est = ov == null ? p.tokens() : (long) ov.tokens() + p.tokens() + 2;
        exactFor = -1;
        i++;
        continue;
      }
      // Sentence and paragraph counts are close to additive (a separator costs about one token), so the estimate
      // decides until it reaches the budget; one real count settles the borderline case and emit() verifies.
      long next = est + p.tokens() + 1;
      boolean fits;
      if (next <= budget) {
        fits = true;
        est = next;
        exactFor = -1;
      } else {
        cur.add(p);
        int exact = counter.count(join(cur));
        cur.remove(cur.size() - 1);
        fits = exact <= budget;
        if (fits) {
          est = exact;
          exactFor = cur.size() + 1;
        }
      }
      if (fits) {
        cur.add(p);
        i++;
        continue;
      }
      int k = bestCut(cur, p, curHasOverlap ? 2 : 1, budget);
      int back = cur.size() - k;
      List<Piece> emitted = new ArrayList<>(cur.subList(0, k));
      back += emit(emitted, budget, path, st, k == cur.size() && exactFor == cur.size() ? (int) est : -1,
          curHasOverlap);
      exactFor = -1;
      i -= back;
      prev = emitted;
      cur = new ArrayList<>();
    }
  }

  /**
   * Where to end a full chunk: the coarsest boundary (paragraph before line before sentence before word) among
   * those that leave at least half the budget in the chunk, the latest such one on ties. Returns the number of
   * pieces of {@code cur} to keep; {@code cur.size()} means "before {@code next}".
   */
  private static int bestCut(List<Piece> cur, Piece next, int minKeep, int budget) {
    long[] prefix = new long[cur.size() + 1];
    for (int k = 0; k < cur.size(); k++) {
      prefix[k + 1] = prefix[k] + cur.get(k).tokens();
    }
    int best = cur.size();
    int bestLevel = next.level();
    for (int k = cur.size() - 1; k >= minKeep; k--) {
      if (prefix[k] * 2 < budget) {
        break;
      }
      int level = cur.get(k).level();
      if (level < bestLevel) {
        best = k;
        bestLevel = level;
      }
    }
    return best;
  }

  /**
   * Emits {@code cur} as a chunk after checking its real token count; when additive estimates were too optimistic,
   * trailing pieces are removed from {@code cur} (it is modified) and their number returned for re-packing.
   */
  private int emit(List<Piece> cur, int budget, List<String> path, State st, int knownTokens,
      boolean hasOverlap) {
    int removed = 0;
    String text = join(cur);
    int tokens = knownTokens >= 0 ? knownTokens : counter.count(text);
    while (tokens > budget && cur.size() > 1) {
      if (hasOverlap && cur.size() == 2) {
        // Never leave a chunk that is only overlap: give up the overlap instead.
        cur.remove(0);
        hasOverlap = false;
      } else {
        cur.remove(cur.size() - 1);
        removed++;
      }
      text = join(cur);
      tokens = counter.count(text);
    }
    if (tokens > budget) {
      throw new IllegalStateException("chunk of " + tokens + " tokens exceeds " + budget + " after splitting");
    }
    String doc = cur.get(0).block().block().source().document();
    int first = Integer.MAX_VALUE;
    int last = 0;
    boolean table = false;
    List<String> chunkPath = null;
    for (Piece p : cur) {
      SourceRef r = p.block().block().source();
      first = Math.min(first, r.page());
      last = Math.max(last, r.lastPage());
      table |= p.table();
      if (chunkPath == null && p.block().block().kind() != BlockKind.HEADING) {
        chunkPath = p.block().path();
      }
    }
    if (chunkPath == null) {
      chunkPath = path;
    }
    int index = st.nextIndex.merge(doc, 1, Integer::sum) - 1;
    SourceRef source = SourceRef.builder().document(doc).page(first).lastPage(last).sectionPath(chunkPath).build();
    st.sink.accept(Chunk.builder()
        .text(text)
        .source(source)
        .index(index)
        .tokenCount(tokens)
        .tokenCountExact(counter.exact())
        .table(table)
        .build());
    return removed;
  }

  /**
   * The overlap piece for the chunk after {@code prev}: whole sentences from the end of prev's trailing run of
   * text from one block, at most the overlap budget, never all of prev, and still fitting in front of {@code next}.
   */
  private Piece overlap(List<Piece> prev, Piece next, int budget) {
    if (overlapTokens <= 0 || next.table()) {
      return null;
    }
    Piece last = prev.get(prev.size() - 1);
    if (last.table()) {
      return null;
    }
    int j = prev.size() - 1;
    while (j > 0 && prev.get(j - 1).src() == last.src() && !prev.get(j - 1).table()) {
      j--;
    }
    int runStart = prev.get(j).start();
    int chunkStart = j == 0 ? runStart : -1;
    List<int[]> sentences = SentenceSplitter.split(last.src(), runStart, last.end(), locale(last.block()));
    int chosen = -1;
    for (int k = sentences.size() - 1; k >= 0; k--) {
      int s = sentences.get(k)[0];
      if (s <= chunkStart) {
        break;
      }
      if (counter.count(last.src().substring(s, last.end())) > overlapTokens) {
        break;
      }
      chosen = k;
    }
    while (chosen >= 0 && chosen < sentences.size()) {
      int s = sentences.get(chosen)[0];
      Piece ov = new Piece(last.block(), last.src(), s, last.end(), false,
          counter.count(last.src().substring(s, last.end())), LEVEL_SENTENCE);
      if ((long) ov.tokens() + next.tokens() + 1 <= budget) {
        return ov;
      }
      chosen++;
    }
    return null;
  }

  private static String join(List<Piece> pieces) {
    StringBuilder sb = new StringBuilder();
    int i = 0;
    while (i < pieces.size()) {
      Piece p = pieces.get(i);
      int j = i;
      while (j + 1 < pieces.size() && pieces.get(j + 1).src() == p.src()
          && pieces.get(j + 1).start() >= pieces.get(j).end()) {
        j++;
      }
      if (sb.length() > 0) {
        sb.append(BLOCK_SEPARATOR);
      }
      sb.append(p.src(), p.start(), pieces.get(j).end());
      i = j + 1;
    }
    return sb.toString();
  }

  private static void addTrimmed(String src, int s, int e, List<int[]> out) {
    int[] r = trim(src, s, e);
    if (r[0] < r[1]) {
      out.add(r);
    }
  }

  private static int[] trim(String src, int s, int e) {
    while (s < e && Character.isWhitespace(src.charAt(s))) {
      s++;
    }
    while (e > s && Character.isWhitespace(src.charAt(e - 1))) {
      e--;
    }
    return new int[] {s, e};
  }
}
