package dev.securetag.pdf.internal;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Line patterns: list markers, numbered headings of security standards, and page-number furniture. */
final class Blocks {

  private static final Pattern BULLET_ONLY = Pattern.compile("^[•◦▪▫‣∙·●○■□*–—▶►▸▹➢➤✓✔-]$");
  private static final Pattern LIST_START =
      Pattern.compile("^([•◦▪▫‣∙·●○■□*–—▶►▸▹➢➤✓✔-]|\\(?[a-z][.)]|\\(\\d{1,2}\\)|\\d{1,2}[.)]|\\(?[ivx]{1,4}\\))\\s+\\S.*");
  private static final Pattern ISO_ANNEX = Pattern.compile("^A\\.(\\d+(?:\\.\\d+)*)\\s+\\S.*");
  private static final Pattern NIST = Pattern.compile("^[A-Z]{2}-\\d+(\\(\\d+\\))?\\s+\\S.*");
  private static final Pattern REQUIREMENT =
      Pattern.compile("^(?:Requirement|Requisito|Requerimiento)\\s+(\\d+(?:\\.\\d+){0,3})\\b.*");
  private static final Pattern PCI_APPENDIX = Pattern.compile("^A[1-3]((?:\\.\\d+){1,2})\\s+\\S.*");
  private static final Pattern GENERIC = Pattern.compile("^(\\d+(?:\\.\\d+)*)\\.?\\s+\\p{Lu}.*");
  private static final Pattern PAGE_NUMBER = Pattern.compile(
      "^(?:(?:page|página|pagina|pág\\.?|pag\\.?|p\\.)\\s*)?[-–—]?\\s*\\d{1,4}\\s*[-–—]?"
          + "(?:\\s*(?:of|de|/)\\s*\\d{1,4})?$|^[ivxlc]{1,6}$");

  private static final Pattern YEAR = Pattern.compile("(?<!\\d)(?:19|20)\\d\\d(?!\\d)");
  private static final Pattern DATE_WORDS = Pattern.compile("(?iu)\\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|"
      + "apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|enero|"
      + "febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|janvier|février|mars|"
      + "avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|januar|februar|märz|juni|juli|oktober|"
      + "dezember|version|issue|revision|edition|release|draft|updated|v\\d+(?:\\.\\d+)*)\\b");
  private static final Pattern NUMERIC_DATE =
      Pattern.compile("(?<!\\d)(?:\\d{4}[/.-]\\d{1,2}[/.-]\\d{1,2}|\\d{1,2}[/.-]\\d{1,2}[/.-]\\d{4})(?!\\d)");

  private static final Pattern DOT_LEADER = Pattern.compile("(?:\\.\\s?){4,}|…{2,}|(?:·\\s?){4,}");
  private static final Pattern PAGE_REF = Pattern.compile("^(?:\\d{1,4}|[ivxlc]{1,6})$");

  private Blocks() {}

  /**
   * A line of a table of contents or an index: dot leaders, or a title with the page number set apart at the end
   * ("3 Tooling ........ 2", "2 Results   1", "lockout, 1").
   */
  static boolean isTocLine(java.util.List<Segment> row) {
    String lastText = row.get(row.size() - 1).text();
    int end = lastText.length() - 1;
    while (end >= 0 && lastText.charAt(end) == ' ') {
      end--;
    }
    // Every entry ends in a page number (arabic or roman); most lines of a page do not, and end the test here.
    if (end < 0 || !(Character.isDigit(lastText.charAt(end)) || "ivxlc".indexOf(lastText.charAt(end)) >= 0)) {
      return false;
    }
    for (Segment s : row) {
      String t = s.text();
      if ((t.contains(". .") || t.contains("....") || t.contains("…") || t.contains("· ·"))
          && DOT_LEADER.matcher(t).find() && Character.isDigit(lastText.charAt(end))) {
        return true;
      }
    }
    if (row.size() < 2 || !PAGE_REF.matcher(row.get(row.size() - 1).text().trim()).matches()) {
      return false;
    }
    int letters = 0;
    for (int i = 0; i < row.size() - 1; i++) {
      letters += (int) row.get(i).text().chars().filter(Character::isLetter).count();
    }
    return letters >= 2;
  }

  /** A short line that is a date or a version line ("5 August 2021", "2014/09/29", "Version 2.04, 2007/03/14"). */
  static boolean isDateLine(String s) {
    if (s.length() > 60 || s.split("\\s+").length > 8) {
      return false;
    }
    if (NUMERIC_DATE.matcher(s).find()) {
      return true;
    }
    return YEAR.matcher(s).find() && DATE_WORDS.matcher(s).find();
  }

  static boolean isBulletMarker(String s) {
    return BULLET_ONLY.matcher(s).matches();
  }

  static boolean isListStart(String s) {
    return LIST_START.matcher(s).matches();
  }

  static boolean isPageNumber(String s) {
    return PAGE_NUMBER.matcher(s.trim().toLowerCase(Locale.ROOT)).matches();
  }

  /**
   * The heading level implied by a standard's numbering ({@code A.5} is 1, {@code A.5.1} 2, {@code 6.1.2} 3,
   * {@code AC-2} 2 and {@code AC-2(1)} 3 under a family heading), or 0 when the line is not numbered.
   */
  static int numberedLevel(String s) {
    Matcher m = ISO_ANNEX.matcher(s);
    if (m.matches()) {
      return m.group(1).split("\\.").length;
    }
    m = NIST.matcher(s);
    if (m.matches()) {
      return m.group(1) == null ? 2 : 3;
    }
    m = REQUIREMENT.matcher(s);
    if (m.matches()) {
      return m.group(1).split("\\.").length;
    }
    m = PCI_APPENDIX.matcher(s);
    if (m.matches()) {
      return m.group(1).split("\\.").length;
    }
    m = GENERIC.matcher(s);
    if (m.matches() && !isDateLine(s)) {
      return m.group(1).split("\\.").length;
    }
    return 0;
  }

  /** A short line that could be a heading by its shape (few words, no sentence-ending punctuation). */
  static boolean headingShaped(String s, boolean numbered) {
    if (s.length() > 120 || s.length() < 2) {
      return false;
    }
    int words = 1;
    for (int i = 1; i < s.length(); i++) {
      if (s.charAt(i) == ' ' && s.charAt(i - 1) != ' ') {
        words++;
      }
    }
    if (words > 16) {
      return false;
    }
    char last = s.charAt(s.length() - 1);
    if (last == ',' || last == ';' || last == ':') {
      return false;
    }
    return numbered || last != '.';
  }

  /** Normalised form used to recognise running headers and footers: lower case, digits folded. */
  static String furnitureKey(String s) {
    return s.toLowerCase(Locale.ROOT).replaceAll("\\d+", "#").replaceAll("\\s+", " ").trim();
  }
}
