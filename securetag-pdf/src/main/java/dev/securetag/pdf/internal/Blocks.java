package dev.securetag.pdf.internal;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Line patterns: list markers, numbered headings of security standards, and page-number furniture. */
final class Blocks {

  private static final Pattern BULLET_ONLY = Pattern.compile("^[•◦▪▫‣∙·●○■□*–—-]$");
  private static final Pattern LIST_START =
      Pattern.compile("^([•◦▪▫‣∙·●○■□*–—-]|\\(?[a-z][.)]|\\(\\d{1,2}\\)|\\d{1,2}[.)]|\\(?[ivx]{1,4}\\))\\s+\\S.*");
  private static final Pattern ISO_ANNEX = Pattern.compile("^A\\.(\\d+(?:\\.\\d+)*)\\s+\\S.*");
  private static final Pattern NIST = Pattern.compile("^[A-Z]{2}-\\d+(\\(\\d+\\))?\\s+\\S.*");
  private static final Pattern REQUIREMENT =
      Pattern.compile("^(?:Requirement|Requisito|Requerimiento)\\s+(\\d+(?:\\.\\d+){0,3})\\b.*");
  private static final Pattern PCI_APPENDIX = Pattern.compile("^A[1-3]((?:\\.\\d+){1,2})\\s+\\S.*");
  private static final Pattern GENERIC = Pattern.compile("^(\\d+(?:\\.\\d+)*)\\.?\\s+\\p{Lu}.*");
  private static final Pattern PAGE_NUMBER = Pattern.compile(
      "^(?:(?:page|página|pagina|pág\\.?|pag\\.?|p\\.)\\s*)?[-–—]?\\s*\\d{1,4}\\s*[-–—]?"
          + "(?:\\s*(?:of|de|/)\\s*\\d{1,4})?$|^[ivxlc]{1,6}$");

  private Blocks() {}

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
    if (m.matches()) {
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
