package dev.securetag.core;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.List;
import org.immutables.value.Value;

/** A table recovered from a document: rows of cell strings, the first {@link #headerRows()} rows being headers. */
@Value.Immutable
@SecuretagStyle
@JsonSerialize(as = ImmutableTable.class)
@JsonDeserialize(builder = Table.Builder.class)
public interface Table {

  /** All rows, header rows first; every row has {@link #columnCount()} cells. */
  List<List<String>> rows();

  /** How many leading rows are header rows (0 or more). */
  default int headerRows() {
    return rows().isEmpty() ? 0 : 1;
  }

  /** Number of columns (the widest row). */
  @Value.Derived
  default int columnCount() {
    int n = 0;
    for (List<String> row : rows()) {
      n = Math.max(n, row.size());
    }
    return n;
  }

  /** The header rows. */
  default List<List<String>> header() {
    return rows().subList(0, Math.min(headerRows(), rows().size()));
  }

  /** The body rows (everything after the header). */
  default List<List<String>> body() {
    return rows().subList(Math.min(headerRows(), rows().size()), rows().size());
  }

  /** A GitHub-flavoured Markdown rendering; pipes and newlines inside cells are escaped. */
  default String toMarkdown() {
    StringBuilder sb = new StringBuilder();
    int cols = columnCount();
    List<List<String>> rows = rows();
    for (int r = 0; r < rows.size(); r++) {
      appendRow(sb, rows.get(r), cols);
      if (r == 0) {
        sb.append('|');
        for (int c = 0; c < cols; c++) {
          sb.append(" --- |");
        }
        sb.append('\n');
      }
    }
    return sb.toString().stripTrailing();
  }

  private static void appendRow(StringBuilder sb, List<String> row, int cols) {
    sb.append('|');
    for (int c = 0; c < cols; c++) {
      String cell = c < row.size() ? row.get(c) : "";
      sb.append(' ').append(cell.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")).append(" |");
    }
    sb.append('\n');
  }

  @Value.Check
  default void check() {
    if (headerRows() < 0 || headerRows() > rows().size()) {
      throw new IllegalArgumentException(
          "Table.headerRows " + headerRows() + " outside 0.." + rows().size());
    }
  }

  static Table of(List<List<String>> rows) {
    return builder().rows(rows).build();
  }

  static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link Table}. */
  final class Builder extends ImmutableTable.Builder {}
}
