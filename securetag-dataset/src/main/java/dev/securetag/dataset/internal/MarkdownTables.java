package dev.securetag.dataset.internal;

import java.util.ArrayList;
import java.util.List;

/** Finds GitHub-style Markdown tables (as {@code Table.toMarkdown} writes them) in chunk text and reads their cells. */
public final class MarkdownTables {
  /** A table found in text: header cells, body rows, and the text around it. */
  public record Parsed(List<String> header, List<List<String>> rows) {}

  private MarkdownTables() {}

  /** Every table in {@code text}; a table needs a header line, a separator line and at least one row. */
  public static List<Parsed> find(String text) {
    List<Parsed> out = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    int i = 0;
    while (i < lines.length) {
      if (isRow(lines[i]) && i + 1 < lines.length && isSeparator(lines[i + 1])) {
        List<String> header = cells(lines[i]);
        List<List<String>> rows = new ArrayList<>();
        int j = i + 2;
        while (j < lines.length && isRow(lines[j])) {
          if (!isSeparator(lines[j])) {
            rows.add(cells(lines[j]));
          }
          j++;
        }
        if (!rows.isEmpty()) {
          out.add(new Parsed(header, rows));
        }
        i = j;
      } else {
        i++;
      }
    }
    return out;
  }

  /** The text with every table line removed (for rules that read prose). */
  public static String prose(String text) {
    StringBuilder sb = new StringBuilder();
    for (String line : text.split("\n", -1)) {
      if (!isRow(line)) {
        sb.append(line).append('\n');
      }
    }
    return sb.toString().strip();
  }

  public static boolean isRow(String line) {
    String t = line.strip();
    return t.length() >= 2 && t.startsWith("|") && t.endsWith("|");
  }

  private static boolean isSeparator(String line) {
    String t = line.strip();
    if (!isRow(t)) {
      return false;
    }
    for (String c : cells(t)) {
      if (!c.matches(":?-{3,}:?")) {
        return false;
      }
    }
    return true;
  }

  /** Cells of one row, unescaping {@code \|} and {@code <br>} the way {@code Table.toMarkdown} escapes them. */
  public static List<String> cells(String line) {
    String t = line.strip();
    t = t.substring(1, t.length() - 1);
    List<String> cells = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      if (c == '\\' && i + 1 < t.length() && t.charAt(i + 1) == '|') {
        cur.append('|');
        i++;
      } else if (c == '|') {
        cells.add(cur.toString().replace("<br>", "\n").strip());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    cells.add(cur.toString().replace("<br>", "\n").strip());
    return cells;
  }
}
